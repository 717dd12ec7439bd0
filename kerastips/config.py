"""Settings: `[tool.kerastips]` from the nearest pyproject.toml, layered under the command line.

Rule selection works like Ruff's: the defaults, then the config file's layer, then the command
line's layer, where each layer's `select` starts over, `extend-select` adds and `ignore` removes.
"""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

from kerastips.rules import ALL_RULES
from kerastips.rules.base import Rule

# Every key of [tool.kerastips], with what `kerastips init` says about it.
KEY_HELP = {
    "select": "Rules to run: codes (\"KT101\"), prefixes (\"KT3\", \"KT\") or \"ALL\". Default: every rule\n"
              "that is on by default (`kerastips rules` lists them all).",
    "extend-select": "Rules to run on top of `select`, e.g. the opt-in [\"KT109\"].",
    "ignore": "Rules not to run.",
    "per-file-ignores": "Rules not to run on some files: { \"glob\" = [codes] }, e.g. { \"tests/*\" = [\"KT301\"] }.",
    "exclude": "Files and folders not to lint, besides version control, caches, virtual environments,\n"
               "build, dist and what git ignores. Globs are relative to this file's folder; a glob\n"
               "without \"/\" matches a name anywhere.",
    "extend-exclude": "More globs not to lint, added to `exclude`.",
    "cache-dir": "The folder of the lint cache, relative to this file's folder.",
    "options": "Rule options, one table per rule (the values shown are the defaults):",
}
KEYS = tuple(KEY_HELP)
CACHE_DIR = ".kerastips_cache"
_SELECTOR = re.compile(r"ALL|KT[0-9]{0,3}")


class ConfigError(Exception):
    """Unusable configuration or rule selection; the message is one line naming the key."""


@dataclass(frozen=True)
class Selection:
    """One layer of rule selection, already validated and expanded to rule codes."""

    select: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()

    def apply(self, codes: frozenset[str]) -> frozenset[str]:
        if self.select is not None:
            codes = self.select
        return (codes | self.extend_select) - self.ignore


@dataclass
class Settings:
    """What to lint and with which rules. Paths are matched relative to `root` (the directory of
    the config file, else the working directory)."""

    root: Path
    config_path: Path | None
    rules: tuple[Rule, ...]
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    exclude: tuple[str, ...] = ()
    cache_dir: str = CACHE_DIR  # relative to `root`, or absolute
    _by_ignored: dict[frozenset[str], tuple[Rule, ...]] = field(default_factory=dict, repr=False)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.rules)

    def rules_for(self, path: str | os.PathLike) -> tuple[Rule, ...]:
        """The rule instances to run on one file, after its per-file-ignores."""
        rel = self.relative(path)
        ignored = frozenset().union(
            *(codes for pattern, codes in self.per_file_ignores if glob_matches(pattern, rel))
        )
        if ignored not in self._by_ignored:
            self._by_ignored[ignored] = tuple(r for r in self.rules if r.code not in ignored)
        return self._by_ignored[ignored]

    @property
    def cache_folder(self) -> Path:
        return self.root / self.cache_dir

    def is_excluded(self, path: str | os.PathLike) -> bool:
        """Whether the file or folder itself matches an `exclude`/`extend-exclude` glob."""
        rel = self.relative(path)
        return any(glob_matches(pattern, rel) for pattern in self.exclude)

    def relative(self, path: str | os.PathLike) -> str:
        absolute = Path(os.path.abspath(path))
        try:
            return absolute.relative_to(self.root).as_posix()
        except ValueError:
            return absolute.as_posix()


def glob_matches(pattern: str, rel: str) -> bool:
    """Ruff-like glob matching: against the root-relative path or, for a pattern without a slash,
    the base name; a leading `**/` also matches at the root."""
    pattern = pattern.removeprefix("./").rstrip("/")
    if "/" not in pattern:
        return fnmatchcase(rel.rsplit("/", 1)[-1], pattern)
    at_root = pattern.startswith("**/") and fnmatchcase(rel, pattern[3:])
    return at_root or fnmatchcase(rel, pattern)


