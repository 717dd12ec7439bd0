"""Apply rules' fixes: one libcst transformer per round, re-lint until stable (bounded), and write
files atomically without ever losing code."""

from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node

from kerastips.diagnostic import FileError
from kerastips.edits import Applicability, Fix
from kerastips.engine import (
    SourceError, analysing, check, decode_with_encoding, is_notebook, per_file, read_file,
)
from kerastips.notebook import Notebook, Placement
from kerastips.rules.base import Rule

# Fixes of one statement are made one a round (a Sequential list of 20 blocks takes 40 rounds);
# fixes that undo each other are stopped where they began, so the bound only stops fixes that
# would keep adding code.
MAX_ROUNDS = 64


@dataclass
class FixResult:
    path: str
    original: str
    fixed: str
    applied: list = field(default_factory=list)  # Diagnostics whose fix was applied
    remaining: list = field(default_factory=list)  # Diagnostics left after fixing
    encoding: str = "utf-8"  # the file's own, which the fixed text is written back in

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def fixed_bytes(self) -> bytes:
        """The fixed text in the file's encoding; WriteError when it cannot be encoded."""
        try:
            return self.fixed.encode(self.encoding)
        except UnicodeEncodeError:
            raise WriteError(f"the fixed text cannot be encoded as {self.encoding}; not written") from None

    def diff(self) -> str:
        """A unified diff that `patch -p0` applies."""
        return unified_diff(self.original, self.fixed, self.path)


@dataclass
class NotebookFixResult(FixResult):
    """A notebook's fixes: `original` and `fixed` are its code cells as one module, `cells` the
    new text of each cell the fixes change (by cell number)."""

    notebook: Notebook | None = None
    cells: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.cells)

    def fixed_bytes(self) -> bytes:
        return self.notebook.rewrite(self.cells)

    def diff(self) -> str:
        """One diff per changed cell, labelled `nb.ipynb:cell 3` as Ruff does (not a patch: the
        file is JSON)."""
        return "".join(
            unified_diff(_ended(self.notebook.cell_text(number)), _ended(text), f"{self.path}:cell {number}")
            for number, text in sorted(self.cells.items())
        )


def _ended(text: str) -> str:
    """A cell's text ending in a line break: Jupyter leaves it out of a cell's last line, which
    the diff would otherwise mark on every cell."""
    return text if not text or text.endswith(("\n", "\r")) else text + "\n"


def unified_diff(original: str, fixed: str, label: str) -> str:
    """Lines end at line feeds only (a form feed or U+2028 stays inside its line), and a last line
    without one is marked as diff marks it."""
    lines = difflib.unified_diff(_lines(original), _lines(fixed), label, label)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def fix_source(source: str, path: str, rules: Sequence[Rule], unsafe: bool = False,
               cells: Callable[[str], Placement] | None = None, rounds: int = MAX_ROUNDS) -> FixResult:
    """Fix one module's text, in at most `rounds` rounds. Raises SourceError when it cannot be
    parsed.

    `cells` places the lines of the text, as it is in each round, in a notebook's cells: a fix
    that edits more than one cell is left out, as it would move code between them, and the
    findings are given in their cells."""
    result = FixResult(path, source, source)
    reached = {}  # the text of each round -> what was applied to reach it, and what it has left
    with analysing():
        for round_ in range(rounds + 1):
            module, reports = check(result.fixed, path, rules)
            placement = cells(result.fixed) if cells is not None else None  # fixes move lines
            chosen, taken = [], set()
            for report in reports:
                fix = report.finding.fix
                if fix is None or (fix.applicability is Applicability.UNSAFE and not unsafe):
                    continue
                if placement is not None and not placement.confines(report):
                    continue
                if fix.statements & taken:
                    continue  # overlaps a fix of this round: the next round sees it afresh
                taken |= fix.statements
                chosen.append(report)
            placed = placement.place if placement is not None else lambda report: report.diagnostic
            result.remaining = [placed(report) for report in reports]
            reached[result.fixed] = (list(result.applied), result.remaining)
            if not chosen or round_ == rounds:
                break
            fixed = apply_fixes(module, [report.finding.fix for report in chosen])
            if fixed in reached:  # fixes that undo each other: stop at the text before they began
                result.fixed = fixed
                result.applied, result.remaining = reached[fixed]
                break
            result.fixed = fixed
            result.applied += [placed(report) for report in chosen]
    return result


