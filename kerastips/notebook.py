"""Jupyter notebooks and IPython sessions as one Python module, and the way back to their cells.

The code cells are joined in order into one module, so that a model built in one cell and trained
in another is analysed together. IPython syntax that is not Python (`%magic`, `!shell`, `?help`,
`obj?`, `x = !cmd`) becomes a placeholder statement on the same line, so every line keeps its
number; a cell whose cell magic runs another language (`%%bash`, `%%html`) is left out. A cell
indented as a whole is taken as IPython runs it, with the indentation common to its lines removed
(and the body of a `%%time` cell's on its own); its findings get the columns of the cell as written,
and its fixed lines get the indentation back. Between two cells the module has a separator
statement of its own line: no statement can run on from one cell into the next (each cell must be
valid on its own, as in Jupyter), and after a fix the cells are told apart by their separators.

The notebook is read with the stdlib json module. A fix rewrites, in the JSON text, only the
`source` values of the cells it changed: outputs, metadata, execution counts, key order and
indentation stay byte for byte.
"""

from __future__ import annotations

import ast
import bisect
import codecs
import copy
import io
import json
import os
import re
import tokenize
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Sequence, TypeVar

from kerastips.diagnostic import Diagnostic, FileError
from kerastips.engine import (
    REPORT_BUGS, Report, SourceError, analysing, byte_position, check, file_error, parse, syntax_error,
)
from kerastips.ir.names import mentions_keras
from kerastips.rules.base import Rule

T = TypeVar("T")
# Cell magics whose body is Python run in the session's namespace; any other makes the cell foreign.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # Python's line breaks, which positions count
_CELL_MAGIC = re.compile(r"%%(\w*)")
# What may be IPython syntax at the start of a statement: %magic, %%magic, !shell, ?help, obj?,
# x = !cmd, x = %magic. None of these is Python there, so masking one never hides Python code.
_MAGIC = re.compile(r"[ \t]*(?:[%!?]|[\w.*]+\?\??[ \t]*$|[\w.,()\[\]* \t]+?(?<![=<>!])=(?!=)[ \t]*[%!])")
_SEPARATOR = "pass  # <cell {}>"  # the statement line between two cells
_PLACEHOLDER = '"<magic {}>"'  # a masked line; a string, so a magic first in the module is its docstring
_TOP_LEVEL_AWAIT = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)  # IPython runs `await x` in a cell


@dataclass
class _Cell:
    number: int  # 1-based among all the notebook's cells (or the session's execution count)
    text: str  # as written
    lines: list  # the Python lines as IPython runs them, each ending in a line break
    indent: str = ""  # the indentation IPython removes from each of its (non-blank) lines
    first: int = 0  # the module's line holding the cell's first line


class Placement:
    """Where each cell lies in a module's lines: (cell number, first line, last line, indent) of
    each, `indent` the number of columns IPython removed from the start of the cell's lines."""

    def __init__(self, spans: Sequence[tuple[int, int, int, int]]) -> None:
        self.spans = list(spans)
        self._firsts = [first for _, first, _, _ in self.spans]

    def _span(self, line: int) -> tuple[int, int, int, int] | None:
        index = bisect.bisect_right(self._firsts, line) - 1
        return self.spans[index] if index >= 0 and line <= self.spans[index][2] else None

    def locate(self, line: int) -> tuple[int, int] | None:
        """(cell number, line within the cell) of a module line; None for a separator."""
        span = self._span(line)
        return span and (span[0], line - span[1] + 1)

    def cell_of(self, line: int) -> int | None:
        where = self.locate(line)
        return where and where[0]

    def confines(self, report: Report) -> bool:
        """Whether every node the report's fix edits lies in one and the same cell: a fix across
        cells would move code between them, so it is not made."""
        if any(span is None for span in report.fix_lines):
            return False
        cells = {self.cell_of(line) for span in report.fix_lines for line in span}
        return len(cells) == 1 and None not in cells

    def place(self, report: Report) -> Diagnostic:
        """The report's diagnostic with its lines counted within its cell, offering its fix only
        where the fix stays within one cell."""
        diagnostic = report.diagnostic
        cell, first, _, indent = self._span(diagnostic.line)
        line = diagnostic.line - first + 1
        placed = replace(diagnostic, cell=cell, line=line, end_line=diagnostic.end_line - diagnostic.line + line,
                         column=diagnostic.column + indent, end_column=diagnostic.end_column + indent)
        if diagnostic.fix_available and not self.confines(report):
            placed = replace(placed, fix_available=False, fix_applicability=None)
        return placed


