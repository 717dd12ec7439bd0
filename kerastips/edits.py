"""Fixes as libcst edits: what a rule proposes, and the small node-building helpers fixes share.

An edit names an original node and a function from that node *as already updated by the other
edits inside it* to its replacement, so nested edits of one fix compose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Union

import libcst as cst

Replacement = Union[cst.CSTNode, cst.FlattenSentinel, cst.RemovalSentinel]


class Applicability(str, Enum):
    SAFE = "safe"  # behaviour-preserving: applied by `fix --apply`
    UNSAFE = "unsafe"  # changes training on purpose: needs `--unsafe-fixes`


@dataclass(frozen=True)
class Edit:
    node: cst.CSTNode
    rewrite: Callable[[cst.CSTNode], Replacement]
    statement: cst.CSTNode  # the statement it touches: fixes touching one statement conflict


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    edits: tuple
    imports: tuple = field(default=())  # (module, name or None) pairs the fix needs

    @property
    def statements(self) -> set:
        return {id(edit.statement) for edit in self.edits}


def dotted(text: str) -> cst.BaseExpression:
    """`"keras.layers.Activation"` as an expression node."""
    return cst.parse_expression(text)


def call(func: cst.BaseExpression | str, *args: cst.BaseExpression, **kwargs: cst.BaseExpression) -> cst.Call:
    """A call written the way people write it: `f(a, b, k=v)`."""
    func = dotted(func) if isinstance(func, str) else func
    items = [cst.Arg(value) for value in args] + [
        cst.Arg(value, keyword=cst.Name(name), equal=_EQUAL) for name, value in kwargs.items()
    ]
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(func, [a.with_changes(comma=comma) for a in items[:-1]] + items[-1:])


def without_argument(node: cst.Call, argument: cst.Arg) -> cst.Call:
    """The call with one argument dropped; the argument before it takes its comma, so what
    followed it (a line break, the closing parenthesis) stays as it was."""
    args = list(node.args)
    index = next((i for i, arg in enumerate(args) if arg.deep_equals(argument)), None)
    if index is None:
        return node
    removed = args.pop(index)
    if index:
        args[index - 1] = args[index - 1].with_changes(comma=removed.comma)
    return node.with_changes(args=args)


def with_argument(node: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """The call with `keyword=value` appended, separated like the arguments already there: on the
    same line after `f(a, b`, on a line of its own, as indented as the others, where they are one
    a line; the closing parenthesis, a trailing comma and the last argument's comment stay where
    they were."""
    args = list(node.args)
    new = cst.Arg(value, keyword=cst.Name(keyword), equal=_EQUAL)
    if not args:
        return node.with_changes(args=[new])
    last = args[-1]
    trailing = isinstance(last.comma, cst.Comma)
    tail = last.comma.whitespace_after if trailing else last.whitespace_after_arg  # up to `)`
    line = _argument_indent(node)
    if isinstance(tail, cst.ParenthesizedWhitespace) and line is not None:
        # `)` on a line of its own: the new argument goes on the line before it, as indented as
        # the others; the last argument keeps its comment, the new one ends as the last did.
        separator = cst.Comma(whitespace_after=tail.with_changes(
            empty_lines=[], indent=line.indent, last_line=line.last_line))
        end = tail.with_changes(first_line=cst.TrailingWhitespace())
    else:
        previous = args[-2].comma if len(args) > 1 else None
        separator = _without_comments(previous) if isinstance(previous, cst.Comma) \
            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        end = tail
    if trailing:
        new = new.with_changes(comma=last.comma.with_changes(whitespace_after=end))
    else:
        new = new.with_changes(whitespace_after_arg=end)
    args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
    return node.with_changes(args=[*args, new])


def _argument_indent(node: cst.Call) -> cst.ParenthesizedWhitespace | None:
    """The line break before the call's last argument that starts a line (after the comma before
    it, or after `(`), for the indentation of a new argument; None when none starts a line."""
    for whitespace in [*(arg.comma.whitespace_after for arg in reversed(node.args[:-1])
                         if isinstance(arg.comma, cst.Comma)), node.whitespace_before_args]:
        if isinstance(whitespace, cst.ParenthesizedWhitespace):
            return whitespace
    return None


def _without_comments(comma: cst.Comma) -> cst.Comma:
    """A copy of a comma that ends a line, without the comment and comment lines that follow it."""
    if isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        return comma.with_changes(whitespace_after=comma.whitespace_after.with_changes(
            first_line=cst.TrailingWhitespace(), empty_lines=[]))
    return comma


def replace_argument_value(node: cst.Call, argument: cst.Arg, value: cst.BaseExpression,
                           keyword: str | None = None) -> cst.Call:
    args = []
    for arg in node.args:
        if arg.deep_equals(argument):
            arg = arg.with_changes(value=value)
            if keyword is not None:
                arg = arg.with_changes(keyword=cst.Name(keyword), equal=arg.equal if arg.keyword else _EQUAL)
        args.append(arg)
    return node.with_changes(args=args)


def replace_keyword(node: cst.Call, argument: cst.Arg, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """The call with one keyword argument swapped for another (`validation_data=` -> `validation_split=`)."""
    return node.with_changes(args=[
        arg.with_changes(keyword=cst.Name(keyword), value=value) if arg.deep_equals(argument) else arg
        for arg in node.args
    ])


def number(value: float | int) -> cst.BaseExpression:
    text = repr(value)
    if isinstance(value, float) and "e" not in text and len(text) > 12:
        text = f"{value:.6g}"
    return cst.parse_expression(text)


_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