def apply_fixes(module: cst.Module, fixes: Sequence[Fix]) -> str:
    edits = {id(edit.node): edit.rewrite for fix in fixes for edit in fix.edits}
    rewriter = _Rewriter(edits, module)
    updated = module.visit(rewriter)
    needed: dict = {}  # (module, name or None) -> the first top-level statement a fix needing it edits
    for fix in fixes:
        at = min((rewriter.top_of.get(id(edit.node), len(module.body)) for edit in fix.edits),
                 default=len(module.body))
        for item in fix.imports:
            needed[item] = min(needed.get(item, at), at)
    if needed:
        updated = _add_imports(updated, {item: rewriter.rewritten(at) for item, at in needed.items()})
    return updated.code


class _Rewriter(cst.CSTTransformer):
    """Applies the edits, noting for each edited node the top-level statement it lies in and how
    many statements each top-level statement became (a fix may add or remove some)."""

    def __init__(self, edits: dict, module: cst.Module) -> None:
        super().__init__()
        self.edits = edits
        self.top = {id(statement): i for i, statement in enumerate(module.body)}
        self.sizes = [1] * len(module.body)
        self.top_of: dict = {}  # id of an edited node -> index of its top-level statement
        self.current = 0

    def on_visit(self, node) -> bool:
        self.current = self.top.get(id(node), self.current)
        if id(node) in self.edits:
            self.top_of[id(node)] = self.current
        return True

    def on_leave(self, original_node, updated_node):
        rewrite = self.edits.get(id(original_node))
        result = rewrite(updated_node) if rewrite is not None else updated_node
        index = self.top.get(id(original_node))
        if index is not None:
            self.sizes[index] = (0 if isinstance(result, cst.RemovalSentinel)
                                 else len(result.nodes) if isinstance(result, cst.FlattenSentinel) else 1)
        return result

    def rewritten(self, index: int) -> int:
        """Where the original top-level statement `index` begins in the rewritten module."""
        return sum(self.sizes[:index])


# ---- the imports fixes need --------------------------------------------------------------------