class Cells:
    """Code cells joined into one module (`source`), with each module line's cell and line."""

    def __init__(self, cells: Sequence[tuple[int, str]], valid_only: bool = False) -> None:
        """`cells`: (number, text) of the code cells, in order. With `valid_only`, a cell that is
        not valid Python on its own is left out (it fails when run; the others still run)."""
        self.cells: list[_Cell] = []
        self._magics: dict[str, str] = {}  # placeholder -> the line it stands for
        lines: list[str] = []
        for number, text in cells:
            python = self._python_lines(text)
            if python is None:
                continue
            cell = _Cell(number, text, python[1], python[0], len(lines) + 1 + bool(self.cells))
            if valid_only and _syntax_error(cell) is not None:
                continue
            if self.cells:
                lines.append(_SEPARATOR.format(number) + "\n")
            self.cells.append(cell)
            lines += cell.lines
        self.source = "".join(lines)
        self.placement = Placement([(cell.number, cell.first, cell.first + len(cell.lines) - 1,
                                     len(cell.indent)) for cell in self.cells])

    def _python_lines(self, text: str) -> tuple[str, list[str]] | None:
        """The cell's lines as IPython runs them, IPython syntax masked, and the indentation removed
        from them (see _dedented); None for a cell in another language."""
        lines = _LINE.findall(text)
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"
        start = next((i for i, line in enumerate(lines) if line.strip()), None)
        if start is not None and lines[start].lstrip().startswith("%%"):
            if _CELL_MAGIC.match(lines[start].lstrip()).group(1) not in PYTHON_CELL_MAGICS:
                return None
        python = list(lines)
        statement = 0  # a line where a statement is known to start
        continued = False  # the previous line was masked and ends in a backslash
        indent = ""
        for i, line in enumerate(lines):
            if continued or (_MAGIC.match(line) and _starts_statement(python[statement:i])):
                if not continued:  # a continuation line keeps its magic's indentation
                    indent = line[: len(line) - len(line.lstrip(" \t"))]
                placeholder = indent + _PLACEHOLDER.format(len(self._magics))
                self._magics[placeholder.strip()] = line
                python[i] = placeholder + "\n"
                continued = line.rstrip("\r\n").endswith("\\")
                statement = i + 1
        indent, python = _dedented(python, 0)
        if start is not None and lines[start].lstrip().startswith("%%"):  # its body is run as a cell
            body_indent, python = _dedented(python, start + 1)
            indent += body_indent
        return indent, python

    def place(self, report: Report) -> Diagnostic:
        return self.placement.place(report)

    def placed(self, text: str) -> Placement:
        """Where the cells lie in `text`, the module after some fixes (which add and remove lines);
        SourceError when the cells cannot be told apart in it."""
        spans = self._spans(_LINE.findall(text))
        return Placement([(cell.number, start + 1, end, len(cell.indent))
                          for cell, (start, end) in zip(self.cells, spans)])

    def run(self, rules: Sequence[Rule], work: Callable[[], T]) -> T:
        """`work` (which parses `source`) within analysing(), after each cell is checked on
        its own as Jupyter runs it; a syntax error is reported in its cell."""
        error = self.syntax_error(rules)
        if error is not None:
            raise error
        return self.analyse(work)

    def analyse(self, work: Callable[[], T]) -> T:
        """`work` (which parses `source`) within analysing(); a syntax error only libcst sees is
        reported in its cell."""
        with analysing():
            try:
                return work()
            except SourceError as exc:  # libcst rejects what Python accepts: find the cell
                for cell in self.cells:
                    try:
                        parse("".join(cell.lines))
                    except SourceError as cell_error:
                        raise _as_written(cell, cell_error) from None
                raise SourceError(str(exc)) from None  # its lines count in the module: no place

    def syntax_error(self, rules: Sequence[Rule]) -> SourceError | None:
        """The error of the first cell that is not Python on its own (as Jupyter runs each cell),
        saying how many more are not; None when every cell is, or when nothing is to be linted
        (no rules, no Keras: as for a .py file, nothing is parsed)."""
        if not rules or not mentions_keras(self.source):
            return None
        broken = [error for error in map(_syntax_error, self.cells) if error is not None]
        if not broken:
            return None
        first, more = broken[0], len(broken) - 1
        if not more:
            return first
        others = "1 more cell does" if more == 1 else f"{more} more cells do"
        return SourceError(f"{first} ({others} not parse)", first.line, first.column, first.cell)

    def split(self, fixed: str) -> dict[int, str]:
        """The new text of each cell that `fixed` (the module after fixes) changes.

        Raises SourceError when the cells cannot be told apart in it, which a fix confined to one
        cell cannot cause."""
        lines = _LINE.findall(fixed)
        changed = {}
        for cell, (start, end) in zip(self.cells, self._spans(lines)):
            text = self._restore(cell, lines[start:end])
            if text != cell.text:
                changed[cell.number] = text
        return changed

    def _spans(self, lines: list[str]) -> list[tuple[int, int]]:
        """Each cell's lines as a slice of `lines` (start, end), found by the separators."""
        found: dict[str, list[int]] = {}
        for i, line in enumerate(lines):
            found.setdefault(line.rstrip("\r\n"), []).append(i)
        starts = [0]
        for cell in self.cells[1:]:
            at = found.get(_SEPARATOR.format(cell.number), [])
            if len(at) != 1 or at[0] < starts[-1]:
                raise SourceError(f"the fixes moved code across cells; not fixed ({REPORT_BUGS})")
            starts.append(at[0] + 1)
        return list(zip(starts, [start - 1 for start in starts[1:]] + [len(lines)]))

    def _restore(self, cell: _Cell, lines: list[str]) -> str:
        """A cell's fixed lines with its magics and its indentation put back, ending as the cell
        ended."""
        expected = {line.strip() for line in cell.lines if line.strip() in self._magics}
        restored = []
        for line in lines:
            key = line.strip()
            if key in self._magics:
                if key not in expected:
                    raise SourceError(f"the fixes moved an IPython magic; not fixed ({REPORT_BUGS})")
                expected.discard(key)
                line = self._magics[key]
            elif not _blank(line):
                line = cell.indent + line
            restored.append(line)
        if expected:
            raise SourceError(f"the fixes removed an IPython magic; not fixed ({REPORT_BUGS})")
        text = "".join(restored)
        tail = cell.text[len(cell.text.rstrip("\r\n")):]  # Jupyter's last line has no line break
        return text.rstrip("\r\n") + tail


