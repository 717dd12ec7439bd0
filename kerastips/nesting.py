"""Deeply nested code, which libcst's parser can neither survive nor parse quickly.

libcst's native parser recurses on the C stack for each level of nesting: on the 8 MiB of a main
thread, a chain some thousands of levels deep (`x.a.a...`, `lambda: lambda: ...`, `a and b and
...`, an `elif` ladder) overflowed it and the process died with a segmentation fault. So the
parser runs on a thread with a stack of its own, 512 MiB of address space (only what is used is
ever touched): the chain it would take to overflow that is megabytes long, and would take the
parser days. Long chains parse in quadratic time, though, so the usual shapes of them (a long
line, a long `elif` ladder) are measured with CPython's parser first and refused past MAX_DEPTH
levels; CPython itself refuses to compile a few thousand. Real code nests a few dozen levels.
"""

from __future__ import annotations

import ast
import threading
from typing import Callable, TypeVar

T = TypeVar("T")
MAX_DEPTH = 1000
STACK_SIZE = 512 * 2**20
_LONG_LINE = MAX_DEPTH  # a level takes at least one character


def may_be_too_deep(source: str) -> bool:
    """Whether the source has the makings of nesting past MAX_DEPTH: a line that long, or as many
    `elif`s (cheap tests; `depth` tells)."""
    return source.count("elif") > MAX_DEPTH or max(map(len, source.split("\n"))) > _LONG_LINE


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


def on_big_stack(work: Callable[[], T]) -> T:
    """`work()` on a thread with a STACK_SIZE stack (here, where no such thread can be made)."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # raised again in the caller's thread
            outcome.append((False, exc))

    try:
        previous = threading.stack_size(STACK_SIZE)
    except (ValueError, RuntimeError):  # a platform that does not allow it
        return work()
    try:
        thread = threading.Thread(target=run, name="kerastips-parser", daemon=True)
        thread.start()
    except RuntimeError:  # no memory for the stack
        return work()
    finally:
        threading.stack_size(previous)
    thread.join()
    done, value = outcome[0]
    if not done:
        raise value
    return value
