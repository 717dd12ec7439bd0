"""Apply rules' fixes: one libcst transformer per round, re-lint until stable (bounded), and write
files atomically without ever losing code."""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from kerastips.diagnostic import FileError
from kerastips.edits import Applicability, Fix
from kerastips.engine import REPORT_BUGS, SourceError, check, decode_with_encoding, deep_recursion
from kerastips.rules.base import Rule

MAX_ROUNDS = 8  # overlapping fixes converge in a few rounds; the bound guards against cycles


@dataclass
class FixResult:
    path: str
    original: str
    fixed: str
    applied: list = field(default_factory=list)  # Diagnostics whose fix was applied
    remaining: list = field(default_factory=list)  # Diagnostics left after fixing

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.original.splitlines(keepends=True), self.fixed.splitlines(keepends=True),
            fromfile=self.path, tofile=self.path,
        ))


def fix_source(source: str, path: str, rules: Sequence[Rule], unsafe: bool = False) -> FixResult:
    """Fix one module's text. Raises SourceError when it cannot be parsed."""
    result = FixResult(path, source, source)
    with deep_recursion():
        for round_ in range(MAX_ROUNDS + 1):
            module, reports = check(result.fixed, path, rules)
            chosen, taken = [], set()
            for report in reports:
                fix = report.finding.fix
                if fix is None or (fix.applicability is Applicability.UNSAFE and not unsafe):
                    continue
                if fix.statements & taken:
                    continue  # overlaps a fix of this round: the next round sees it afresh
                taken |= fix.statements
                chosen.append(report)
            result.remaining = [report.diagnostic for report in reports]
            if not chosen or round_ == MAX_ROUNDS:
                break
            fixed = apply_fixes(module, [report.finding.fix for report in chosen])
            if fixed == result.fixed:
                break
            result.fixed = fixed
            result.applied += [report.diagnostic for report in chosen]
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
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileError(name, f"cannot read: {exc.strerror or exc}")
    try:
        source, encoding = decode_with_encoding(data)
        result = fix_source(source, name, rules, unsafe)
        if apply and result.changed:
            write_atomic(path, data, result.fixed.encode(encoding))
    except (SourceError, WriteError) as exc:
        return FileError(name, str(exc))
    except Exception as exc:  # a bug in kerastips must not stop the run, nor touch the file
        return FileError(name, f"internal error ({type(exc).__name__}: {exc}); {REPORT_BUGS}")
    return result


def write_atomic(path: Path, expected: bytes, data: bytes) -> None:
    """Replace the file's content in one step (a temporary file renamed over it), keeping its mode;
    refuse when it is read-only or changed since it was read."""
    target = path.resolve()  # write through a symlink, not over it
    try:
        if target.read_bytes() != expected:
            raise WriteError("changed on disk while being fixed; not written (run again)")
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError as exc:
        raise WriteError(f"cannot read back: {exc.strerror or exc}") from None
    if not os.access(target, os.W_OK):
        raise WriteError("read-only file; not written")
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".kerastips")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise WriteError(f"cannot write: {exc.strerror or exc}") from None