def _dedented(lines: list[str], start: int) -> tuple[str, list[str]]:
    """The indentation common to lines[start:] (blank lines aside), and the lines with it removed
    from those: IPython's leading_indent (textwrap.dedent since IPython 9; IPython 8 removed the
    first line's indentation from the lines starting with it, the same when every line does)."""
    indent = os.path.commonprefix([line[:len(line) - len(line.lstrip(" \t"))]
                                   for line in lines[start:] if not _blank(line)])
    if not indent:
        return "", lines
    return indent, lines[:start] + [line if _blank(line) else line[len(indent):] for line in lines[start:]]


def _blank(line: str) -> bool:
    return not line.strip(" \t\r\n")


def _syntax_error(cell: _Cell) -> SourceError | None:
    """Python's account of a cell's syntax error, as IPython compiles a cell (its indentation
    removed, top-level await allowed), in the cell as written (see _as_written)."""
    error = syntax_error("".join(cell.lines), _TOP_LEVEL_AWAIT)
    return error and _as_written(cell, error)


_WHERE = re.compile(r"(syntax error at line \d+, column )(\d+)")


def _as_written(cell: _Cell, error: SourceError) -> SourceError:
    """An error in a cell's code (its lines counting within the cell) reported in the cell:
    `cell N: ` before the message, its column on the line as written, before IPython removed
    the cell's indentation (in the message and the location alike)."""
    row = error.line
    shift = len(cell.indent) if row is not None and 1 <= row <= len(cell.lines) and not _blank(
        cell.lines[row - 1]) else 0
    message = _WHERE.sub(lambda where: where.group(1) + str(int(where.group(2)) + shift), str(error), count=1)
    return error.in_cell(cell.number, f"cell {cell.number}: {message}", shift)


