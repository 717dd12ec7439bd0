"""--jobs: worker processes change nothing but the speed: the same output in the same order, file
errors per file, and a small run stays in this process."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kerastips.batch import MIN_PARALLEL_BYTES, default_jobs, map_files
from kerastips.cli import cli

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """Three copies of the samples (more source than MIN_PARALLEL_BYTES) and files that cannot be
    linted, in between."""
    monkeypatch.chdir(tmp_path)
    for copy in ("a", "b", "c"):
        shutil.copytree(SAMPLES, tmp_path / copy, ignore=shutil.ignore_patterns("*.expected"))
    (tmp_path / "b" / "broken.py").write_text("import keras\ndef broken(:\n")
    (tmp_path / "b" / "latin.py").write_bytes(b"import keras\nname = '\xe9t\xe9'\n")
    (tmp_path / "c" / "empty.py").write_text("")
    cells = [(SAMPLES / "cnn_digits.py").read_text().split("\n\n\ndef main():")[0], "model = build_cnn()\n"]
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": text} for text in cells],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "c" / "train.ipynb").write_text(json.dumps(notebook, indent=1))
    assert sum(p.stat().st_size for p in tmp_path.rglob("*.py")) > MIN_PARALLEL_BYTES
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_lint_output_is_the_same_with_any_number_of_jobs(tree):
    serial = run("lint", "--no-cache", "--jobs", "1", ".")
    assert serial[0] == 2 and serial[1].endswith("Found 79 errors; 2 files could not be linted.\n")
    assert serial[2].splitlines()[0].startswith("b/broken.py: error: syntax error")
    assert "c/train.ipynb:cell 1:line " in serial[1]  # a notebook among them
    for jobs in ("2", "3", "8"):
        assert run("lint", "--no-cache", "--jobs", jobs, ".") == serial
    assert run("lint", "--no-cache", ".") == serial  # the default: every CPU
    for output_format in ("json", "sarif"):
        assert run("lint", "--no-cache", "-j", "1", "--output-format", output_format, ".") == \
            run("lint", "--no-cache", "-j", "2", "--output-format", output_format, ".")


def test_fix_is_the_same_with_any_number_of_jobs(tree, tmp_path):
    serial = run("fix", "--unsafe-fixes", "--jobs", "1", ".")
    assert serial[0] == 2 and serial[1].count("+++ ") > 10
    assert run("fix", "--unsafe-fixes", "--jobs", "2", ".") == serial

    copy = tmp_path.parent / (tmp_path.name + "-copy")
    shutil.copytree(tree, copy)
    applied = run("fix", "--unsafe-fixes", "--apply", "--jobs", "2", ".")
    os.chdir(copy)
    assert run("fix", "--unsafe-fixes", "--apply", "--jobs", "1", ".") == applied
    for path in sorted([*tree.rglob("*.py"), *tree.rglob("*.ipynb")]):
        assert path.read_bytes() == (copy / path.relative_to(tree)).read_bytes(), path


def test_jobs_must_be_positive(tree):
    exit_code, _, stderr = run("lint", "--jobs", "0", ".")
    assert exit_code == 2 and "--jobs" in stderr


def worker_pid(_: int) -> int:
    return os.getpid()


def die_in_a_worker(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(3)  # a worker killed mid-chunk, as by the out-of-memory killer
    return "linted here"


def test_enough_work_goes_to_worker_processes_and_a_little_stays_here():
    big = [MIN_PARALLEL_BYTES] * 8
    pids = map_files(worker_pid, [(i,) for i in range(8)], big, jobs=2)
    assert os.getpid() not in pids and len(set(pids)) <= 2
    assert map_files(worker_pid, [(i,) for i in range(8)], [100] * 8, jobs=2) == [os.getpid()] * 8
    assert map_files(worker_pid, [(0,)], [10 * MIN_PARALLEL_BYTES], jobs=2) == [os.getpid()]
    assert map_files(worker_pid, [(i,) for i in range(8)], big, jobs=1) == [os.getpid()] * 8


def test_the_files_of_a_worker_that_died_are_done_in_this_process():
    calls = [(os.getpid(),)] * 6
    assert map_files(die_in_a_worker, calls, [MIN_PARALLEL_BYTES] * 6, jobs=2) == ["linted here"] * 6


def test_default_jobs_is_the_cpus_this_process_may_use():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_jobs() == expected >= 1
