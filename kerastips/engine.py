"""One pass from a file to its diagnostics: read, pre-filter, parse, extract the IR, run rules,
resolve positions for what is reported, apply suppressions."""

from __future__ import annotations

import ast
import contextlib
import gc
import io
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

import libcst as cst

from kerastips import HOMEPAGE, nesting
from kerastips.diagnostic import Diagnostic, FileError
from kerastips.ir.extract import extract
from kerastips.ir.names import mentions_keras
from kerastips.positions import node_positions
from kerastips.rules.base import Finding, Rule

_NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)", re.I)
_FILE_NOQA = re.compile(
    r"#\s*kerastips\s*:\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)", re.I
)


T = TypeVar("T")
RECURSION_LIMIT = 20_000
REPORT_BUGS = f"please report it at {HOMEPAGE}/issues"
NOTEBOOK_SUFFIX = ".ipynb"


class SourceError(Exception):
    """The file cannot be linted; the message is one clear line for the user.

    `line` and `column` (1-based, the column in characters) say where, when the reason has a place
    (a syntax error, a byte that does not decode); in a notebook they count within `cell`."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 cell: int | None = None) -> None:
        super().__init__(message)
        self.line, self.column, self.cell = line, column, cell

    def in_cell(self, cell: int, message: str, column_shift: int = 0) -> "SourceError":
        """The same error reported in a notebook's cell, its lines counting within that cell."""
        column = None if self.column is None else self.column + column_shift
        return SourceError(message, self.line, column, cell if self.line is not None else None)


def is_notebook(name: str) -> bool:
    """Whether a file is a Jupyter notebook (JSON), by its name as Jupyter tells them."""
    return name.endswith(NOTEBOOK_SUFFIX)


def decode(data: bytes) -> str:
    """Bytes to text the way Python would read the module (BOM and coding cookie honoured)."""
    return decode_with_encoding(data)[0]


def decode_with_encoding(data: bytes) -> tuple[str, str]:
    """The text, and the encoding that turns it back into the same bytes."""
    if b"\0" in data:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"bad encoding declaration: {exc}") from None
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as exc:
        shown = "utf-8" if encoding == "utf-8-sig" else encoding
        if not isinstance(exc, UnicodeDecodeError):
            raise SourceError(f"cannot decode as {shown}") from None
        offset = exc.start + (3 if encoding == "utf-8-sig" else 0)  # the codec skipped the BOM
        raise SourceError(f"cannot decode as {shown} at byte {offset}",
                          *byte_position(data, offset, encoding)) from None


def byte_position(data: bytes, offset: int, encoding: str = "utf-8") -> tuple[int | None, int | None]:
    """(line, column) of the byte at `offset`, 1-based, the column in characters of the line up to
    it (which decode: they come before the first byte that does not); (None, None) when unknown.
    Lines break as Python's do (CR LF, CR, LF): source encodings are ASCII-compatible."""
    before = data[:offset]
    start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    line = 1 + before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n")
    try:
        return line, len(before[start:].decode(encoding if start == 0 else encoding.replace("-sig", ""))) + 1
    except (UnicodeDecodeError, LookupError):
        return None, None


def parse(source: str) -> cst.Module:
    if nesting.may_be_too_deep(source):  # libcst would take minutes: measure first
        depth = nesting.depth(source)
        if depth is None:
            raise syntax_error(source) or SourceError("invalid syntax")
        if depth > nesting.MAX_DEPTH:
            raise SourceError(f"code nested too deeply to parse (more than {nesting.MAX_DEPTH} levels)")
    try:
        return nesting.on_big_stack(lambda: cst.parse_module(source))  # its recursion is native
    except cst.ParserSyntaxError as exc:
        raise _syntax_error(source, exc) from None
    except RecursionError:
        raise SourceError("expression nested too deeply to parse") from None


def _syntax_error(source: str, exc: cst.ParserSyntaxError) -> SourceError:
    """Python's own account of a syntax error is the most precise; libcst's is the fallback (its
    message keeps libcst's editor column, tabs expanded; the location counts characters)."""
    python = syntax_error(source)
    if python is not None:
        return python
    reason = re.sub(r"^(?:parser error: )?(?:error at \d+:\d+: )?", "", exc.message)
    return SourceError(f"syntax error at line {exc.editor_line}, column {exc.editor_column}: "
                       f"{reason or 'invalid syntax'}", exc.raw_line, exc.raw_column + 1)


