"""Every rule's own VALID and INVALID examples, run through the real engine."""

from __future__ import annotations

import textwrap

import pytest

from kerastips.engine import lint_source
from kerastips.rules import ALL_RULES

VALID = [
    pytest.param(rule, source, id=f"{rule.code}-valid-{i}")
    for rule in ALL_RULES
    for i, source in enumerate(rule.VALID)
]
INVALID = [
    pytest.param(rule, example, id=f"{rule.code}-invalid-{i}")
    for rule in ALL_RULES
    for i, example in enumerate(rule.INVALID)
]


def _lines(rule, source: str) -> list[int]:
    found = lint_source(textwrap.dedent(source), "example.py", [rule()])
    assert all(d.code == rule.code for d in found)
    return [d.line for d in found]


@pytest.mark.parametrize("rule, source", VALID)
def test_valid_example_is_clean(rule, source):
    assert _lines(rule, source) == []


@pytest.mark.parametrize("rule, example", INVALID)
def test_invalid_example_is_flagged_at_exact_lines(rule, example):
    assert _lines(rule, example.code) == list(example.lines)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_every_rule_has_examples(rule):
    assert rule.VALID and rule.INVALID