def _add_imports(module: cst.Module, needed: dict) -> cst.Module:
    """The module with each needed import, `(module, name)` for `from module import name` and
    `(module, None)` for `import module`, made before the top-level statement its index names.

    A name the file imports already before there is not imported again; a name goes into the
    file's first `from module import ...` before there; otherwise a new line goes after the last
    top-level import of the same package (`tensorflow`, `keras`) before there, or after the last
    top-level import of any package: never above code that must run before that package is
    imported (`os.environ["KERAS_BACKEND"] = ...`). Only with no import before it at all does it
    go first in the module (after its docstring)."""
    body = list(module.body)
    merged: dict = {}  # (index of a `from module import ...` line, module) -> names to add to it
    inserted: dict = {}  # index of the statement new import lines go before -> their imports
    for (name_of_module, name), limit in sorted(needed.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        before = body[:limit]
        if _imports(before, name_of_module, name):
            continue
        target = None if name is None else next(
            (i for i, statement in enumerate(before) if _import_from(statement, name_of_module) is not None), None)
        if target is not None:
            merged.setdefault((target, name_of_module), []).append(name)
        else:
            inserted.setdefault(_import_position(before, name_of_module), []).append((name_of_module, name))
    for (index, name_of_module), names in merged.items():
        body[index] = _with_names(body[index], name_of_module, sorted(names))
    for index in sorted(inserted, reverse=True):
        lines = _import_lines(inserted[index], module)
        if index < len(body) and not _imported_roots(body[index]):
            body[index] = _after_a_blank_line(body[index])
        body[index:index] = lines
    return module.with_changes(body=body)


def _dotted(node: cst.CSTNode | None) -> str | None:
    return None if node is None else get_full_name_for_node(node)


def _import_from(statement: cst.CSTNode, name_of_module: str) -> cst.ImportFrom | None:
    """The `from name_of_module import a, b` of a top-level line of imports (not `import *`)."""
    if not _is_import_line(statement):
        return None
    return next((item for item in statement.body if isinstance(item, cst.ImportFrom) and not item.relative
                 and _dotted(item.module) == name_of_module and not isinstance(item.names, cst.ImportStar)),
                None)


def _imports(statements: Sequence[cst.CSTNode], name_of_module: str, name: str | None) -> bool:
    """Whether these top-level statements bind the import's name already."""
    for statement in statements:
        if not _is_import_line(statement):
            continue
        for item in statement.body:
            if name is None and isinstance(item, cst.Import):
                if any(alias.asname is None and _dotted(alias.name) == name_of_module for alias in item.names):
                    return True
            elif name is not None and isinstance(item, cst.ImportFrom) and not item.relative \
                    and _dotted(item.module) == name_of_module:
                if isinstance(item.names, cst.ImportStar) or any(
                        alias.asname is None and _dotted(alias.name) == name for alias in item.names):
                    return True
    return False


def _with_names(statement: cst.SimpleStatementLine, name_of_module: str, names: list) -> cst.SimpleStatementLine:
    """The line with `names` put first in its `from name_of_module import ...`, separated as the
    names there are."""
    target = _import_from(statement, name_of_module)

    def add(item):
        if item is not target:
            return item
        comma = item.names[0].comma if len(item.names) > 1 else cst.MaybeSentinel.DEFAULT
        new = [cst.ImportAlias(cst.Name(name), comma=comma) for name in names]
        return item.with_changes(names=[*new, *item.names])
    return statement.with_changes(body=[add(item) for item in statement.body])


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(item, (cst.Import, cst.ImportFrom)) for item in statement.body)


def _imported_roots(statement: cst.CSTNode) -> set:
    """The packages a top-level statement imports: a line of imports, or a block (`try:`, `if`)
    whose own lines import (`try: import keras` / `except ImportError: from tensorflow import
    keras`). Empty for any other statement."""
    if _is_import_line(statement):
        roots = set()
        for item in statement.body:
            if isinstance(item, cst.Import):
                roots |= {_dotted(alias.name).split(".")[0] for alias in item.names}
            else:
                roots.add("." if item.relative else _dotted(item.module).split(".")[0])
        return roots
    if isinstance(statement, (cst.Try, cst.If)):
        parts = [statement, *getattr(statement, "handlers", ()), statement.orelse]
        lines = [line for part in parts if part is not None for line in getattr(part.body, "body", ())]
        return set().union(*(_imported_roots(line) for line in lines if _is_import_line(line)))
    return set()


def _import_position(statements: Sequence[cst.CSTNode], name_of_module: str) -> int:
    """Where a new import line goes among the top-level statements before the fixed code."""
    root = name_of_module.split(".")[0]
    roots = [_imported_roots(statement) for statement in statements]
    same = [i for i, found in enumerate(roots) if root in found]
    if same:
        return same[-1] + 1
    any_import = [i for i, found in enumerate(roots) if found]
    if any_import:
        return any_import[-1] + 1
    docstring = bool(statements) and m.matches(
        statements[0], m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())]))
    return 1 if docstring else 0


def _import_lines(imports: list, module: cst.Module) -> list:
    """`import a` lines, then one `from b import x, y` line per module, in order."""
    texts = sorted(f"import {name_of_module}" for name_of_module, name in imports if name is None)
    grouped: dict = {}
    for name_of_module, name in imports:
        if name is not None:
            grouped.setdefault(name_of_module, set()).add(name)
    texts += [f"from {name_of_module} import {', '.join(sorted(names))}"
              for name_of_module, names in sorted(grouped.items())]
    return [cst.parse_statement(text, config=module.config_for_parsing) for text in texts]


