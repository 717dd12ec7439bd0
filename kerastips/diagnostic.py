"""What the engine reports: findings with resolved positions, and per-file errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding of one rule in one file. Lines and columns are 1-based; end is exclusive."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    message: str
    severity: str  # "error" | "warning"
    fix_available: bool = False
    fix_applicability: str | None = None  # "safe" | "unsafe" when a fix is available

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, order=True)
class FileError:
    """A file that could not be linted (unreadable, not UTF-8, syntax error, ...)."""

    path: str
    message: str
