"""The lint cache: one entry per file content, so a re-run only lints the files that changed.

An entry is keyed by a hash of the file's bytes, whether it is a notebook, the rules that apply to
it (codes and options, after per-file-ignores), and the code that lints it (kerastips' own files
and libcst, by path, size and modification time, so an edited checkout never reads stale entries;
and the Python version, whose parser words syntax errors), and the layout of an entry (FORMAT). It
holds the file's diagnostics, or the reason it cannot be linted with its place, without its path:
the same content elsewhere gives the same findings.

Entries are written to a temporary file and renamed into place, so concurrent runs never see half
an entry; an entry that cannot be read or parsed is a miss, never an error, and so is a cache
folder that cannot be written.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from kerastips import __version__
from kerastips.diagnostic import Diagnostic, FileError
from kerastips.engine import is_notebook
from kerastips.rules.base import Rule

CACHE_DIR = ".kerastips_cache"
_MARKERS = {  # written when the folder is created, as Ruff does: git and backup tools skip it
    ".gitignore": "# Automatically created by kerastips.\n*\n",
    "CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n"
                    "# This file is a cache directory tag created by kerastips.\n",
}
# The layout of an entry, part of its key: an entry of another layout is never read. 2: a file
# error is an object with its place (1 stored the message alone). 3: a notebook linted in part
# has its findings and its error.
FORMAT = 3
# The fields of a stored diagnostic, with their types (`path` is the file's, given on reading).
_FIELDS = {
    "line": int, "column": int, "end_line": int, "end_column": int, "code": str, "name": str,
    "message": str, "severity": str, "fix_available": bool, "fix_applicability": (str, type(None)),
    "cell": (int, type(None)),
}
_ERROR_FIELDS = {"message": str, "line": (int, type(None)), "column": (int, type(None)), "cell": (int, type(None))}

class Cache:
    """Entries under `folder/<kerastips version>/`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.entries = self.folder / __version__
        self._stamp = _code_stamp()
        self._fingerprints: dict[tuple[Rule, ...], bytes] = {}

    def key(self, data: bytes, name: str, rules: Sequence[Rule]) -> str:
        digest = hashlib.sha256(self._stamp)
        digest.update(b"format %d\0" % FORMAT)
        digest.update(b"notebook\0" if is_notebook(name) else b"python\0")
        digest.update(self._fingerprint(rules))
        digest.update(data)
        return digest.hexdigest()

    def load(self, key: str, name: str) -> list | FileError | None:
        """The outcome stored under `key`, reported as `name`; None when there is none usable."""
        try:
            entry = json.loads(self._path(key).read_bytes())
            if not (isinstance(entry, dict) and entry and set(entry) <= {"diagnostics", "error"}):
                return None
            error = FileError(name, **_checked(entry["error"], _ERROR_FIELDS)) if "error" in entry else None
            if "diagnostics" not in entry:
                return error
            if isinstance(entry["diagnostics"], list):
                found = [_diagnostic(record, name) for record in entry["diagnostics"]]
                return found + [error] if error else found
        except (OSError, ValueError, TypeError):  # missing, unreadable, not JSON, not an entry
            pass
        return None

    def store(self, key: str, outcome: list | FileError) -> None:
        """Write an entry atomically; a cache that cannot be written is left as it is."""
        errors = [outcome] if isinstance(outcome, FileError) else [x for x in outcome if isinstance(x, FileError)]
        entry: dict = {"error": {"message": error.message, "line": error.line, "column": error.column,
                                 "cell": error.cell} for error in errors[-1:]}
        if not isinstance(outcome, FileError):
            entry["diagnostics"] = [_record(d) for d in outcome if not isinstance(d, FileError)]
        path = self._path(key)
        try:
            self._create()
            path.parent.mkdir(exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    json.dump(entry, file, separators=(",", ":"))
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass

    def _path(self, key: str) -> Path:
        return self.entries / key[:2] / key[2:]

    def _create(self) -> None:
        if self.entries.is_dir():
            return
        self.entries.mkdir(parents=True, exist_ok=True)
        for name, text in _MARKERS.items():
            marker = self.folder / name
            if not marker.exists():
                marker.write_text(text, encoding="utf-8")

    def _fingerprint(self, rules: Sequence[Rule]) -> bytes:
        """The rules' codes and options as bytes, computed once per distinct selection."""
        rules = tuple(rules)
        if rules not in self._fingerprints:
            text = json.dumps([[rule.code, rule.config] for rule in rules], sort_keys=True, default=repr)
            self._fingerprints[rules] = text.encode() + b"\0"
        return self._fingerprints[rules]


def _record(diagnostic: Diagnostic) -> dict:
    record = diagnostic.to_dict()
    del record["path"]
    return record


def _diagnostic(record: object, path: str) -> Diagnostic:
    """A stored record back as a Diagnostic; TypeError when it is not one."""
    return Diagnostic(path=path, **_checked(record, _FIELDS))


def _checked(record: object, fields: dict) -> dict:
    """A stored record with exactly these fields, of these types; TypeError when it is not one."""
    if not isinstance(record, dict) or set(record) != set(fields):
        raise TypeError("not a record of these fields")
    for field, kind in fields.items():
        value = record[field]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise TypeError(f"bad {field}")
    return record


def _code_stamp() -> bytes:
    """What the findings depend on besides the file and the rules: this code and its parser."""
    import libcst

    parts = [__version__, sys.version]
    sources = [Path(libcst.__file__)]
    package = Path(__file__).resolve().parent
    sources += sorted(package.rglob("*.py"))
    for source in sources:
        try:
            status = source.stat()
        except OSError:
            continue
        parts.append(f"{source}:{status.st_size}:{status.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).digest()
