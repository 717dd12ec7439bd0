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
    """The call with `keyword=value` appended, separated like the arguments already there."""
    args = list(node.args)
    new = cst.Arg(value, keyword=cst.Name(keyword), equal=_EQUAL)
    if args:
        last = args[-1]
        separator = args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) \
            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        new = new.with_changes(comma=last.comma)
        args[-1] = last.with_changes(comma=separator)
    return node.with_changes(args=[*args, new])


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
