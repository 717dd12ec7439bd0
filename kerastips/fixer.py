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
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

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
    updated = module.visit(_Rewriter(edits))
    imports = {item for fix in fixes for item in fix.imports}
    if imports:
        context = CodemodContext()
        for module_name, name in sorted(imports, key=lambda item: (item[0], item[1] or "")):
            AddImportsVisitor.add_needed_import(context, module_name, name)
        updated = AddImportsVisitor(context).transform_module(updated)
    return updated.code


class _Rewriter(cst.CSTTransformer):
    def __init__(self, edits: dict) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(self, original_node, updated_node):
        rewrite = self.edits.get(id(original_node))
        return rewrite(updated_node) if rewrite is not None else updated_node


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