def load_settings(
    paths: Sequence[str | os.PathLike] = (),
    *,
    config: str | os.PathLike | None = None,
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    registry: Sequence[type[Rule]] = ALL_RULES,
) -> Settings:
    """Build the settings for a run; raises ConfigError.

    `config` names the TOML file to use; otherwise the nearest pyproject.toml with a
    `[tool.kerastips]` table above the first path (or the working directory) is used.
    `select`/`extend_select`/`ignore` are the command line's selectors (None: no --select).
    """
    known = tuple(sorted(registry, key=lambda rule: rule.code))
    if config is not None:
        config_path: Path | None = Path(os.path.abspath(config))
        table = _read_table(config_path, required=True)
    else:
        config_path, table = find_config(paths[0] if paths else ".")
    label = _shown(config_path) + ": [tool.kerastips]" if config_path else ""

    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{label} unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")

    def config_key(key: str) -> str:
        return f"{label} {key}"

    cli = {"select": select, "extend-select": extend_select, "ignore": ignore}
    codes = frozenset(rule.code for rule in known if rule.default_enabled)
    for values, where in ((table, config_key), (cli, lambda key: f"--{key}")):
        codes = _selection(values, where, known).apply(codes)

    return Settings(
        root=config_path.parent if config_path else Path(os.getcwd()),
        config_path=config_path,
        rules=_instantiate(codes, table.get("options", {}), label, known),
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores", {}), config_key, known),
        exclude=tuple(
            pattern
            for key in ("exclude", "extend-exclude")
            for pattern in _strings(table.get(key, []), config_key(key))
        ),
        cache_dir=_folder(table.get("cache-dir", CACHE_DIR), config_key("cache-dir")),
    )


def find_config(start: str | os.PathLike) -> tuple[Path | None, dict[str, Any]]:
    """The nearest pyproject.toml at or above `start` that has a `[tool.kerastips]` table."""
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            table = _read_table(candidate, required=False)
            if table is not None:
                return candidate, table
    return None, {}


def _read_table(path: Path, *, required: bool) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{_shown(path)}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{_shown(path)}: cannot read: {exc.strerror or exc}") from None
    try:
        document = load_toml(data)
    except ConfigError as exc:
        raise ConfigError(f"{_shown(path)}: {exc}") from None
    tool = document.get("tool")
    table = tool.get("kerastips") if isinstance(tool, dict) else None
    if table is None and required:
        raise ConfigError(f"{_shown(path)}: no [tool.kerastips] table")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{_shown(path)}: [tool.kerastips] must be a table")
    return table