def _after_a_blank_line(statement: cst.CSTNode) -> cst.CSTNode:
    """The statement after new imports, set off from them by a blank line, as isort would."""
    leading = statement.leading_lines
    if leading and leading[0].comment is None:
        return statement
    return statement.with_changes(leading_lines=(cst.EmptyLine(), *leading))


# ---- files -------------------------------------------------------------------------------------


class WriteError(Exception):
    """A fixed file could not be written; the message is one line for the user."""


def fix_file(path: Path, rules: Sequence[Rule], unsafe: bool, apply: bool,
             display: str | None = None) -> FixResult | FileError:
    """Fix one file; with `apply`, write it back atomically. Every failure is a FileError."""
    name = display or str(path)

    def work() -> FixResult:
        data = read_file(path)
        result = fix_bytes(data, name, rules, unsafe)
        if apply and result.changed:
            write_atomic(path, data, result.fixed_bytes())
        return result

    return per_file(name, work, (SourceError, WriteError))


def fix_bytes(data: bytes, name: str, rules: Sequence[Rule], unsafe: bool) -> FixResult:
    """Fix a file's content (from disk or stdin), reported as `name`; raises SourceError."""
    if is_notebook(name):
        return _fix_notebook(data, name, rules, unsafe)
    source, encoding = decode_with_encoding(data)
    result = fix_source(source, name, rules, unsafe)
    result.encoding = encoding
    return result


def _fix_notebook(data: bytes, name: str, rules: Sequence[Rule], unsafe: bool) -> NotebookFixResult:
    """Fix the code cells as one module, each fix within one cell; the findings carry their cell."""
    notebook = Notebook(data)
    cells = notebook.cells
    fixed = cells.run(rules, lambda: fix_source(cells.source, name, rules, unsafe, cells.placed))
    return NotebookFixResult(
        name, fixed.original, fixed.fixed, applied=fixed.applied, remaining=fixed.remaining,
        notebook=notebook, cells=cells.split(fixed.fixed),
    )


_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def write_atomic(path: Path, expected: bytes, data: bytes) -> None:
    """Replace the file's content in one step, keeping its mode (and owner where allowed); refuse
    when it is read-only or its bytes are no longer `expected` (changed since they were read).

    The new content goes to a temporary file `.NAME.XXXX.kerastips` in the same folder, flushed to
    disk, then renamed over the file: a reader (or a crash) sees the old or the new file, never a
    mix. A process killed between creating and renaming that temporary file leaves it behind; it
    is never read back. A symlink is followed and its target replaced (the link stays a link); a
    file with several hard links gets a new inode, so its other names keep the old content."""
    target = path.resolve()  # write through a symlink, not over it
    try:
        if target.read_bytes() != expected:
            raise WriteError("changed on disk while being fixed; not written (run again)")
        info = target.stat()
    except FileNotFoundError:  # deleted meanwhile: not created again
        raise WriteError("deleted while being fixed; not written") from None
    except OSError as exc:
        raise WriteError(f"cannot read back: {exc.strerror or exc}") from None
    mode = stat.S_IMODE(info.st_mode)
    # os.access alone says yes to root for any file; no write bit at all means read-only to all.
    if not mode & _WRITE_BITS or not os.access(target, os.W_OK):
        raise WriteError("read-only file; not written")
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".kerastips"
        )
    except OSError as exc:
        raise WriteError(f"cannot create a temporary file next to it: {exc.strerror or exc}; "
                         "not written") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_owner(temporary, info)  # before chmod: chown may clear set-id bits
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as exc:  # Ctrl-C included: leave no temporary file behind
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write: {exc.strerror or exc}; not written") from None
        raise
    _sync_folder(target.parent)


def _keep_owner(temporary: str, info: os.stat_result) -> None:
    """Give the new file the old one's owner and group, as far as this process may."""
    if not hasattr(os, "chown"):
        return
    for uid, gid in ((info.st_uid, info.st_gid), (-1, info.st_gid)):
        try:
            os.chown(temporary, uid, gid)
            return
        except OSError:
            continue


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; best effort (not every platform can open a folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
