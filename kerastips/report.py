"""Reporters: a run's diagnostics and file errors as concise or full text, JSON, SARIF, GitHub
Actions annotations, or statistics.

In every machine-readable format a file that could not be linted is a finding too, with code E902
(as in Ruff), so a consumer reads a single stream: a JSON record (the schema is in the README), a
SARIF result, an annotation.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

from kerastips import HOMEPAGE, __version__, docs
from kerastips.diagnostic import Diagnostic, FileError
from kerastips.engine import SourceError, decode
from kerastips.notebook import Notebook
from kerastips.rules import ALL_RULES

FORMATS = ("concise", "full", "json", "sarif", "github")
STATISTICS_FORMATS = ("concise", "full", "json")  # a count table is no SARIF log nor annotation
FILE_ERROR_CODE, FILE_ERROR_NAME = "E902", "file-error"
FILE_ERROR_SUMMARY = "A file that could not be linted: unreadable, not valid source"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
CONTEXT_LINES = 2  # lines of source shown above and below a finding in the full format
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Python's line breaks, which positions count


def render(
    diagnostics: Sequence[Diagnostic],
    errors: Sequence[FileError],
    output_format: str = "concise",
    statistics: bool = False,
) -> str:
    """The report text for stdout (or --output-file)."""
    if output_format == "sarif":
        return to_sarif(diagnostics, errors)
    if output_format == "github":
        return to_github(diagnostics, errors)
    if output_format == "json":
        return _statistics_json(diagnostics) if statistics else to_json(diagnostics, errors)
    if statistics:
        return _statistics_text(diagnostics) + summary(diagnostics, errors)
    if output_format == "full":
        sources = _Sources()
        body = "".join(_full(d, sources.lines(d.path, d.cell)) + "\n" for d in diagnostics)
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
    return json.dumps([_record(d) for d, _ in _everything(diagnostics, errors)], indent=2) + "\n"


def _everything(diagnostics: Sequence[Diagnostic],
                errors: Sequence[FileError]) -> list[tuple[Diagnostic, FileError | None]]:
    """Findings and file errors (as E902 findings at their place, else at 1:1) in one stream, by
    path and position; each with the FileError it stands for, None for a finding."""
    stream = [(d, None) for d in diagnostics] + [(_as_diagnostic(error), error) for error in errors]
    return sorted(stream, key=lambda pair: pair[0].sort_key())


def _record(d: Diagnostic) -> dict:
    return {
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "severity": d.severity,
        "path": d.path,
        "cell": d.cell,  # in a notebook the rows count within this cell (1-based among all cells)
        "location": {"row": d.line, "column": d.column},
        "end_location": {"row": d.end_line, "column": d.end_column},
        "fix": {"available": d.fix_available, "applicability": d.fix_applicability},
    }


def _as_diagnostic(error: FileError) -> Diagnostic:
    """A file error as an E902 finding: an empty span at its place, or at 1:1 when it has none."""
    line, column = error.line or 1, error.column or 1
    return Diagnostic(error.path, line, column, line, column, FILE_ERROR_CODE, FILE_ERROR_NAME,
                      error.message, "error", cell=error.cell)


# ---- SARIF 2.1.0, for GitHub code scanning and other SARIF viewers -----------------------------


def to_sarif(diagnostics: Sequence[Diagnostic], errors: Sequence[FileError], root: str | None = None) -> str:
    """One run: the whole rule catalog (as Ruff, so it does not depend on the selection), the
    findings and file errors as results. Relative paths resolve against %SRCROOT%, the working
    directory (`root`) unless the consumer maps it elsewhere, as upload-sarif does."""
    base = Path(os.path.abspath(root or os.getcwd()))
    rules = [_sarif_rule(rule) for rule in ALL_RULES] + [_FILE_ERROR_DESCRIPTOR]
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    base_uri = base.as_uri()
    run = {
        "tool": {
            "driver": {
                "name": "kerastips",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": HOMEPAGE,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": base_uri if base_uri.endswith("/") else base_uri + "/"}},
        "columnKind": "unicodeCodePoints",  # our columns count characters, not UTF-16 units
        "invocations": [{"executionSuccessful": not errors}],
        "results": [_sarif_result(d, error, index[d.code], base) for d, error in _everything(diagnostics, errors)],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _sarif_rule(rule) -> dict:
    page = docs.render(rule)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": docs.section(rule, "What it does") or rule.summary},
        "help": {"text": page, "markdown": page},
        "helpUri": docs.rule_url(rule),
        "defaultConfiguration": {"level": rule.severity.value, "enabled": rule.default_enabled},
    }


_FILE_ERROR_DESCRIPTOR = {
    "id": FILE_ERROR_CODE,
    "name": FILE_ERROR_NAME,
    "shortDescription": {"text": FILE_ERROR_SUMMARY},
    "fullDescription": {"text": FILE_ERROR_SUMMARY + "; the result's message says why."},
    "helpUri": f"{HOMEPAGE}#output",
    "defaultConfiguration": {"level": "error"},
}


def _sarif_result(d: Diagnostic, error: FileError | None, rule_index: int, base: Path) -> dict:
    """`error`: the FileError that `d` stands for, None for a finding."""
    location: dict = {"artifactLocation": _artifact(d.path, base)}
    message = d.message
    if d.cell is not None:  # lines count within the cell, not in the .ipynb's JSON: the message says where
        if error is None:  # a file error's message already starts with its cell and place
            message = f"cell {d.cell}, line {d.line}, col {d.column}: {message}"
    elif error is not None and error.line is not None:  # the place of a syntax error, to the end of its line
        location["region"] = {"startLine": d.line, "startColumn": d.column}
    else:
        location["region"] = {
            "startLine": d.line, "startColumn": d.column, "endLine": d.end_line, "endColumn": d.end_column,
        }
    return {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": d.severity,
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
    }


def _artifact(path: str, base: Path) -> dict:
    """A relative URI under %SRCROOT% when the file lies below it, else an absolute file URI."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(base)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": "%SRCROOT%"}


# ---- GitHub Actions workflow commands ----------------------------------------------------------


def to_github(diagnostics: Sequence[Diagnostic], errors: Sequence[FileError]) -> str:
    """One `::error`/`::warning` command per finding, which Actions shows as an annotation on the
    file and line (a notebook finding, and a file error without a place in the file, on the file as
    a whole; a file error at its line and column)."""
    lines = []
    for d, error in _everything(diagnostics, errors):
        properties = {"title": f"kerastips ({d.code})", "file": d.path}
        if d.cell is None and error is None:
            properties.update(line=d.line, col=d.column, endLine=d.end_line, endColumn=d.end_column)
        elif d.cell is None and error.line is not None:
            properties.update(line=d.line, col=d.column)
        fields = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
        text = _concise(d) if error is None else file_error_line(error)
        lines.append(f"::{d.severity} {fields}::{_escape_data(text)}\n")
    return "".join(lines)


def _escape_data(text: str) -> str:
    """The escaping of the Actions runner (toolkit's escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


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
        self._cache: dict[tuple[str, int | None], list[str] | None] = {}

    def lines(self, path: str, cell: int | None = None) -> list[str] | None:
        """The file's lines, or a notebook cell's."""
        key = (path, cell)
        if key not in self._cache:
            try:
                data = Path(path).read_bytes()
                text = decode(data) if cell is None else Notebook(data).cell_text(cell)
                self._cache[key] = _LINE_BREAK.split(text)
            except (OSError, SourceError, IndexError):
                self._cache[key] = None
        return self._cache[key]


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
