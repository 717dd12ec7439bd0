"""How deeply a source nests, checked before libcst parses it.

libcst's native parser recurses on the C stack for each level of nesting: a chain some thousands
of levels deep (`x.a.a...`, `lambda: lambda: ...`, `a and b and ...`, an `elif` ladder) overflows
it and the process dies with a segmentation fault, and long chains parse in quadratic time. CPython
refuses such code too (a RecursionError while compiling); real code nests a few dozen levels.

The check is cheap for ordinary files: one regex pass bounds the nesting from the length of the
longest logical line, and only a source whose bound is high is parsed by CPython and measured.
"""

from __future__ import annotations

import ast
import re

MAX_DEPTH = 1000  # a third of the depth where libcst's parser first crashed (lambdas, 8 MiB stack)
# Indentation nests across lines: at most 100 levels (both parsers' limit), 2 tree levels each.
_INDENTATION = 200

_TOKENS = re.compile(
    r"""
      (?P<string>[bBrRuUfF]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''
                                  |"(?:\\.|[^\\"\n])*"|'(?:\\.|[^\\'\n])*'))
    | (?P<comment>\#[^\n]*)
    | (?P<open>[(\[{]) | (?P<close>[)\]}])
    | (?P<continued>\\\r?\n) | (?P<newline>\n)
    """,
    re.VERBOSE | re.DOTALL,
)


def may_be_too_deep(source: str) -> bool:
    """False when the source certainly nests at most MAX_DEPTH levels; True when it may not."""
    return _bound(source) + _INDENTATION > MAX_DEPTH


def _bound(source: str) -> int:
    """An upper bound on the nesting within one statement: every level takes at least one
    character of its logical line (a plain string counts as one; comments as none), and an
    `elif` ladder one `elif` per level."""
    if len(source) + _INDENTATION <= MAX_DEPTH:
        return len(source)
    longest = start = brackets = uncounted = 0
    for match in _TOKENS.finditer(source):
        kind = match.lastgroup
        if kind == "open":
            brackets += 1
        elif kind == "close":
            brackets = max(0, brackets - 1)
        elif kind == "newline" and brackets == 0:
            longest = max(longest, match.start() - start - uncounted)
            start, uncounted = match.end(), 0
        elif kind == "comment":
            uncounted += len(match.group())
        elif kind == "string":
            text = match.group()
            if "f" not in text[:text.index(text[-1])].lower():
                uncounted += len(text) - 1
            elif _unbalanced(text):  # Python 3.12 lets quotes nest in f-strings: no telling
                return len(source)
    return max(longest, len(source) - start - uncounted, source.count("elif"))


def _unbalanced(fstring: str) -> bool:
    fields = fstring.replace("{{", "").replace("}}", "")
    return fields.count("{") != fields.count("}")


def depth(source: str) -> int | None:
    """The nesting depth of the source's syntax tree as libcst builds it (`a and b and c` nests
    there, unlike in Python's tree); None when Python reports a syntax error. More than MAX_DEPTH
    when Python's own parser gives up on the nesting."""
    try:
        tree = compile(source, "<source>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError:
        return None
    except (RecursionError, MemoryError):
        return MAX_DEPTH + 1
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, ast.BoolOp):
            level += len(node.values) - 2
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest
