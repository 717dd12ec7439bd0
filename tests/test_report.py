"""Reporters, on hand-made diagnostics so each format is pinned down exactly."""

from __future__ import annotations

import json

from kerastips.diagnostic import Diagnostic, FileError
from kerastips.report import file_error_line, render, summary

SOURCE = """\
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.BatchNormalization(),
    layers.Dense(10, activation="softmax"),
])
"""
MESSAGE = "BatchNormalization applied after the 'relu' activation of Dense"


def kt101(path="model.py", line=6, column=5, end_line=6, end_column=32, fix=None) -> Diagnostic:
    return Diagnostic(
        path, line, column, end_line, end_column, "KT101", "batchnorm-after-activation", MESSAGE, "warning",
        fix is not None, fix,
    )


def kt301(path="train.py", line=12) -> Diagnostic:
    return Diagnostic(path, line, 1, line, 10, "KT301", "missing-validation", "fit() without validation", "warning")


def test_concise():
    assert render([kt101(), kt101(line=9, column=1), kt301()], [], "concise") == (
        f"model.py:6:5: KT101 {MESSAGE}\n"
        f"model.py:9:1: KT101 {MESSAGE}\n"
        "train.py:12:1: KT301 fit() without validation\n"
        "Found 3 errors.\n"
    )


def test_concise_marks_safely_fixable_findings_like_ruff():
    assert render([kt101(fix="safe")], []) == f"model.py:6:5: KT101 [*] {MESSAGE}\nFound 1 error.\n"
    assert render([kt101(fix="unsafe")], []) == f"model.py:6:5: KT101 {MESSAGE}\nFound 1 error.\n"


def test_summary_lines():
    assert summary([], []) == "All checks passed!\n"
    assert summary([kt101()], []) == "Found 1 error.\n"
    assert summary([kt101(), kt301()], [FileError("x.py", "no such file or directory")]) == (
        "Found 2 errors; 1 file could not be linted.\n"
    )
    assert summary([], [FileError("x.py", "a"), FileError("y.py", "b")]) == (
        "Found 0 errors; 2 files could not be linted.\n"
    )


def test_file_error_line():
    assert file_error_line(FileError("data/x.py", "binary file")) == "data/x.py: error: binary file"


def test_full_shows_context_and_underlines_the_span(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(SOURCE)
    assert render([kt101()], [], "full") == (
        f"model.py:6:5: KT101 {MESSAGE}\n"
        "  |\n"
        "4 | model = keras.Sequential([\n"
        '5 |     layers.Dense(64, activation="relu"),\n'
        "6 |     layers.BatchNormalization(),\n"
        "  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^ KT101\n"
        '7 |     layers.Dense(10, activation="softmax"),\n'
        "8 | ])\n"
        "  |\n"
        "\n"
        "Found 1 error.\n"
    )


def test_full_multiline_span_tabs_blank_context_and_wide_line_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = ["x = 1"] * 7 + ["", "def train(model):", "\tmodel.fit(", "\t\tx,", "\t)", "", ""]
    (tmp_path / "train.py").write_text("\n".join(lines))
    finding = Diagnostic("train.py", 10, 2, 12, 3, "KT301", "missing-validation", "no validation", "warning")
    assert render([finding], [], "full") == (
        "train.py:10:2: KT301 no validation\n"
        "   |\n"
        " 9 | def train(model):\n"
        "10 | \tmodel.fit(\n"
        "   | \t^^^^^^^^^^ KT301\n"
        "11 | \t\tx,\n"
        "12 | \t)\n"
        "   |\n"
        "\n"
        "Found 1 error.\n"
    )


def test_full_falls_back_to_the_concise_line_when_the_source_is_gone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert render([kt101()], [], "full") == f"model.py:6:5: KT101 {MESSAGE}\n\nFound 1 error.\n"


def test_json_round_trip_with_file_errors_as_e902_records():
    records = json.loads(render([kt301(), kt101(fix="unsafe")], [FileError("broken.py", "syntax error")], "json"))
    assert [(record["path"], record["code"]) for record in records] == [
        ("broken.py", "E902"),
        ("model.py", "KT101"),
        ("train.py", "KT301"),
    ]
    assert records[0] == {
        "code": "E902",
        "name": "file-error",
        "message": "syntax error",
        "severity": "error",
        "path": "broken.py",
        "location": {"row": 1, "column": 1},
        "end_location": {"row": 1, "column": 1},
        "fix": {"available": False, "applicability": None},
    }
    assert records[1]["fix"] == {"available": True, "applicability": "unsafe"}
    assert (records[2]["location"], records[2]["end_location"]) == ({"row": 12, "column": 1}, {"row": 12, "column": 10})


def test_json_of_a_clean_run_is_an_empty_array():
    assert render([], [], "json") == "[]\n"


def test_statistics_most_frequent_first():
    findings = [kt301(), kt101(), kt301(line=20), *(kt101(line=n) for n in range(30, 39))]
    assert render(findings, [], "concise", statistics=True) == (
        "10\tKT101\tbatchnorm-after-activation\n"
        " 2\tKT301\tmissing-validation\n"
        "Found 12 errors.\n"
    )
    assert json.loads(render(findings, [], "json", statistics=True)) == [
        {"code": "KT101", "name": "batchnorm-after-activation", "count": 10},
        {"code": "KT301", "name": "missing-validation", "count": 2},
    ]
    assert render([], [], "full", statistics=True) == "All checks passed!\n"
