"""Positions of the few nodes a file reports, exactly as libcst's PositionProvider gives them.

PositionProvider does line and column arithmetic and builds a CodeRange for every node of the
module, which costs more than parsing it. Here code generation only notes token indices (the start
and end of each node's span, recorded as PositionProvider records them); lines and columns are
counted for the wanted nodes alone. And when the statements holding those nodes are known, only
the top-level statements around them are generated, each placed at the line where Python's own
parser starts it (and checked against the source text); the rest of the module is skipped.
"""

from __future__ import annotations

import ast
import bisect
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Iterable, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState  # what PositionProvider's own state extends
from libcst.metadata import CodePosition, CodeRange

_NEWLINE = re.compile(r"\r\n?|\n")  # PositionProvider's line breaks (no form feed, no U+2028)
# Where a compound statement keeps the statements (and blocks of statements) nested in it.
_NESTED = ("body", "orelse", "handlers", "finalbody", "cases")


def node_positions(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode | None],
    source: str | None = None,
    statements: Iterable[cst.CSTNode | None] = (),
) -> dict[cst.CSTNode, CodeRange]:
    """The CodeRange of each of `nodes` that lies in `module` (others are left out).

    `source` is the text `module` was parsed from, and `statements` the statements holding the
    nodes: with them, only the top-level statements around those are generated."""
    nodes = [node for node in nodes if node is not None]
    if source is not None:
        found = _in_statements(module, nodes, source, [s for s in statements if s is not None])
        if found is not None:
            return found
    state = _generate(module, module)
    lines = _Lines(state.tokens)
    return {node: lines.span(state.spans[node]) for node in nodes if node in state.spans}


def _in_statements(module: cst.Module, nodes: Sequence[cst.CSTNode], source: str,
                   statements: Sequence[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange] | None:
    """The nodes' positions from the top-level statements holding `statements`; None when a node
    is not in them or a statement cannot be placed, for the whole module to be generated."""
    owner = _top_level_owners(module)
    indices = sorted({owner.get(id(statement), -1) for statement in statements})
    if not indices or indices[0] < 0:
        return None
    first_lines = _first_lines(module, source)
    if first_lines is None:
        return None
    line_starts = [0, *(match.end() for match in _NEWLINE.finditer(source))]
    found: dict[cst.CSTNode, CodeRange] = {}
    for index in indices:
        statement = module.body[index]
        state = _generate(module, statement)
        lines = _Lines(state.tokens)
        shift = first_lines[index] - lines.at(state.spans[statement][0]).line
        if not (0 <= shift < len(line_starts) and source.startswith("".join(state.tokens), line_starts[shift])):
            return None  # not where Python puts it: let the whole module say
        for node in nodes:
            if node in state.spans:
                found[node] = lines.span(state.spans[node], shift)
    return found if len(found) == len(set(nodes)) else None


def _top_level_owners(module: cst.Module) -> dict[int, int]:
    """id of every statement (and block) -> the index of the top-level statement holding it."""
    owner: dict[int, int] = {}
    for index, statement in enumerate(module.body):
        stack: list = [statement]
        while stack:
            node = stack.pop()
            owner[id(node)] = index
            for name in _NESTED:
                part = getattr(node, name, None)
                if isinstance(part, cst.CSTNode):
                    stack.append(part)
                elif isinstance(part, (list, tuple)):
                    stack.extend(part)
    return owner


def _first_lines(module: cst.Module, source: str) -> list[int] | None:
    """The line where each top-level statement starts (its first token, after comments and
    decorators), by Python's parser; None when it does not parse the source as libcst did."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines, at = [], 0
    for statement in module.body:
        if at >= len(body):
            return None
        lines.append(body[at].lineno)
        # `a = 1; b = 2` is one libcst statement line, two statements for ast
        at += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
    return lines if at == len(body) else None


def _generate(module: cst.Module, node: cst.CSTNode) -> "_SpanState":
    state = _SpanState(module.default_indent, module.default_newline)
    node._codegen(state)
    return state


@dataclass
class _SpanState(CodegenState):
    """Code generation noting each node's span as token indices, as PositionProvider records
    positions: the syntactic span where the node records one (possibly hoisted from a child's),
    else the whitespace-inclusive one."""

    spans: dict = field(default_factory=dict)
    _starts: list = field(default_factory=list)

    def pop_trailing_newline(self) -> None:
        pass  # PositionProvider counts the popped newline; keeping it keeps the counts the same

    @contextmanager
    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        start = len(self.tokens)
        yield  # not in a try: when code generation fails (too deep), its error goes up as it is
        spans = self.spans
        spans[node] = (
            spans[start_node][0] if start_node is not None else start,
            spans[end_node][1] if end_node is not None else len(self.tokens),
        )

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.spans:
            self.spans[node] = (start, len(self.tokens))


class _Lines:
    """Token index -> (line, column), counting line breaks as PositionProvider does: per token,
    so a `\\r` ending one token and a `\\n` starting the next are two breaks."""

    def __init__(self, tokens: list[str]) -> None:
        self.offsets = [0, *accumulate(map(len, tokens))]
        text = "".join(tokens)
        self.ends = [match.end() for match in _NEWLINE.finditer(text)]
        if "\r\n" in text:
            boundaries = set(self.offsets)
            split = [m.start() + 1 for m in re.finditer("\r\n", text) if m.start() + 1 in boundaries]
            self.ends = sorted(self.ends + split)

    def at(self, index: int, shift: int = 0) -> CodePosition:
        offset = self.offsets[index]
        breaks = bisect.bisect_right(self.ends, offset)
        return CodePosition(breaks + 1 + shift, offset - (self.ends[breaks - 1] if breaks else 0))

    def span(self, indices: tuple[int, int], shift: int = 0) -> CodeRange:
        return CodeRange(self.at(indices[0], shift), self.at(indices[1], shift))
