"""Property-based tests: lint and fix never raise, and fixing never corrupts code.

Three sources of input: any valid Python (hypothesmith), Keras training scripts written from the
rules' own vocabulary (kerasgen, so that rules and fixes fire), and the bundled samples mutated
line by line. The examples are derandomized and bounded for CI (see conftest.py for the profiles
and how to run more)."""

from __future__ import annotations

import re
from pathlib import Path

import hypothesmith
import libcst as cst
from hypothesis import example, given, note
from hypothesis import strategies as st

from kerasgen import as_notebook, keras_modules
from kerastips.diagnostic import FileError
from kerastips.engine import analysing, check, lint_bytes, lint_source, per_file, python_parser_quiet
from kerastips.fixer import WriteError, fix_bytes, fix_source
from kerastips.rules import ALL_RULES

RULES = [rule() for rule in ALL_RULES]  # the opt-in rules too
SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples").glob("*.py"))
_IMPORT = re.compile(r"\s*(?:from\s+\S+\s+)?import\s")


def parses(source: str) -> bool:
    try:
        with python_parser_quiet():  # its warnings about odd code are noise here
            compile(source, "<fixed>", "exec", dont_inherit=True)
        cst.parse_module(source)
    except (SyntaxError, cst.ParserSyntaxError):
        return False
    return True


# ---- any valid Python ----------------------------------------------------------------------------

python_modules = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())


@given(python_modules)
def test_lint_and_fix_never_raise_on_valid_python(source):
    source += "\n# keras\n"  # past the pre-filter, so that every module is parsed and analysed
    assert lint_source(source, "module.py", RULES) is not None
    for unsafe in (False, True):
        fixed = fix_source(source, "module.py", RULES, unsafe=unsafe).fixed
        assert fixed == source or parses(fixed)


# ---- Keras training scripts ----------------------------------------------------------------------

@given(keras_modules())
def test_fixes_parse_are_idempotent_and_leave_what_lint_says_is_left(source):
    note(source)
    lint_source(source, "train.py", RULES)
    for unsafe in (False, True):
        once = fix_source(source, "train.py", RULES, unsafe=unsafe)
        assert parses(once.fixed)
        twice = fix_source(once.fixed, "train.py", RULES, unsafe=unsafe)
        assert (twice.fixed, twice.applied) == (once.fixed, [])
        assert lint_source(once.fixed, "train.py", RULES) == once.remaining


@given(keras_modules())
@example("from tensorflow import keras\nmodel = keras.Sequential()\n"
         "model.add(keras.layers.Dense(8, activation='relu'))\nmodel.add(keras.layers.BatchNormalization())\n"
         "model.compile(optimizer='sgd', loss='mse')\nmodel.fit(x, y, epochs=200)\n")
def test_each_round_of_fixes_changes_only_the_nodes_it_fixes(source):
    """Round by round: every line the fixes change lies within a node that a fixed finding's fix
    edits (or is an import a fix needs); the rest of the file is kept line for line."""
    note(source)
    for _ in range(10):
        with analysing():
            _, reports = check(source, "train.py", RULES)
        done = fix_source(source, "train.py", RULES, unsafe=True, rounds=1)
        if not done.applied:
            break
        spans = [span for report in reports if report.diagnostic in done.applied for span in report.fix_lines]
        assert None not in spans
        outside = changed_outside(source, done.fixed, spans)
        assert outside == [], f"changed outside {spans}: {outside}"
        source = done.fixed


def changed_outside(before: str, after: str, spans: list[tuple[int, int]]) -> list[str]:
    """The lines of `after` that the edits of `spans` (lines of `before`) cannot explain: `after`
    must be `before` with each run of edited lines replaced by anything, imports aside."""
    edited = {line for first, last in spans for line in range(first, last + 1)}
    pattern: list[str | None] = []  # kept lines, None for a run of edited ones
    for number, line in enumerate(before.split("\n"), 1):
        if number in edited:
            if not pattern or pattern[-1] is not None:
                pattern.append(None)
        elif not _IMPORT.match(line):
            pattern.append(line)
    lines = [line for line in after.split("\n") if not _IMPORT.match(line)]
    segments = _split(pattern)
    at = 0
    for index, segment in enumerate(segments):
        anchored_start = index == 0 and pattern[:1] != [None]
        anchored_end = index == len(segments) - 1 and pattern[-1:] != [None]
        found = _find(lines, segment, at, anchored_start, anchored_end)
        if found is None:
            return segment
        at = found + len(segment)
    return []


