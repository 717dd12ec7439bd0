"""Inputs that must never crash kerastips: each gives findings or one clear line for its file, the
other files are still linted and fixed, and nothing is ever written over a file that was not fixed.

Where a bad input could kill the process (a segfault in the parser), it runs in a real `kerastips`
process, so that a regression fails one test instead of the test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FLAGGED = (
    "from tensorflow import keras\n"
    "model = keras.Sequential([keras.layers.Dense(8, activation='relu'),\n"
    "                          keras.layers.BatchNormalization()])\n"
)
FINDING = "KT101 BatchNormalization applied after the 'relu' activation of Dense"
TOO_DEEP = "error: code nested too deeply to parse (more than 1000 levels)"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def kerastips(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "kerastips", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=300)


# ---- nesting deeper than the parser can take ------------------------------------------------------

DEEP = {  # libcst's native parser overflowed the C stack on each of these (the process died)
    "attributes.py": "y = x" + ".a" * 10_000,
    "lambdas.py": "y = " + "lambda: " * 5_000 + "x",
    "ands.py": "y = " + " and ".join(["x"] * 8_000),
    "elifs.py": "if x:\n    pass\n" + "elif x:\n    pass\n" * 10_000,
    # a chain spread over lines, behind a string holding a bracket, with comments in between
    "lines.py": 'y = (")"\n' + "     .a  # (\n" * 10_000 + ")",
    "continued.py": "y = x \\\n" + "    .a \\\n" * 10_000 + "    .a",
    "fstring.py": 'y = f"{x' + ".a" * 10_000 + '}"',
    # and these took minutes to parse
    "subscripts.py": "y = x" + "[0]" * 5_000,
    "sum.py": "y = " + " + ".join(["x"] * 3_000),  # which CPython refuses to compile too
}


def test_nesting_too_deep_to_parse_is_one_line_per_file_and_the_run_goes_on(project):
    for name, code in DEEP.items():
        (project / name).write_text(FLAGGED + code + "\n")
    (project / "sane.py").write_text(FLAGGED + "y = " + " + ".join(["x"] * 900) + "\n")
    result = kerastips("lint", "--no-cache", ".", cwd=project)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"{name}: {TOO_DEEP}" for name in sorted(DEEP)]
    assert result.stdout.startswith(f"sane.py:3:27: {FINDING}")


def test_flat_code_on_long_lines_is_analysed(project):
    # Long logical lines make kerastips measure the nesting; flat ones pass.
    data = "WEIGHTS = [\n" + "".join(f"    {i},  # ({i}\n" for i in range(20_000)) + "]\n"
    doc = '"""' + "(" * 5_000 + '"""\n'
    (project / "model.py").write_text(doc + FLAGGED + data + "y = " + " and ".join(["x"] * 500) + "\n")
    result = kerastips("lint", "--no-cache", "model.py", cwd=project)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.startswith(f"model.py:4:27: {FINDING}")
