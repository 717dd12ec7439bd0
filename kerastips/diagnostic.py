"""What the engine reports: findings with resolved positions, and per-file errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Diagnostic:
    """One finding of one rule in one file. Lines and columns are 1-based; end is exclusive.

    In a notebook, `cell` is the 1-based number of the cell among all the notebook's cells and the
    lines count within that cell; it is None in a plain source file.
    """

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
    cell: int | None = None

    @property
    def location(self) -> str:
        """`path:line:column`, or `nb.ipynb:cell 4:line 2:col 5` in a notebook."""
        if self.cell is None:
            return f"{self.path}:{self.line}:{self.column}"
        return f"{self.path}:cell {self.cell}:line {self.line}:col {self.column}"

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line, self.column, self.end_line,
                self.end_column, self.code, self.message)

    def __lt__(self, other: "Diagnostic") -> bool:
        return self.sort_key() < other.sort_key()

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FileError:
    """A file that could not be linted (unreadable, not UTF-8, syntax error, ...).

    `line` and `column` (1-based, the column in characters) say where the reason lies when it has
    a place (a syntax error, a byte that does not decode), else they are None; in a notebook,
    `cell` is the cell (as for a Diagnostic) whose lines they count, None when they count in the
    file itself (invalid JSON) or there is no place."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    cell: int | None = None

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line or 0, self.column or 0, self.message)

    def __lt__(self, other: "FileError") -> bool:
        return self.sort_key() < other.sort_key()
