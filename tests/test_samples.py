"""The shipped samples: `kerastips lint samples/` prints exactly the findings recorded next to
each script, and the json output carries the same findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kerastips.rules import rule_by_code

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "samples").glob("*.py"))


def _kerastips(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kerastips", *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )


def _expected(sample: Path) -> list[str]:
    return sample.with_suffix(".expected").read_text().splitlines()


def test_there_are_at_least_six_samples_each_with_expected_findings():
    assert len(SAMPLES) >= 6
    assert all(sample.with_suffix(".expected").is_file() for sample in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_sample_findings_are_exactly_the_expected_ones(sample):
    result = _kerastips("lint", f"samples/{sample.name}")
    findings = [line for line in result.stdout.splitlines() if line.startswith("samples/")]
    assert findings == _expected(sample)
    assert result.returncode == (1 if findings else 0)


def test_lint_samples_folder_prints_every_expected_finding():
    result = _kerastips("lint", "samples/")
    expected = [line for sample in SAMPLES for line in _expected(sample)]
    assert result.stdout.splitlines() == expected + [f"Found {len(expected)} errors."]
    assert result.returncode == 1


def test_json_output_round_trips_to_the_concise_findings():
    records = json.loads(_kerastips("lint", "samples/", "--output-format", "json").stdout)
    concise = [
        f"{r['path']}:{r['location']['row']}:{r['location']['column']}: {r['code']} "
        f"{'[*] ' if r['fix']['applicability'] == 'safe' else ''}{r['message']}"
        for r in records
    ]
    assert concise == [line for sample in SAMPLES for line in _expected(sample)]
    assert all(r["severity"] == rule_by_code(r["code"]).severity.value for r in records)
    assert all(r["fix"] in ({"available": False, "applicability": None},
                            {"available": True, "applicability": "unsafe"},
                            {"available": True, "applicability": "safe"}) for r in records)


def test_every_core_rule_and_every_rule_family_is_shown_by_the_samples():
    codes = {line.split(": ")[1].split()[0] for s in SAMPLES for line in _expected(s)}
    assert {"KT101", "KT301", "KT302", "KT401"} <= codes
    assert {code[:3] for code in codes} == {"KT1", "KT2", "KT3", "KT4", "KT5"}
