"""The lint cache: a warm run says exactly what a cold run says, anything that could change the
findings makes a new entry, and no state of the cache folder is ever an error."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import kerastips.cache
from kerastips.cache import Cache
from kerastips.cli import cli
from kerastips.config import load_settings
from kerastips.diagnostic import Diagnostic, FileError

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BROKEN = "import keras\ndef broken(:\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The samples (real training scripts with findings), a file that cannot be parsed, and a
    pyproject.toml that makes this folder the project root."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SAMPLES, tmp_path / "samples", ignore=shutil.ignore_patterns("*.expected"))
    (tmp_path / "broken.py").write_text(BROKEN)
    (tmp_path / "pyproject.toml").write_text("[tool.kerastips]\n")
    return tmp_path


def lint(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["lint", *args])
    return result.exit_code, result.stdout, result.stderr


def entries(project: Path, folder: str = ".kerastips_cache") -> list[Path]:
    return sorted(p for p in (project / folder).rglob("*") if p.is_file() and p.parent.parent.name == kerastips.__version__)


def test_a_warm_run_is_identical_to_a_cold_one_and_answers_from_the_cache(project):
    cold = lint("--no-cache", ".")
    assert cold[0] == 2 and "Found 26 errors" in cold[1] and cold[2].startswith("broken.py: error: syntax error")
    assert not (project / ".kerastips_cache").exists()  # --no-cache writes nothing

    assert lint(".") == cold  # fills the cache
    stored = entries(project)
    assert len(stored) == len(list(SAMPLES.glob("*.py"))) + 1  # the syntax error too
    assert lint(".") == cold

    # the warm run reads what is stored: an entry edited by hand shows up in the output
    for entry in stored:
        record = json.loads(entry.read_text())
        if record.get("diagnostics"):
            record["diagnostics"][0]["message"] = "FROM THE CACHE"
            entry.write_text(json.dumps(record))
            break
    assert "FROM THE CACHE" in lint(".")[1]
    assert "FROM THE CACHE" not in lint("--no-cache", ".")[1]


def test_the_cache_folder_is_at_the_project_root_and_ignored_by_git(project):
    (project / "sub").mkdir()
    (project / "sub" / "model.py").write_text((SAMPLES / "cnn_digits.py").read_text())
    lint("sub/model.py")
    folder = project / ".kerastips_cache"
    assert (folder / ".gitignore").read_text() == "# Automatically created by kerastips.\n*\n"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert len(entries(project)) == 1
    assert not (project / "sub" / ".kerastips_cache").exists()


def test_cache_dir_is_relative_to_the_configuration(project):
    (project / "pyproject.toml").write_text('[tool.kerastips]\ncache-dir = "build/lint-cache"\n')
    cold = lint("--no-cache", ".")
    assert lint(".") == cold
    assert len(entries(project, "build/lint-cache")) == len(list(SAMPLES.glob("*.py"))) + 1
    assert not (project / ".kerastips_cache").exists()
    (project / "pyproject.toml").write_text("[tool.kerastips]\ncache-dir = 3\n")
    assert lint(".")[0] == 2


def test_changing_the_file_the_rules_or_their_options_makes_a_new_entry(project):
    model = project / "samples" / "cnn_digits.py"
    before = lint(".")
    assert lint(".") == before
    text = model.read_text()
    fixed = text.replace('model.add(tf.keras.layers.Activation("relu"))\n    model.add(tf.keras.layers.BatchNormalization())',
                         'model.add(tf.keras.layers.BatchNormalization())\n    model.add(tf.keras.layers.Activation("relu"))')
    assert fixed != text
    model.write_text(fixed)
    after = lint(".")
    assert after != before and after == lint("--no-cache", ".")

    for args in (["--select", "KT3"], ["--ignore", "KT101"], ["--extend-select", "KT109"]):
        assert lint(*args, ".") == lint("--no-cache", *args, ".") != after

    options = '[tool.kerastips]\nper-file-ignores = { "samples/cnn_*" = ["KT3"] }\n'
    (project / "pyproject.toml").write_text(options)
    ignored = lint(".")
    assert ignored == lint("--no-cache", ".") != after
    (project / "pyproject.toml").write_text("[tool.kerastips.options.KT405]\nepochs-threshold = 1000\n")
    assert lint(".") == lint("--no-cache", ".") != after


def test_another_kerastips_version_does_not_read_the_entries(project, monkeypatch):
    rules = load_settings([]).rules
    data = (SAMPLES / "cnn_digits.py").read_bytes()
    cache = Cache(project / ".kerastips_cache")
    key = cache.key(data, "model.py", rules)
    cache.store(key, [])
    assert cache.load(key, "model.py") == []
    monkeypatch.setattr(kerastips.cache, "__version__", "99.0.0")
    newer = Cache(project / ".kerastips_cache")
    assert newer.key(data, "model.py", rules) != key
    assert newer.load(newer.key(data, "model.py", rules), "model.py") is None


def test_an_entry_keeps_no_path_and_no_notebook_shares_a_python_entry(project):
    rules = load_settings([]).rules
    cache = Cache(project / ".kerastips_cache")
    data = (SAMPLES / "cnn_digits.py").read_bytes()
    assert cache.key(data, "a.py", rules) == cache.key(data, "b/c.py", rules)
    assert cache.key(data, "a.py", rules) != cache.key(data, "a.ipynb", rules)
    found = Diagnostic("a.py", 1, 2, 1, 5, "KT101", "batchnorm-after-activation", "m", "warning", True, "unsafe")
    cache.store("ab" * 32, [found])
    assert cache.load("ab" * 32, "b/c.py") == [Diagnostic(**{**found.to_dict(), "path": "b/c.py"})]
    cache.store("cd" * 32, FileError("a.py", "syntax error at line 2"))
    assert cache.load("cd" * 32, "b/c.py") == FileError("b/c.py", "syntax error at line 2")


def test_a_file_error_keeps_its_place_through_the_cache(project):
    cache = Cache(project / ".kerastips_cache")
    for error in (FileError("a.py", "syntax error at line 2, column 11: invalid syntax", 2, 11),
                  FileError("a.ipynb", "cell 3: syntax error at line 2, column 1: invalid syntax", 2, 1, 3),
                  FileError("a.py", "binary file (contains NUL bytes), not Python source")):
        cache.store("ef" * 32, error)
        loaded = cache.load("ef" * 32, "b/" + error.path)
        assert (loaded.path, loaded.message, loaded.line, loaded.column, loaded.cell) == (
            "b/" + error.path, error.message, error.line, error.column, error.cell)


def test_a_warm_run_reports_a_file_error_at_its_place_as_the_cold_one(project):
    (project / "nb.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": "import keras", "outputs": [], "execution_count": None},
                  {"cell_type": "markdown", "metadata": {}, "source": "prose"},
                  {"cell_type": "code", "metadata": {}, "source": "x = 1\n)", "outputs": [], "execution_count": None}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    args = ("--output-format", "json", "broken.py", "nb.ipynb")
    cold = lint("--no-cache", *args)
    assert lint(*args) == cold  # fills the cache
    assert len(entries(project)) == 2
    warm = lint(*args)
    assert warm == cold
    assert [(r["path"], r["cell"], r["location"], r["end_location"]) for r in json.loads(warm[1])] == [
        ("broken.py", None, {"row": 2, "column": 12}, {"row": 2, "column": 12}),
        ("nb.ipynb", 3, {"row": 2, "column": 1}, {"row": 2, "column": 1}),
    ]


def test_an_entry_of_the_first_layout_is_never_read(project):
    """Before file errors had a place, an entry held the message alone; its key was made without a
    layout number, and an entry of that shape is not a FileError now."""
    rules = load_settings([]).rules
    cache = Cache(project / ".kerastips_cache")
    data = BROKEN.encode()
    key = cache.key(data, "broken.py", rules)
    assert kerastips.cache.FORMAT > 1
    cache.store(key, FileError("broken.py", "syntax error at line 2, column 11: invalid syntax", 2, 11))
    cache._path(key).write_text(json.dumps({"error": "syntax error at line 2, column 11: invalid syntax"}))
    assert cache.load(key, "broken.py") is None
    old = Cache(project / ".kerastips_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kerastips.cache, "FORMAT", 1)
        assert old.key(data, "broken.py", rules) != key


@pytest.mark.parametrize(
    "garbage",
    [b"", b"{", b"\xff\xfe\x00", b"[]", b'{"diagnostics": 3}', b'{"error": 1}', b'{"error": "x"}',
     b'{"error": {"message": "x", "line": 1, "column": 1}}',
     b'{"error": {"message": "x", "line": true, "column": 1, "cell": null}}',
     b'{"diagnostics": [{"line": "x"}]}', b'{"diagnostics": [], "error": "x"}',
     b'{"diagnostics": [{"line": true, "column": 1, "end_line": 1, "end_column": 2, "code": "KT101",'
     b' "name": "n", "message": "m", "severity": "warning", "fix_available": false,'
     b' "fix_applicability": null, "cell": null}]}'],
    ids=["empty", "truncated", "binary", "a list", "not a list", "not a message", "the first layout",
         "an error without its cell", "a bool for a line", "bad record",
         "both", "a bool for an int"],
)
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(project, garbage):
    cold = lint("--no-cache", ".")
    lint(".")
    for entry in entries(project):
        entry.write_bytes(garbage)
    assert lint(".") == cold
    assert all(json.loads(entry.read_bytes()) for entry in entries(project) if entry.stat().st_size > 2)
    assert lint(".") == cold


def test_an_entry_that_cannot_be_read_or_a_cache_that_cannot_be_written_is_no_error(project):
    cold = lint("--no-cache", ".")
    lint(".")
    for entry in entries(project):  # a folder where the entry should be
        entry.unlink()
        entry.mkdir()
    assert lint(".") == cold
    (project / "pyproject.toml").write_text('[tool.kerastips]\ncache-dir = "taken"\n')
    (project / "taken").write_text("a file where the cache folder should be")
    assert lint(".") == cold
    assert (project / "taken").read_text() == "a file where the cache folder should be"


CONCURRENT_WRITER = textwrap.dedent(
    """\
    import sys
    from kerastips.cache import Cache
    from kerastips.diagnostic import Diagnostic, FileError

    cache = Cache(sys.argv[1])
    def outcome(i):
        if i % 3 == 0:
            return FileError("f.py", f"error {i} " + "x" * 5000)
        return [Diagnostic("f.py", i, 1, i, 9, "KT101", "n", f"message {i} " + "y" * 5000, "warning")] * (i % 7)
    for round in range(40):
        for i in range(30):
            key = f"{i:064x}"
            cache.store(key, outcome(i))
            found = cache.load(f"{(i * 7) % 30:064x}", "f.py")
            assert found is None or found == outcome((i * 7) % 30), found
    print("ok")
    """
)


def test_concurrent_writers_and_readers_never_see_half_an_entry(project):
    folder = str(project / "shared-cache")
    writers = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, folder], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [writer.communicate(timeout=120) for writer in writers]
    assert [(writer.returncode, out, err) for writer, (out, err) in zip(writers, results)] == [(0, "ok\n", "")] * 3
    assert not [p for p in Path(folder).rglob(".tmp-*")]


def test_two_concurrent_runs_give_the_cold_output_and_leave_a_sound_cache(project):
    cold = lint("--no-cache", ".")
    command = [sys.executable, "-m", "kerastips", "lint", "."]
    runs = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    outputs = [(run.returncode, *output) for run, output in zip(runs, outputs)]
    assert outputs == [cold, cold]
    assert lint(".") == cold
    assert not [p for p in (project / ".kerastips_cache").rglob(".tmp-*")]
