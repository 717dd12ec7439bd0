"""Reporters: a run's diagnostics and file errors as concise or full text, JSON, or statistics.

The JSON schema (documented in the README) is a list of records; a file that could not be linted
is a record too, with code E902 (as in Ruff), so a consumer reads a single stream.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Sequence

from kerastips.diagnostic import Diagnostic, FileError
from kerastips.engine import SourceError, decode

FORMATS = ("concise", "full", "json")
FILE_ERROR_CODE = "E902"
CONTEXT_LINES = 2  # lines of source shown above and below a finding in the full format
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Python's line breaks, which positions count


def render(
    diagnostics: Sequence[Diagnostic],
    errors: Sequence[FileError],
    output_format: str = "concise",
    statistics: bool = False,
) -> str:
    """The report text for stdout (or --output-file)."""
    if output_format == "json":
        return _statistics_json(diagnostics) if statistics else to_json(diagnostics, errors)
    if statistics:
        return _statistics_text(diagnostics) + summary(diagnostics, errors)
    if output_format == "full":
        sources = _Sources()
        body = "".join(_full(d, sources.lines(d.path)) + "\n" for d in diagnostics)
    else:
        body = "".join(_concise(d) + "\n" for d in diagnostics)
    return body + summary(diagnostics, errors)


def file_error_line(error: FileError) -> str:
    """How a file error is shown on stderr."""
    return f"{error.path}: error: {error.message}"


def summary(diagnostics: Sequence[Diagnostic], errors: Sequence[FileError]) -> str:
    if not diagnostics and not errors:
        return "All checks passed!\n"
    found = f"Found {_plural(len(diagnostics), 'error')}"
    if errors:
        found += f"; {_plural(len(errors), 'file')} could not be linted"
    return found + ".\n"


def to_json(diagnostics: Sequence[Diagnostic], errors: Sequence[FileError]) -> str:
    everything = sorted([*diagnostics, *map(_as_diagnostic, errors)])
    return json.dumps([_record(d) for d in everything], indent=2) + "\n"


def _record(d: Diagnostic) -> dict:
    return {
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "severity": d.severity,
        "path": d.path,
        "location": {"row": d.line, "column": d.column},
        "end_location": {"row": d.end_line, "column": d.end_column},
        "fix": {"available": d.fix_available, "applicability": d.fix_applicability},
    }


def _as_diagnostic(error: FileError) -> Diagnostic:
    return Diagnostic(error.path, 1, 1, 1, 1, FILE_ERROR_CODE, "file-error", error.message, "error")


def _concise(d: Diagnostic) -> str:
    fixable = "[*] " if d.fix_applicability == "safe" else ""  # as Ruff: fixable by `fix --apply`
    return f"{d.location}: {d.code} {fixable}{d.message}"


def _full(d: Diagnostic, lines: list[str] | None) -> str:
    """The concise line, then the source around the finding with a caret underline (as Ruff)."""
    head = _concise(d) + "\n"
    if not lines or d.line > len(lines):
        return head
    first, last = max(1, d.line - CONTEXT_LINES), min(len(lines), d.line + CONTEXT_LINES)
    while first < d.line and not lines[first - 1].strip():
        first += 1
    while last > d.line and not lines[last - 1].strip():
        last -= 1
    width = len(str(last))
    gutter = " " * width + " |"
    out = [gutter]
    for number in range(first, last + 1):
        text = lines[number - 1]
        out.append(f"{number:>{width}} | {text}".rstrip())
        if number == d.line:
            start = d.column - 1
            stop = d.end_column - 1 if d.end_line == d.line else len(text.rstrip())
            indent = "".join(c if c == "\t" else " " for c in text[:start])  # keeps tabs aligned
            out.append(f"{gutter} {indent}{'^' * max(1, stop - start)} {d.code}")
    out.append(gutter)
    return head + "\n".join(out) + "\n"


class _Sources:
    """Source lines of reported files, read once each; None when the file cannot be read."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self._cache:
            try:
                self._cache[path] = _LINE_BREAK.split(decode(Path(path).read_bytes()))
            except (OSError, SourceError):
                self._cache[path] = None
        return self._cache[path]


def _statistics_text(diagnostics: Sequence[Diagnostic]) -> str:
    rows = _statistics(diagnostics)
    width = max((len(str(count)) for _, _, count in rows), default=1)
    return "".join(f"{count:>{width}}\t{code}\t{name}\n" for code, name, count in rows)


def _statistics_json(diagnostics: Sequence[Diagnostic]) -> str:
    rows = _statistics(diagnostics)
    records = [{"code": code, "name": name, "count": count} for code, name, count in rows]
    return json.dumps(records, indent=2) + "\n"


def _statistics(diagnostics: Sequence[Diagnostic]) -> list[tuple[str, str, int]]:
    """(code, name, count), most frequent first, like `ruff --statistics`."""
    counts = Counter((d.code, d.name) for d in diagnostics)
    rows = [(code, name, count) for (code, name), count in counts.items()]
    return sorted(rows, key=lambda row: (-row[2], row[0]))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def fix_summary(results, applied: bool, unsafe: bool, errors: int = 0) -> str:
    """What `kerastips fix` did or would do, and what is left for the user: one line for stderr.

    `errors` counts the files that could not be read, parsed or written (their lines come first)."""
    fixes = sum(len(result.applied) for result in results)
    files = sum(1 for result in results if result.changed)
    if not fixes:
        line = "No fixes available."
    else:
        verb = "Fixed" if applied else "Would fix"
        line = f"{verb} {_plural(fixes, 'finding')} in {_plural(files, 'file')}."
    left = [d for result in results for d in result.remaining]
    hidden = sum(1 for d in left if d.fix_applicability == "unsafe")
    if left:
        line += f" {_plural(len(left), 'finding')} left"
        if hidden and not unsafe:
            line += f" ({hidden} with unsafe fixes: add --unsafe-fixes)"
        line += "."
    if errors:
        line += f" {_plural(errors, 'file')} could not be fixed."
    return line + "\n"
