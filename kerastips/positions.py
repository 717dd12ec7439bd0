"""Positions of the few nodes a file reports, exactly as libcst's PositionProvider gives them.

PositionProvider does line and column arithmetic and builds a CodeRange for every node of the
module, which costs more than parsing it. Here one plain code generation only notes token indices
(start and end of each node's syntactic span, as PositionProvider records them); characters, lines
and columns are then counted for the wanted nodes alone.
"""

from __future__ import annotations

import bisect
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Iterable

import libcst as cst
from libcst._nodes.internal import CodegenState  # what PositionProvider's own state extends
from libcst.metadata import CodePosition, CodeRange

_NEWLINE = re.compile(r"\r\n?|\n")  # PositionProvider's line breaks (no form feed, no U+2028)


def node_positions(module: cst.Module, nodes: Iterable[cst.CSTNode | None]) -> dict[cst.CSTNode, CodeRange]:
    """The CodeRange of each of `nodes` that lies in `module` (others are left out)."""
    state = _SpanState(module.default_indent, module.default_newline)
    module._codegen(state)
    lines = _Lines(state.tokens)
    spans = state.spans
    return {
        node: CodeRange(lines.at(spans[node][0]), lines.at(spans[node][1]))
        for node in nodes
        if node in spans
    }


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
        try:
            yield
        finally:
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

    def at(self, index: int) -> CodePosition:
        offset = self.offsets[index]
        breaks = bisect.bisect_right(self.ends, offset)
        return CodePosition(breaks + 1, offset - (self.ends[breaks - 1] if breaks else 0))