def test_the_check_of_changed_lines_catches_a_change_outside_the_edited_nodes():
    before = "import keras\na = 1\nb = 2\nc = 3\n"
    assert changed_outside(before, "import keras\na = 1\nB = 2\nb2 = 0\nc = 3\n", [(3, 3)]) == []
    assert changed_outside(before, "from x import y\nimport keras\na = 1\nb = 2\nc = 3\n", []) == []
    assert changed_outside(before, "import keras\na = 1\nB = 2\nc = 4\n", [(3, 3)]) == ["c = 3", ""]
    assert changed_outside(before, "import keras\nb = 2\na = 1\nc = 3\n", [(3, 3)]) == ["a = 1"]
    assert changed_outside(before, "import keras\nA = 1\nb = 2\nc = 3\n", [(3, 4)]) == ["a = 1"]


def _split(pattern: list[str | None]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for item in pattern:
        if item is None:
            segments.append([])
        else:
            segments[-1].append(item)
    return segments


def _find(lines: list[str], segment: list[str], start: int, at_start: bool, at_end: bool) -> int | None:
    """Where `segment` first occurs in `lines` from `start` (only at `start`, or only at the end)."""
    candidates = [start] if at_start else range(start, len(lines) - len(segment) + 1)
    if at_end:
        candidates = [i for i in candidates if i == len(lines) - len(segment)]
    return next((i for i in candidates if i >= start and lines[i:i + len(segment)] == segment), None)


# ---- the samples, mutated ------------------------------------------------------------------------

def mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    """Delete, duplicate or swap lines, or truncate (at a byte, even inside a character)."""
    lines = data.splitlines(keepends=True)
    for kind, i, j in edits:
        if not lines:
            break
        i, j = i % len(lines), j % len(lines)
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            text = b"".join(lines)
            lines = [text[:(i * 7919 + j) % (len(text) + 1)]]
    return b"".join(lines)


edit = st.tuples(st.sampled_from(["delete", "duplicate", "swap", "truncate"]),
                 st.integers(0, 10_000), st.integers(0, 10_000))
edits = st.lists(edit, min_size=1, max_size=6)


def outcome_is_clean(name: str, data: bytes) -> None:
    """Findings, or one line for the file; when fixes apply, the new content is sound."""
    linted = per_file(name, lambda: lint_bytes(data, name, RULES))
    # a file's error, or a notebook's linted in part (after the findings of its other cells)
    errors = [linted] if isinstance(linted, FileError) else [x for x in linted if isinstance(x, FileError)]
    assert all("internal error" not in error.message and "\n" not in error.message for error in errors), errors
    for unsafe in (False, True):
        fixed = per_file(name, lambda: fix_bytes(data, name, RULES, unsafe), (Exception,))
        if isinstance(fixed, FileError):
            assert [fixed.message] == [error.message for error in errors]  # the same error as lint, or none
            continue
        assert parses(fixed.fixed) or not parses(fixed.original)  # never worse than it was
        written = per_file(name, fixed.fixed_bytes, (WriteError,))
        if fixed.changed and not isinstance(written, FileError):
            # what is left is what lint finds in the file as written, cells and lines included
            assert lint_bytes(written, name, RULES) == fixed.remaining


@given(st.sampled_from(SAMPLES), edits)
def test_mutated_samples_give_findings_or_one_clean_error(sample, edits):
    outcome_is_clean(sample.name, mutate(sample.read_bytes(), edits))


@given(st.sampled_from(SAMPLES), edits, st.lists(edit, max_size=2))
def test_mutated_notebooks_give_findings_or_one_clean_error(sample, code_edits, json_edits):
    notebook = as_notebook(mutate(sample.read_bytes(), code_edits))
    outcome_is_clean(sample.stem + ".ipynb", mutate(notebook, json_edits))