def syntax_error(source: str, flags: int = 0) -> SourceError | None:
    """Python's account of the source's syntax error, as one line with its place; None when Python
    parses it."""
    try:
        with python_parser_quiet():
            compile(source, "<source>", "exec", ast.PyCF_ONLY_AST | flags)
    except SyntaxError as error:
        if not error.lineno:  # NUL bytes in a notebook's cell
            return SourceError(f"syntax error: {error.msg}")
        column = error.offset or 1
        return SourceError(f"syntax error at line {error.lineno}, column {column}: {error.msg}",
                           error.lineno, column)
    except (ValueError, RecursionError, MemoryError):
        pass
    return None


@contextlib.contextmanager
def python_parser_quiet():
    """Python's parser warns about the code it reads (an invalid escape, `is` with a literal):
    on the user's code, read only to be analysed, those warnings are not kerastips' to print."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@contextlib.contextmanager
def analysing():
    """Around the parse and analysis of one source.

    Long generated expressions (`a + b + ... `) nest deeply in the tree, and the walks recurse:
    the recursion limit is raised. The cyclic garbage collector is paused: each of its full passes
    would walk the whole tree and IR held in memory, and on a large file they took half the time;
    refcounting still frees what is dropped, and the next collection after the pause takes the
    file's cycles."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, RECURSION_LIMIT))
    collecting = gc.isenabled()
    gc.disable()
    try:
        with python_parser_quiet():  # the IR and positions read literals and lines with it too
            yield
    finally:
        if collecting:
            gc.enable()
        sys.setrecursionlimit(previous)


@dataclass(frozen=True)
class Report:
    """A finding that survived suppression, with its resolved diagnostic."""

    rule: Rule
    finding: Finding
    diagnostic: Diagnostic
    fix_lines: tuple = ()  # (first, last) line of each node its fix edits; None where unknown


def check(source: str, path: str, rules: Sequence[Rule]) -> tuple[cst.Module | None, list[Report]]:
    """The parsed module (None when the pre-filter skipped it) and its reports, in file order.

    Raises SourceError when the source cannot be parsed. Call within analysing()."""
    if not rules or not mentions_keras(source):
        return None, []
    module = parse(source)
    kfile = extract(module, source)
    found: list[tuple[Rule, Finding]] = []
    seen: set[tuple[str, int]] = set()
    try:
        for rule in rules:
            for finding in rule.check(kfile):
                key = (rule.code, id(finding.node))
                if key not in seen:
                    seen.add(key)
                    found.append((rule, finding))
    finally:
        kfile.release()
    if not found:
        return module, []
    located = [pair for _, finding in found for pair in _located(finding)]
    positions = node_positions(module, [node for node, _ in located], source, [at for _, at in located])
    line_codes, file_codes = suppressions(source)
    reports = []
    for rule, finding in found:
        where = positions[finding.node]
        span = positions[finding.statement] if finding.statement in positions else where
        if rule.code in file_codes or any(
            rule.code in line_codes.get(line, ()) for line in range(span.start.line, span.end.line + 1)
        ):
            continue
        fix = finding.fix
        diagnostic = Diagnostic(
            path=path,
            line=where.start.line,
            column=where.start.column + 1,
            end_line=where.end.line,
            end_column=where.end.column + 1,
            code=rule.code,
            name=rule.name,
            message=finding.message,
            severity=rule.severity.value,
            fix_available=fix is not None,
            fix_applicability=fix.applicability.value if fix else None,
        )
        edited = [positions.get(edit.node) for edit in fix.edits] if fix else []
        fix_lines = tuple(span and (span.start.line, span.end.line) for span in edited)
        reports.append(Report(rule, finding, diagnostic, fix_lines))
    reports.sort(key=lambda report: report.diagnostic)
    return module, reports


def _located(finding: Finding) -> Iterable[tuple[cst.CSTNode | None, cst.CSTNode | None]]:
    """The nodes whose positions a finding's report needs, each with the statement holding it."""
    yield finding.node, finding.statement
    yield finding.statement, finding.statement
    if finding.fix is not None:
        yield from ((edit.node, edit.statement) for edit in finding.fix.edits)


