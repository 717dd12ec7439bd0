"""The rule framework: one class per rule, with its metadata, options and tested examples."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, Mapping

import libcst as cst

from kerastips.edits import Applicability, Fix

if TYPE_CHECKING:
    from kerastips.ir.model import KerasFile


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Option:
    """A rule threshold, set in ``[tool.kerastips.options.<CODE>]`` under its kebab-case name."""

    default: Any
    description: str

    def validate(self, code: str, key: str, value: Any) -> Any:
        kind = type(self.default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ValueError(
                f"options.{code}.{key}: expected {kind.__name__}, got {value!r}"
            )
        return value


@dataclass(frozen=True)
class Invalid:
    """A source example the rule must flag, at exactly these (1-based) lines; ``fixed`` is the
    exact source after `kerastips fix --unsafe-fixes` (None: the rule offers no fix here)."""

    code: str
    lines: tuple[int, ...]
    fixed: str | None = None


@dataclass(frozen=True)
class Finding:
    """What a rule reports: the node it is reported at, and the statement holding it (for noqa)."""

    node: cst.CSTNode
    message: str
    statement: cst.CSTNode | None = None
    fix: Fix | None = None


class Rule:
    """Base class. Subclasses set the class attributes and implement :meth:`check`.

    The class docstring is the rule's documentation page, in Ruff's sections:
    ``## What it does``, ``## Why is this bad?``, ``## Example``, ``## Use instead``,
    ``## Fix safety`` (when the rule has a fix) and ``## References``.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for `kerastips rules` and SARIF
    severity: ClassVar[Severity] = Severity.WARNING
    default_enabled: ClassVar[bool] = True
    fix_applicability: ClassVar[Applicability | None] = None  # None: the rule never fixes
    options: ClassVar[Mapping[str, Option]] = {}
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[Invalid, ...]] = ()

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        given = dict(options or {})
        unknown = sorted(set(given) - set(self.options))
        if unknown:
            raise ValueError(f"options.{self.code}: unknown option(s) {', '.join(unknown)}")
        self.config = {
            key: opt.validate(self.code, key, given[key]) if key in given else opt.default
            for key, opt in self.options.items()
        }

    def check(self, kfile: "KerasFile") -> Iterator[Finding]:
        raise NotImplementedError

    @classmethod
    def doc(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")
