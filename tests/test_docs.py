"""Rule pages: rendering, and no drift between rules/ and the rule classes."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum

from kerastips.docs import DOCS_DIR, drift, page_name, render, write
from kerastips.rules import ALL_RULES
from kerastips.rules.base import Option, Rule, Severity


class Applicability(Enum):
    UNSAFE = "unsafe"


class Warmup(Rule):
    """## What it does
    Checks for a large batch without warmup.

    ## Why is this bad?
    Early steps diverge.
    """

    code, name, summary = "KT401", "missing-warmup", "No learning-rate warmup"
    options = {"batch-size-threshold": Option(1024, "Smallest batch | that needs warmup.")}
    fix_applicability = Applicability.UNSAFE


class OptIn(Rule):
    """## What it does
    Checks CNN design."""

    code, name, summary = "KT109", "cnn-design", "CNN design inefficiency"
    severity, default_enabled = Severity.ERROR, False


def test_render_with_options_and_fix():
    assert render(Warmup) == (
        "# KT401 missing-warmup\n"
        "\n"
        "No learning-rate warmup\n"
        "\n"
        "- Severity: warning\n"
        "- Default: enabled\n"
        "- Fix: available (unsafe)\n"
        "\n"
        "## Configuration\n"
        "\n"
        "Set in `[tool.kerastips.options.KT401]`.\n"
        "\n"
        "| Option | Default | Description |\n"
        "| --- | --- | --- |\n"
        "| `batch-size-threshold` | `1024` | Smallest batch / that needs warmup. |\n"
        "\n"
        "## What it does\n"
        "Checks for a large batch without warmup.\n"
        "\n"
        "## Why is this bad?\n"
        "Early steps diverge.\n"
    )


def test_render_opt_in_rule_without_fix_or_options():
    assert render(OptIn) == (
        "# KT109 cnn-design\n"
        "\n"
        "CNN design inefficiency\n"
        "\n"
        "- Severity: error\n"
        "- Default: disabled (enable with `--extend-select KT109`)\n"
        "- Fix: not available\n"
        "\n"
        "## What it does\n"
        "Checks CNN design.\n"
    )


def test_write_makes_the_folder_match_and_drift_reports_each_difference(tmp_path):
    folder = tmp_path / "rules"
    assert drift(folder, (Warmup, OptIn)) == ["KT109-cnn-design.md: missing", "KT401-missing-warmup.md: missing"]
    write(folder, (Warmup, OptIn))
    assert drift(folder, (Warmup, OptIn)) == []
    (folder / "KT401-missing-warmup.md").write_text("edited by hand\n")
    (folder / "KT999-gone.md").write_text("old\n")
    assert drift(folder, (Warmup, OptIn)) == [
        "KT401-missing-warmup.md: out of date",
        "KT999-gone.md: no such rule (stale page)",
    ]
    write(folder, (Warmup, OptIn))
    assert sorted(path.name for path in folder.iterdir()) == ["KT109-cnn-design.md", "KT401-missing-warmup.md"]
    assert (folder / "KT401-missing-warmup.md").read_text() == render(Warmup)


def test_every_rule_has_exactly_its_up_to_date_page():
    """Run `python -m kerastips.docs` after changing a rule class."""
    assert drift() == []
    assert sorted(path.name for path in DOCS_DIR.iterdir()) == sorted(map(page_name, ALL_RULES))


def test_every_rule_page_has_the_ruff_sections():
    for rule in ALL_RULES:
        assert rule.doc().startswith("## What it does\n"), rule.code
        assert "\n## Why is this bad?\n" in rule.doc(), rule.code


def test_check_mode_of_the_module_reports_drift_and_exits_1(tmp_path):
    run = [sys.executable, "-m", "kerastips.docs"]
    checked = subprocess.run([*run, "--check", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 1
    assert checked.stderr.splitlines() == [f"{tmp_path}/{page_name(rule)}: missing" for rule in ALL_RULES]
    assert subprocess.run([*run, str(tmp_path)]).returncode == 0
    assert subprocess.run([*run, "--check", str(tmp_path)]).returncode == 0