def lint_source(source: str, path: str, rules: Sequence[Rule]) -> list[Diagnostic]:
    """Lint one module's text; raises SourceError when it cannot be parsed."""
    with analysing():
        return [report.diagnostic for report in check(source, path, rules)[1]]


def suppressions(source: str) -> tuple[dict[int, set[str]], set[str]]:
    """`# noqa: KT101` comments by line, and file-level `# kerastips: noqa: KT101` codes.

    Only real comments count (tokenize), and bare `# noqa` is deliberately not honoured.
    """
    by_line: dict[int, set[str]] = {}
    whole_file: set[str] = set()
    if "noqa" not in source:
        return by_line, whole_file
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type != tokenize.COMMENT:
                continue
            file_match = _FILE_NOQA.search(tok.string)
            if file_match:
                whole_file.update(_codes(file_match))
                continue
            match = _NOQA.search(tok.string)
            if match:
                by_line.setdefault(tok.start[0], set()).update(_codes(match))
    except (tokenize.TokenError, SyntaxError):
        pass
    return by_line, whole_file


def _codes(match: re.Match) -> Iterable[str]:
    return (code.strip().upper() for code in match.group("codes").split(","))


def read_file(path: Path) -> bytes:
    """A file's bytes; a SourceError with one clear line when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(unreadable(exc)) from None


def unreadable(error: OSError) -> str:
    """Why a path cannot be read, in one line."""
    if isinstance(error, (FileNotFoundError, NotADirectoryError)):
        return "no such file or directory"
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    if isinstance(error, PermissionError):
        return "permission denied"
    return f"cannot read: {error.strerror or error}"


def per_file(name: str, work: Callable[[], T], expected: tuple = (SourceError,)) -> T | FileError:
    """One file's work; every failure becomes a FileError for that file, never an exception."""
    try:
        return work()
    except Exception as exc:  # a bug in kerastips must not stop the run
        return file_error(name, exc, expected)


def file_error(name: str, exc: Exception, expected: tuple = (SourceError,)) -> FileError:
    """The FileError for a failure of one file's work: the reason of an expected error, or one
    line saying that kerastips itself failed."""
    if isinstance(exc, expected):
        if isinstance(exc, SourceError) and exc.line is not None:
            return FileError(name, str(exc), exc.line, exc.column, exc.cell)
        return FileError(name, str(exc))
    if isinstance(exc, RecursionError):
        return FileError(name, "code nested too deeply to analyse")
    return FileError(name, f"internal error ({described(exc)}); {REPORT_BUGS}")


def described(exc: BaseException) -> str:
    """An exception as one short line, however it prints (a KeyError's message is the repr of
    its key: a deep syntax tree's recursed too deeply, a big one's filled the screen)."""
    try:
        text = " ".join(str(exc).split())
    except Exception:
        text = "(its message cannot be printed)"
    return f"{type(exc).__name__}: {text[:200]}"


def lint_file(path: Path, rules: Sequence[Rule], display: str | None = None) -> list[Diagnostic] | FileError:
    """Lint one file on disk; every failure becomes a FileError, never an exception."""
    name = display or str(path)
    return per_file(name, lambda: lint_bytes(read_file(path), name, rules))


def lint_data(data: bytes, name: str, rules: Sequence[Rule]) -> tuple[list[Diagnostic] | FileError, bool]:
    """Lint a file's content, every failure a FileError; and whether the outcome follows from the
    content and the rules alone (findings, or source that cannot be read), so it may be cached."""
    try:
        return lint_bytes(data, name, rules), True
    except Exception as exc:
        return file_error(name, exc), isinstance(exc, SourceError)


def lint_bytes(data: bytes, name: str, rules: Sequence[Rule]) -> list[Diagnostic | FileError]:
    """Lint a file's content (from disk or stdin) reported as `name`; raises SourceError. A
    notebook linted in part (a cell that does not parse) has its FileError last in the list."""
    if is_notebook(name):
        from kerastips.notebook import lint_notebook  # it builds on this module

        return lint_notebook(data, name, rules)
    return lint_source(decode(data), name, rules)
