"""Rule documentation pages, rendered from the rule classes into rules/<CODE>-<name>.md.

`python -m kerastips.docs` rewrites the folder (and removes pages of rules that no longer
exist); `python -m kerastips.docs --check` only reports drift. `kerastips rule CODE` prints the
same text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import click

from kerastips import HOMEPAGE
from kerastips.rules import ALL_RULES
from kerastips.rules.base import Rule

DOCS_DIR = Path(__file__).resolve().parent.parent / "rules"
README = DOCS_DIR.parent / "README.md"
TABLE_START, TABLE_END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def page_name(rule: type[Rule]) -> str:
    return f"{rule.code}-{rule.name}.md"


def rule_url(rule: type[Rule]) -> str:
    """Where the rule's page is read on the web (SARIF helpUri)."""
    return f"{HOMEPAGE}/blob/main/rules/{page_name(rule)}"


def section(rule: type[Rule], title: str) -> str | None:
    """The body of one `## title` section of the rule's documentation, or None."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", rule.doc(), re.M | re.S)
    return match.group(1).strip() if match else None


def render(rule: type[Rule]) -> str:
    """A rule's page: title, metadata, options table, then the class docstring."""
    default = "enabled"
    if not rule.default_enabled:
        default = f"disabled (enable with `--extend-select {rule.code}`)"
    parts = [
        f"# {rule.code} {rule.name}\n",
        f"{rule.summary}\n",
        f"- Severity: {rule.severity.value}\n- Default: {default}\n- Fix: {_fix(rule)}\n",
    ]
    if rule.options:
        rows = "".join(
            f"| `{key}` | `{json.dumps(option.default)}` | {option.description.replace('|', '/')} |\n"
            for key, option in rule.options.items()
        )
        parts.append(
            f"## Configuration\n\nSet in `[tool.kerastips.options.{rule.code}]`.\n\n"
            f"| Option | Default | Description |\n| --- | --- | --- |\n{rows}"
        )
    parts.append(rule.doc() + "\n")
    return "\n".join(parts)


def _fix(rule: type[Rule]) -> str:
    applicability = getattr(rule, "fix_applicability", None)  # set only by rules that have a fix
    if applicability is None:
        return "not available"
    return f"available ({getattr(applicability, 'value', applicability)})"


def rules_table(rules: Sequence[type[Rule]] = ALL_RULES) -> str:
    """The README's rule table: one row per rule, linking its page."""
    rows = "".join(
        f"| [{rule.code}](rules/{page_name(rule)}) | {rule.name} | {rule.severity.value} | "
        f"{_fix(rule).replace('available (', '').rstrip(')').replace('not available', '-')} | "
        f"{rule.summary}{'' if rule.default_enabled else ' (opt-in)'} |\n"
        for rule in rules
    )
    return f"| Code | Name | Severity | Fix | Summary |\n| --- | --- | --- | --- | --- |\n{rows}"


def with_rules_table(readme: str, rules: Sequence[type[Rule]] = ALL_RULES) -> str:
    """The README text with its generated rule table brought up to date."""
    start, end = readme.index(TABLE_START) + len(TABLE_START), readme.index(TABLE_END)
    return f"{readme[:start]}\n{rules_table(rules)}{readme[end:]}"


def pages(rules: Sequence[type[Rule]] = ALL_RULES) -> dict[str, str]:
    """File name -> text, one page per rule."""
    return {page_name(rule): render(rule) for rule in rules}


def drift(folder: Path = DOCS_DIR, rules: Sequence[type[Rule]] = ALL_RULES) -> list[str]:
    """What differs between the folder and the rule classes, one line per page; empty when none."""
    expected = pages(rules)
    present = {path.name for path in folder.iterdir() if path.is_file()} if folder.is_dir() else set()
    problems = [f"{name}: missing" for name in sorted(set(expected) - present)]
    problems += [
        f"{name}: out of date"
        for name in sorted(set(expected) & present)
        if (folder / name).read_text(encoding="utf-8") != expected[name]
    ]
    problems += [f"{name}: no such rule (stale page)" for name in sorted(present - set(expected))]
    if folder == DOCS_DIR and README.is_file():
        text = README.read_text(encoding="utf-8")
        if with_rules_table(text, rules) != text:
            problems.append("../README.md: rule table out of date")
    return problems


def write(folder: Path = DOCS_DIR, rules: Sequence[type[Rule]] = ALL_RULES) -> None:
    """Make the folder hold exactly one up-to-date page per rule."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = pages(rules)
    for path in folder.iterdir():
        if path.is_file() and path.name not in expected:
            path.unlink()
    for name, text in expected.items():
        (folder / name).write_text(text, encoding="utf-8")
    if folder == DOCS_DIR and README.is_file():
        README.write_text(with_rules_table(README.read_text(encoding="utf-8"), rules), encoding="utf-8")


@click.command()
@click.option("--check", is_flag=True, help="Report drift and exit 1 instead of writing.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=DOCS_DIR)
def main(check: bool, folder: Path) -> None:
    """Regenerate the rule documentation pages in FOLDER (default: the repository's rules/)."""
    if not check:
        write(folder)
        return
    problems = drift(folder)
    for problem in problems:
        click.echo(f"{folder}/{problem}", err=True)
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