def load_toml(document: bytes | str) -> dict[str, Any]:
    """A TOML document's content; a ConfigError saying why it is not TOML (tomllib also raises
    ValueError and RecursionError on some invalid documents)."""
    try:
        text = document.decode("utf-8") if isinstance(document, bytes) else document
    except UnicodeDecodeError as exc:
        raise ConfigError(f"invalid TOML: not UTF-8 (at byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer too long to convert
        raise ConfigError(f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError("invalid TOML: nested too deeply") from None


def _selection(values: Mapping[str, Any], where: Callable[[str], str], known) -> Selection:
    def codes(key: str) -> frozenset[str]:
        value = values.get(key)
        return frozenset() if value is None else _codes(value, where(key), known)

    return Selection(
        select=None if values.get("select") is None else codes("select"),
        extend_select=codes("extend-select"),
        ignore=codes("ignore"),
    )


def _codes(selectors: Any, where: str, known: Sequence[type[Rule]]) -> frozenset[str]:
    """Rule codes named by a list of exact codes, prefixes ("KT3", "KT") or "ALL"."""
    codes: set[str] = set()
    for selector in _strings(selectors, where):
        wanted = selector.strip().upper()
        matched = {rule.code for rule in known if wanted == "ALL" or rule.code.startswith(wanted)}
        if not matched or not _SELECTOR.fullmatch(wanted):
            raise ConfigError(f"{where}: unknown rule selector {selector!r}")
        codes |= matched
    return frozenset(codes)


def _per_file_ignores(value: Any, where: Callable[[str], str], known) -> tuple:
    pairs = []
    for pattern, selectors in _table(value, where("per-file-ignores")).items():
        key = where(f'per-file-ignores."{pattern}"')
        pairs.append((pattern, _codes(selectors, key, known)))
    return tuple(pairs)


def _instantiate(codes: frozenset[str], options: Any, label: str, known) -> tuple[Rule, ...]:
    """The selected rules, built with their `[tool.kerastips.options.<CODE>]` tables; every
    configured table is validated, also for rules that are not selected."""
    by_code = {rule.code: rule for rule in known}
    tables = _table(options, f"{label} options")
    for code, table in tables.items():
        if code not in by_code:
            raise ConfigError(f"{label} options: unknown rule code {code!r}")
        _table(table, f"{label} options.{code}")
    built = {}
    for code in sorted(codes | set(tables)):
        try:
            built[code] = by_code[code](tables.get(code))
        except ValueError as exc:  # the rule names the option and what is wrong with it
            raise ConfigError(f"{label} {exc}") from None
    return tuple(built[code] for code in sorted(codes))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _folder(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a folder (a string), got {value!r}")
    return value


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table, got {value!r}")
    return value


def _shown(path: Path) -> str:
    """A path as the user would write it: relative when under the working directory."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


# ---- kerastips init ----------------------------------------------------------------------------


def snippet(registry: Sequence[type[Rule]] = ALL_RULES) -> str:
    """A `[tool.kerastips]` section naming every key and rule option, each commented out at its
    default, so the section as written changes nothing and uncommenting a line is a valid start.
    JSON spells the defaults (lists, strings, numbers, booleans, {}) as TOML does."""
    known = sorted(registry, key=lambda rule: rule.code)
    defaults: dict[str, Any] = {key: [] for key in KEYS}
    defaults["select"] = [rule.code for rule in known if rule.default_enabled]
    defaults["per-file-ignores"] = {}
    defaults["cache-dir"] = CACHE_DIR
    lines = ["[tool.kerastips]"]
    for key, text in KEY_HELP.items():
        lines += [""] if key == "options" else []
        lines += [f"# {line}" for line in text.splitlines()]
        if key != "options":
            lines += _commented(f"{key} = {json.dumps(defaults[key])}")
    for rule in known:
        if rule.options:
            lines += ["#", f"# [tool.kerastips.options.{rule.code}]  # {rule.name}"]
            lines += [f"# {key} = {json.dumps(option.default)}  # {option.description}"
                      for key, option in rule.options.items()]
    return "\n".join(lines) + "\n"


def _commented(line: str) -> list[str]:
    """`# line`, wrapped at spaces (inside a list, where TOML allows line breaks)."""
    return textwrap.wrap(line, 99, initial_indent="# ", subsequent_indent="#     ",
                         break_long_words=False, break_on_hyphens=False)


def with_section(existing: str | None, section: str) -> str:
    """`existing` (a pyproject.toml's text, or None when there is none) with `section` appended,
    keeping every byte before it; ConfigError when the file cannot take it."""
    if existing is None:
        return section
    tool = load_toml(existing).get("tool")
    if isinstance(tool, dict) and "kerastips" in tool:
        raise ConfigError("already has a [tool.kerastips] table")
    newline = "\r\n" if "\r\n" in existing else "\n"
    gap = "" if not existing.strip() else newline if existing.endswith("\n") else newline * 2
    text = existing + gap + section.replace("\n", newline)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:  # e.g. `tool` is an inline table, which cannot be extended
        raise ConfigError("its `tool` key cannot take a [tool.kerastips] table") from None
    return text
