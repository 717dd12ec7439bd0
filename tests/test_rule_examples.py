"""Every rule's own VALID and INVALID examples, run through the real engine."""

from __future__ import annotations

import textwrap

import pytest

from kerastips.engine import lint_source
from kerastips.fixer import fix_source
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


@pytest.mark.parametrize("rule, example", INVALID)
def test_fix_gives_exactly_the_expected_source(rule, example):
    source = textwrap.dedent(example.code)
    result = fix_source(source, "example.py", [rule()], unsafe=True)
    assert result.fixed == (example.fixed if example.fixed is not None else source)


@pytest.mark.parametrize(
    "rule, example", [p for p in INVALID if p.values[1].fixed is not None]
)
def test_fixed_source_is_clean_and_fixing_it_again_changes_nothing(rule, example):
    assert _lines(rule, example.fixed) == []
    assert fix_source(example.fixed, "example.py", [rule()], unsafe=True).fixed == example.fixed


@pytest.mark.parametrize("rule, example", INVALID)
def test_findings_say_whether_a_fix_is_available(rule, example):
    found = lint_source(textwrap.dedent(example.code), "example.py", [rule()])
    assert {d.fix_available for d in found} == {example.fixed is not None}
    if example.fixed is not None:
        assert {d.fix_applicability for d in found} == {rule.fix_applicability.value}


@pytest.mark.parametrize("rule, example", INVALID)
def test_unsafe_fixes_need_the_unsafe_flag(rule, example):
    source = textwrap.dedent(example.code)
    result = fix_source(source, "example.py", [rule()], unsafe=False)
    if rule.fix_applicability is not None and rule.fix_applicability.value == "unsafe":
        assert result.fixed == source