def _starts_statement(lines: list[str]) -> bool:
    """Whether the next line starts a statement after these (no bracket, string or backslash
    continuation left open). Only asked for the rare lines that look like IPython syntax."""
    if not lines:
        return True
    try:
        for _ in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            pass
    except tokenize.TokenError as exc:
        return "EOF" not in str(exc)
    except (SyntaxError, ValueError):  # bad indentation and the like: not a continuation
        pass
    return True


# ---- .ipynb files ------------------------------------------------------------------------------


class Notebook:
    """A .ipynb file's JSON, its code cells as one module (`cells`), and its rewriting."""

    def __init__(self, data: bytes) -> None:
        """Raises SourceError, with one line saying why, for what is not an nbformat 4 notebook."""
        # JSON is UTF-8: no coding cookie applies; a BOM (which Jupyter never writes) is kept
        self.encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        try:
            self.text = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            offset = exc.start + (3 if self.encoding == "utf-8-sig" else 0)  # the codec skipped the BOM
            raise SourceError(f"cannot decode as utf-8 at byte {offset}",
                              *byte_position(data, offset, self.encoding)) from None
        try:
            self.json = json.loads(self.text)
        except json.JSONDecodeError as exc:  # located in the file: its lines are the JSON's
            raise SourceError(f"not a notebook: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg}", exc.lineno, exc.colno) from None
        except RecursionError:
            raise SourceError("not a notebook: JSON nested too deeply") from None
        if not isinstance(self.json, dict):
            raise SourceError("not a notebook: the JSON is not an object")
        if "worksheets" in self.json or _is_int(self.json.get("nbformat")) and self.json["nbformat"] < 4:
            raise SourceError("nbformat 3 notebook: only nbformat 4 is read (upgrade it with "
                              "`jupyter nbconvert --to notebook`)")
        raw_cells = self.json.get("cells")
        if not isinstance(raw_cells, list):
            raise SourceError('not a notebook: no "cells" list')
        code = []
        for number, cell in enumerate(raw_cells, 1):
            if not isinstance(cell, dict):
                raise SourceError(f"not a notebook: cell {number} is not a JSON object")
            if cell.get("cell_type") == "code":
                code.append((number, _source_text(cell, number)))
        self.cells = Cells(code if _is_python(self.json.get("metadata")) else [])

    def cell_text(self, number: int) -> str:
        """The source of a cell, by its 1-based number among all cells."""
        return _source_text(self.json["cells"][number - 1], number)

    def rewrite(self, texts: dict[int, str]) -> bytes:
        """The notebook file with these cells' sources replaced, all else byte for byte."""
        spans = _source_spans(self.text)
        expected = copy.deepcopy(self.json)
        pieces, end = [], 0
        for number in sorted(texts):
            start, stop = spans[number - 1]
            old = expected["cells"][number - 1]["source"]
            new = texts[number] if isinstance(old, str) else texts[number].splitlines(keepends=True)
            expected["cells"][number - 1]["source"] = new
            pieces += [self.text[end:start], self._dumps(new, self.text[start:stop])]
            end = stop
        text = "".join(pieces) + self.text[end:]
        if json.loads(text) != expected:  # never write a notebook that says something else
            raise SourceError(f"the fixed notebook could not be written as JSON; not fixed ({REPORT_BUGS})")
        return text.encode(self.encoding)

    def _dumps(self, value: str | list, old: str) -> str:
        """The JSON of a new `source` value, laid out as the old one was (Jupyter: a line each)."""
        ascii_only = self.text.isascii()  # else written as Jupyter does, with the characters as they are
        layout = re.match(r"\[(\r?\n)([ \t]*)", old)
        if isinstance(value, str) or not value or layout is None:
            separators = (",", ":") if re.search(r'",\S', old) else None
            return json.dumps(value, ensure_ascii=ascii_only, separators=separators)
        newline, indent = layout.groups()
        closing = re.search(r"([ \t]*)\]\Z", old).group(1)
        items = ("," + newline).join(indent + json.dumps(line, ensure_ascii=ascii_only) for line in value)
        return "[" + newline + items + newline + closing + "]"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_python(metadata: object) -> bool:
    """Whether the notebook's kernel runs Python (as Ruff: a notebook that does not say is)."""
    if not isinstance(metadata, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(key)
        if isinstance(value, dict) and isinstance(value.get(field), str):
            return value[field].lower() == "python"
    return True


def _source_text(cell: dict, number: int) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise SourceError(f'not a notebook: the "source" of cell {number} is not text')


_SPACE = re.compile(r"[ \t\n\r]*")


def _source_spans(text: str) -> list[tuple[int, int] | None]:
    """Where each cell's "source" value lies in the notebook's JSON text (the last one where a key
    repeats, as json.loads reads it)."""
    decoder = json.JSONDecoder()
    spans: list = []
    for key, start, _ in _members(text, _SPACE.match(text).end(), decoder):
        if key == "cells":
            spans = [{k: (s, e) for k, s, e in _members(text, cell, decoder)}.get("source")
                     for _, cell, _ in _members(text, start, decoder)]
    return spans


def _members(text: str, at: int, decoder: json.JSONDecoder) -> Iterator[tuple[object, int, int]]:
    """(key or index, start, end) of each member of the JSON object or array at text[at]."""
    close = "}" if text[at] == "{" else "]"
    i, index = _SPACE.match(text, at + 1).end(), 0
    while text[i] != close:
        key: object = index
        if close == "}":
            key, i = json.decoder.scanstring(text, i + 1)
            i = _SPACE.match(text, _SPACE.match(text, i).end() + 1).end()  # past the colon
        _, end = decoder.raw_decode(text, i)
        yield key, i, end
        index += 1
        i = _SPACE.match(text, end).end()
        if text[i] == ",":
            i = _SPACE.match(text, i + 1).end()


# ---- linting -----------------------------------------------------------------------------------


def lint_notebook(data: bytes, name: str, rules: Sequence[Rule]) -> list[Diagnostic | FileError]:
    """Lint a .ipynb file's content; findings carry their cell. Raises SourceError.

    A cell that is not Python on its own fails in Jupyter and the others still run: such cells
    are left out, the others linted, and the first one's syntax error comes last in the list (a
    FileError: the notebook was not linted in full)."""
    cells = Notebook(data).cells
    error = cells.syntax_error(rules)
    if error is not None:
        cells = Cells([(cell.number, cell.text) for cell in cells.cells], valid_only=True)
    reports = cells.analyse(lambda: check(cells.source, name, rules)[1])
    found: list[Diagnostic | FileError] = [cells.place(report) for report in reports]
    return found + [file_error(name, error)] if error is not None else found
