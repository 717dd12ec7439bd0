"""Expand the command line's PATHS into the Python files and Jupyter notebooks to lint.

Folders are walked; what is never user code (VCS folders, caches, virtualenvs, build output), the
`exclude` globs and git-ignored paths are skipped on the way. A path named on the command line is
always linted, unless `force_exclude` is set and an exclusion covers it (Ruff's --force-exclude,
for pre-commit, which passes file names explicitly).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Iterator, Sequence

from kerastips.config import CACHE_DIR, Settings
from kerastips.diagnostic import FileError
from kerastips.engine import NOTEBOOK_SUFFIX, unreadable

SOURCE_SUFFIXES = (".py", NOTEBOOK_SUFFIX)
SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "__pycache__", CACHE_DIR,
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", ".eggs",
        ".venv", "venv", ".tox", ".nox", "__pypackages__", "node_modules", "site-packages",
        "build", "dist",
    }
)


def discover(
    paths: Sequence[str | os.PathLike], settings: Settings, *, force_exclude: bool = False
) -> tuple[list[Path], list[FileError]]:
    """The files to lint, sorted and without duplicates, and a FileError per unusable path.

    Each file keeps the spelling of the path it was found under, so `str(path)` is what to show.
    """
    found: dict[str, Path] = {}  # real path -> first spelling, so links and repeats lint once
    errors: list[FileError] = []
    walker = _Walker(settings, errors)
    for given in paths or (".",):
        path = Path(given)
        try:
            folder = stat.S_ISDIR(os.stat(path).st_mode)
        except OSError as exc:  # missing, in a folder that cannot be searched, a link loop
            errors.append(FileError(str(path), unreadable(exc)))
            continue
        if not (force_exclude and excluded_with_parents(path, settings)):
            for file in walker.walk(path) if folder else (path,):
                found.setdefault(os.path.realpath(file), file)
    return sorted(found.values(), key=str), errors


def excluded_with_parents(path: Path, settings: Settings) -> bool:
    """Whether an explicitly named path, or a folder it lies in below the project root, is
    excluded."""
    absolute = Path(os.path.abspath(path))
    root = settings.root
    depth = len(absolute.relative_to(root).parts) if absolute.is_relative_to(root) else 1
    return any(
        settings.is_excluded(p) or (os.path.isdir(p) and p.name in SKIPPED_DIRS)
        for p in [absolute, *absolute.parents][:depth]
    )


class _Walker:
    def __init__(self, settings: Settings, errors: list[FileError]) -> None:
        self.settings = settings
        self.errors = errors
        self.git = _GitIgnored()

    def walk(self, root: Path) -> Iterator[Path]:
        """Source files below `root`, following links to folders but entering each folder once."""
        seen: set[str] = set()
        stack = [(root, Path(os.path.abspath(root)), self.git.repository_of(os.path.abspath(root)))]
        while stack:
            shown, absolute, repo = stack.pop()
            real = os.path.realpath(absolute)
            if real in seen:  # a link loop or a second link to the same folder
                continue
            seen.add(real)
            if os.path.exists(absolute / ".git"):  # os.path: False, not an error, when unsearchable
                repo = str(absolute)
            try:
                entries = sorted(os.scandir(absolute), key=lambda entry: entry.name)
            except OSError as exc:
                reason = f"cannot read folder: {exc.strerror or exc}"
                self.errors.append(FileError(str(shown), reason))
                continue
            folders = []
            for entry in entries:
                path = absolute / entry.name
                if self.settings.is_excluded(path) or self.git.ignored(repo, path):
                    continue
                try:
                    folder, file = entry.is_dir(), entry.is_file()
                except OSError:  # a link into a folder that cannot be searched: as a broken link
                    continue
                if folder:
                    if entry.name not in SKIPPED_DIRS and not os.path.exists(path / "pyvenv.cfg"):
                        folders.append((shown / entry.name, path, repo))
                elif entry.name.endswith(SOURCE_SUFFIXES) and file:
                    yield shown / entry.name
            # in name order, so a folder reached through two names is listed under the first
            stack.extend(reversed(folders))


class _GitIgnored:
    """The paths git ignores, asked once per repository; empty when git is missing or fails."""

    def __init__(self) -> None:
        self._by_repo: dict[str, frozenset[str]] = {}

    @staticmethod
    def repository_of(folder: str) -> str | None:
        for candidate in (folder, *map(str, Path(folder).parents)):
            if os.path.exists(os.path.join(candidate, ".git")):
                return candidate
        return None

    def ignored(self, repo: str | None, path: Path) -> bool:
        if repo is None:
            return False
        if repo not in self._by_repo:
            self._by_repo[repo] = _list_ignored(repo)
        return str(path) in self._by_repo[repo]


def _list_ignored(repo: str) -> frozenset[str]:
    """Untracked ignored files and folders (a folder listed once, not its contents)."""
    command = ["git", "-C", repo, "ls-files", "-z", "--others", "--ignored", "--exclude-standard"]
    command.append("--directory")  # an ignored folder once, not every file in it
    # GIT_DIR and friends (set inside git hooks) would point git at another repository
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    try:
        listing = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, check=True, timeout=60, env=env
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(
        os.path.join(repo, os.fsdecode(name).rstrip("/")) for name in listing.split(b"\0") if name
    )
