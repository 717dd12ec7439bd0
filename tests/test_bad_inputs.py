"""Inputs that must never crash kerastips: each gives findings or one clear line for its file, the
other files are still linted and fixed, and nothing is ever written over a file that was not fixed.

Where a bad input could kill the process (a segfault in the parser), it runs in a real `kerastips`
process, so that a regression fails one test instead of the test run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from kerasgen import as_notebook, random_module

from kerastips import cli as kerastips_cli
from kerastips import fixer
from kerastips.cli import cli
from kerastips.fixer import fix_source
from kerastips.rules import ALL_RULES

FLAGGED = (
    "from tensorflow import keras\n"
    "model = keras.Sequential([keras.layers.Dense(8, activation='relu'),\n"
    "                          keras.layers.BatchNormalization()])\n"
)
FIXED = (
    "from tensorflow import keras\n"
    "model = keras.Sequential([keras.layers.Dense(8, use_bias=False),\n"
    "                          keras.layers.BatchNormalization(),\n"
    "                          keras.layers.Activation('relu')])\n"
)
FINDING = "KT101 BatchNormalization applied after the 'relu' activation of Dense"
RULES = [rule() for rule in ALL_RULES]
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

DEEP = {  # libcst's native parser overflowed the C stack on these (the process died)...
    "attributes.py": "y = x" + ".a" * 10_000,
    "lambdas.py": "y = " + "lambda: " * 5_000 + "x",
    "ands.py": "y = " + " and ".join(["x"] * 8_000),
    "fstring.py": 'y = f"{x' + ".a" * 10_000 + '}"',
    "elifs.py": "if x:\n    pass\n" + "elif x:\n    pass\n" * 10_000,
    # ...and took minutes to parse these
    "subscripts.py": "y = x" + "[0]" * 5_000,
    "sum.py": "y = " + " + ".join(["x"] * 3_000),  # which CPython refuses to compile too
}


def test_nesting_too_deep_to_parse_is_one_line_per_file_and_the_run_goes_on(project):
    for name, code in DEEP.items():
        (project / name).write_text(FLAGGED + code + "\n")
    (project / "sane.py").write_text(FLAGGED + "y = " + " + ".join(["x"] * 900) + "\n")
    # Spread over lines, a chain is not measured first: libcst parses it on a stack of its own.
    (project / "spread.py").write_text(FLAGGED + "y = (x\n" + "     and x\n" * 8_000 + ")\n")
    result = kerastips("lint", "--no-cache", ".", cwd=project)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"{name}: {TOO_DEEP}" for name in sorted(DEEP)]
    assert [line.split(" ", 2)[:2] for line in result.stdout.splitlines()[:-1]] == [
        ["sane.py:3:27:", "KT101"], ["spread.py:3:27:", "KT101"],
    ]


def test_flat_code_on_long_lines_is_analysed(project):
    # Long lines are measured by Python's parser before libcst's; flat ones pass.
    data = "WEIGHTS = [\n" + "".join(f"    {i},  # ({i}\n" for i in range(20_000)) + "]\n"
    doc = '"""' + "(" * 5_000 + '"""\n'
    (project / "model.py").write_text(doc + FLAGGED + data + "y = " + " and ".join(["x"] * 500) + "\n")
    result = kerastips("lint", "--no-cache", "model.py", cwd=project)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.startswith(f"model.py:4:27: {FINDING}")


# ---- what a file holds ----------------------------------------------------------------------------

def lint(*args: str):
    return CliRunner().invoke(cli, ["lint", "--no-cache", *args])


def fix(*args: str):
    return CliRunner().invoke(cli, ["fix", "--apply", "--unsafe-fixes", *args])


@pytest.mark.parametrize("data", [
    b"", b"\n", b"\r\n\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n", b"\f\n", b"\t\n", b"# keras\n",
    b"import keras", b"import keras\\\n", b"'''keras", b"keras = 1\r", b"\\\n",
], ids=repr)
def test_empty_and_degenerate_files_are_linted_or_refused_in_one_line_and_never_changed(project, data):
    Path("model.py").write_bytes(data)
    for command in (lint, fix):
        result = command("model.py")
        assert result.exit_code in (0, 2) and "Traceback" not in result.output
        assert result.exit_code == 0 or result.stderr.startswith("model.py: error: ")
        assert len(result.stderr.splitlines()) <= 2  # the error and fix's summary
    assert Path("model.py").read_bytes() == data


def test_mixed_line_endings_are_kept_line_by_line(project):
    lines = [
        "from tensorflow import keras\r\n",
        "model = keras.Sequential()\n",
        "model.add(keras.layers.Dense(8, activation='relu'))\r\n",
        "model.add(keras.layers.BatchNormalization())\r",  # a lone CR ends a line too
        "model.compile(optimizer='adam', loss='mse')\n",
        "model.fit(x, y, validation_split=0.2)\r\n",
    ]
    Path("model.py").write_bytes("".join(lines).encode())
    assert fix("model.py").exit_code == 0
    # The new line takes the first line's ending; every other line keeps its own.
    assert Path("model.py").read_bytes() == "".join([
        lines[0], lines[1],
        "model.add(keras.layers.Dense(8, use_bias=False))\r\n",
        lines[3], "model.add(keras.layers.Activation('relu'))\r\n",
        lines[4], lines[5],
    ]).encode()


def test_tab_indentation_is_kept_and_used_for_new_lines(project):
    source = (
        "from tensorflow import keras\n"
        "def build():\n"
        "\tmodel = keras.Sequential()\n"
        "\tif True:\n"
        "\t\tmodel.add(keras.layers.Dense(8, activation='relu'))  # hidden\n"
        "\t\tmodel.add(keras.layers.BatchNormalization())\n"
        "\treturn model\n"
    )
    Path("model.py").write_text(source)
    assert lint("model.py").stdout.startswith(f"model.py:6:13: {FINDING}")  # a tab is a column
    assert fix("model.py").exit_code == 0
    assert Path("model.py").read_text() == source.replace(
        "\t\tmodel.add(keras.layers.Dense(8, activation='relu'))  # hidden\n"
        "\t\tmodel.add(keras.layers.BatchNormalization())\n",
        "\t\tmodel.add(keras.layers.Dense(8, use_bias=False))  # hidden\n"
        "\t\tmodel.add(keras.layers.BatchNormalization())\n"
        "\t\tmodel.add(keras.layers.Activation('relu'))\n",
    )


def test_nul_bytes_in_a_notebook_cell_are_one_line(project):
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["import keras\n", "name = 'a\u0000b'\n"]}
    data = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    Path("nb.ipynb").write_bytes(data)
    for command in (lint, fix):
        result = command("nb.ipynb")
        assert result.exit_code == 2
        assert result.stderr.splitlines()[0] == (
            "nb.ipynb: error: cell 1: syntax error: source code string cannot contain null bytes"
        )
    assert Path("nb.ipynb").read_bytes() == data


def test_a_50k_line_file_is_linted_and_fixed(project):
    head = "from tensorflow import keras\nopt = keras.optimizers.SGD(lr=0.01, momentum=0.9)\n"
    source = (
        head + "WEIGHTS = [\n" + "".join(f"    {i / 1000},\n" for i in range(45_000)) + "]\n"
        + "".join(f"\n\ndef scale_{i}(x):\n    return x * WEIGHTS[{i}]\n" for i in range(1_250))
    )
    assert source.count("\n") > 50_000
    Path("big.py").write_text(source)
    assert lint("big.py").stdout == (
        "big.py:2:7: KT404 [*] lr= is rejected by Keras 3: use learning_rate=\nFound 1 error.\n"
    )
    result = fix("big.py")
    assert (result.exit_code, result.stderr) == (0, "Fixed 1 finding in 1 file.\n")
    assert Path("big.py").read_text() == source.replace("SGD(lr=", "SGD(learning_rate=")


# ---- files that cannot be read, or go away ---------------------------------------------------------

def unprivileged() -> list[str]:
    """A command prefix under which file modes apply: root reads any file unless its
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH are dropped."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv reads every file")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]


def test_unreadable_files_and_folders_are_one_line_each_and_the_others_are_fixed(project):
    prefix = unprivileged()
    for name in ("a_locked.py", "b_locked/model.py", "c_good.py", "d_named.py"):
        (project / name).parent.mkdir(exist_ok=True)
        (project / name).write_text(FLAGGED)
    for name in ("a_locked.py", "b_locked", "d_named.py"):
        (project / name).chmod(0)
    command = [*prefix, sys.executable, "-m", "kerastips"]
    run = [command + ["lint", "--no-cache", ".", "d_named.py"],
           command + ["fix", "--apply", "--unsafe-fixes", ".", "d_named.py"]]
    linted, fixed = (subprocess.run(args, cwd=project, capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL) for args in run)
    errors = [
        "a_locked.py: error: permission denied",
        "b_locked: error: cannot read folder: Permission denied",
        "d_named.py: error: permission denied",
    ]
    assert (linted.returncode, linted.stderr.splitlines()) == (2, errors)
    assert linted.stdout.startswith(f"c_good.py:3:27: {FINDING}")
    assert (fixed.returncode, fixed.stderr.splitlines()[:3]) == (2, errors)
    assert (project / "c_good.py").read_text() == FIXED
    for name in ("a_locked.py", "d_named.py"):
        (project / name).chmod(0o644)
        assert (project / name).read_text() == FLAGGED


def test_an_unreadable_config_file_is_one_line(project):
    prefix = unprivileged()
    (project / "ci.toml").write_text("[tool.kerastips]\n")
    (project / "ci.toml").chmod(0)
    (project / "model.py").write_text(FLAGGED)
    result = subprocess.run([*prefix, sys.executable, "-m", "kerastips", "lint", "--config", "ci.toml",
                             "model.py"], cwd=project, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "error: ci.toml: cannot read: Permission denied\n"
    )


def test_link_loops_are_walked_once_or_are_one_line(project):
    (project / "model.py").write_text(FLAGGED)
    (project / "again").symlink_to(".")  # a folder that contains itself
    (project / "self.py").symlink_to("self.py")
    (project / "a.py").symlink_to("b.py")
    (project / "b.py").symlink_to("a.py")
    result = lint(".", "self.py", "a.py")
    loop = "error: cannot read: Too many levels of symbolic links"
    assert (result.exit_code, result.stderr) == (2, f"a.py: {loop}\nself.py: {loop}\n")
    assert result.stdout == f"model.py:3:27: {FINDING}" + (
        "; normalize the linear output instead: Dense -> BatchNormalization -> Activation('relu')\n"
        "Found 1 error; 2 files could not be linted.\n"
    )


def gone_after_discovery(monkeypatch, *names: str) -> None:
    """The files are found, then deleted before kerastips reads them (as by a branch switch)."""
    real = kerastips_cli.discover

    def discover_then_delete(*args, **kwargs):
        found = real(*args, **kwargs)
        for name in names:
            shutil.rmtree(name) if Path(name).is_dir() else Path(name).unlink()
        return found

    monkeypatch.setattr(kerastips_cli, "discover", discover_then_delete)


def test_files_deleted_mid_run_are_one_line_each_and_the_others_are_fixed(project, monkeypatch):
    for name in ("a.py", "b/model.py", "c.py"):
        Path(name).parent.mkdir(exist_ok=True)
        Path(name).write_text(FLAGGED)
    gone_after_discovery(monkeypatch, "a.py", "b")
    errors = ["a.py: error: no such file or directory", "b/model.py: error: no such file or directory"]
    result = lint(".")
    assert (result.exit_code, result.stderr.splitlines()) == (2, errors)
    assert result.stdout.startswith(f"c.py:3:27: {FINDING}")
    for name in ("a.py", "b/model.py"):
        Path(name).parent.mkdir(exist_ok=True)
        Path(name).write_text(FLAGGED)
    result = fix(".")
    assert (result.exit_code, result.stderr.splitlines()[:2]) == (2, errors)
    assert not Path("a.py").exists() and not Path("b").exists()  # never created again
    assert Path("c.py").read_text() == FIXED


def test_a_file_deleted_while_being_fixed_is_not_created_again(project, monkeypatch):
    Path("model.py").write_text(FLAGGED)
    real = fixer.fix_bytes

    def fix_while_deleted(*args, **kwargs):
        result = real(*args, **kwargs)
        Path("model.py").unlink()
        return result

    monkeypatch.setattr(fixer, "fix_bytes", fix_while_deleted)
    result = fix("model.py")
    assert (result.exit_code, result.stderr) == (
        2, "model.py: error: deleted while being fixed; not written\n"
           "No fixes available. 1 file could not be fixed.\n",
    )
    assert sorted(os.listdir()) == []  # and no temporary file is left


# ---- configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize(("toml", "message"), [
    (b'[tool.kerastips]\nselect = ["KT1"]  # caf\xe9\n', "invalid TOML: not UTF-8 (at byte 40)"),
    (b"[tool.kerastips]\nx = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "invalid TOML: nested too deeply"),
    (b"[tool.kerastips]\nx = " + b"{a = " * 5_000 + b"1" + b"}" * 5_000 + b"\n",
     "invalid TOML: nested too deeply"),
    (b"[tool.kerastips]\nx = " + b"9" * 5_000 + b"\n", "invalid TOML: Exceeds the limit (4300 digits)"),
    (b"[tool.kerastips]\nx = 1\x00\n", "invalid TOML: "),
], ids=["latin-1", "deep-arrays", "deep-tables", "long-integer", "nul"])
def test_a_pyproject_toml_that_is_not_toml_is_one_line(project, toml, message):
    Path("pyproject.toml").write_bytes(toml)
    Path("model.py").write_text(FLAGGED)
    for command in ("lint", "fix"):
        result = CliRunner().invoke(cli, [command, "model.py"])
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(f"error: pyproject.toml: {message}")
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert Path("pyproject.toml").read_bytes() == toml


# ---- the process's own streams -------------------------------------------------------------------

def test_fix_stdin_apply_with_stdout_closed_is_one_line(project):
    result = subprocess.run(
        [sys.executable, "-m", "kerastips", "fix", "-", "--apply", "--unsafe-fixes"],
        input=FLAGGED, capture_output=False, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
        text=True, cwd=project, preexec_fn=lambda: os.close(1),
    )
    assert (result.returncode, result.stderr) == (
        2, "-: error: cannot write stdout: it is closed\nNo fixes available. 1 file could not be fixed.\n"
    )


def test_python_s_own_warnings_about_the_code_are_not_printed(project):
    # An invalid escape makes Python's parser warn (a SyntaxWarning from 3.12 on, shown by
    # default). kerastips reads the code with that parser to measure long lines, place findings,
    # read literals and word syntax errors: none of it is the user's to see.
    escape = 'pattern = "\\d+"\n'
    (project / "model.py").write_text(escape + FLAGGED + "y = [" + ", ".join(["1"] * 1_000) + "]\n")
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": [escape, "import keras\n", "y = (\n"]}
    (project / "nb.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                                  "nbformat_minor": 5}))
    result = subprocess.run([sys.executable, "-W", "always", "-m", "kerastips", "lint", "--no-cache", "."],
                            cwd=project, capture_output=True, text=True)
    assert result.stderr == "nb.ipynb: error: cell 1: syntax error at line 3, column 5: '(' was never closed\n"
    assert result.stdout.startswith(f"model.py:4:27: {FINDING}")


# ---- bugs in kerastips itself ---------------------------------------------------------------------

BUGGY = """\
import sys
from kerastips import report
from kerastips.cli import main
from kerastips.rules import ALL_RULES

def boom(*args, **kwargs):
    raise RuntimeError("boom")

class Unprintable(KeyError):
    def __str__(self):  # as a KeyError whose key is a syntax tree too deep to print
        raise RecursionError("maximum recursion depth exceeded")

def unprintable(*args, **kwargs):
    raise Unprintable()

rule = next(rule for rule in ALL_RULES if rule.code == "KT101")
if sys.argv[1] == "rule":
    rule.check = lambda self, kfile: boom() if "bug" in kfile.module.code else iter(())
elif sys.argv[1] == "unprintable":
    rule.check = unprintable
else:
    report.render = boom
sys.argv[1:2] = []
main()
"""
REPORT = "please report it at https://github.com/kerastips/kerastips/issues"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_bug_on_one_file_is_one_line_naming_it_and_where_to_report(project, jobs):
    # Enough source for --jobs 2 to lint in worker processes.
    padding = "".join(f"# padding line {i}\n" for i in range(400))
    for name in ("a.py", "b_bug.py", "c.py"):
        (project / name).write_text(FLAGGED + ("bug = 1\n" if "bug" in name else "") + padding * 10)
    result = subprocess.run([sys.executable, "-c", BUGGY, "rule", "lint", "--no-cache", "--jobs", jobs, "."],
                            cwd=project, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (
        2, f"b_bug.py: error: internal error (RuntimeError: boom); {REPORT}\n"
    )
    assert result.stdout == "Found 0 errors; 1 file could not be linted.\n"


def test_a_bug_outside_any_file_is_one_line_saying_where_to_report(project):
    (project / "model.py").write_text(FLAGGED)
    result = subprocess.run([sys.executable, "-c", BUGGY, "render", "lint", "--no-cache", "model.py"],
                            cwd=project, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"error: internal error (RuntimeError: boom); {REPORT}\n"
    )


def test_a_bug_whose_message_cannot_be_printed_is_still_one_line(project):
    (project / "model.py").write_text(FLAGGED)
    result = subprocess.run([sys.executable, "-c", BUGGY, "unprintable", "lint", "--no-cache", "model.py"],
                            cwd=project, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (
        2, f"model.py: error: internal error (Unprintable: (its message cannot be printed)); {REPORT}\n"
    )


# ---- fix --apply killed mid-run ---------------------------------------------------------------------

@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fix_apply_killed_mid_run_leaves_every_file_whole(tmp_path, jobs):
    """SIGKILL to `kerastips fix --apply` (and its workers) as soon as it has written a file: each
    file is then its old or its fixed content in full; only temporary `.NAME.XXXX.kerastips` files
    may be left."""
    # Scripts with something to fix, padded so that the run takes a while.
    sources = {}
    for seed in range(400):
        source = random_module(seed)
        if fix_source(source, "s.py", RULES, unsafe=True).changed:
            sources[f"s{len(sources):02}.py"] = (source + "# padding\n" * 3_000).encode()
        if len(sources) == 30:
            break
    sources["nb.ipynb"] = as_notebook(b"from tensorflow import keras\n\n" + FLAGGED.encode())
    expected, killed = tmp_path / "expected", tmp_path / "killed"
    for folder in (expected, killed):
        folder.mkdir()
        for name, data in sources.items():
            (folder / name).write_bytes(data)
    command = [sys.executable, "-m", "kerastips", "fix", "--apply", "--unsafe-fixes", "--jobs", jobs, "."]
    assert subprocess.run(command, cwd=expected, capture_output=True).returncode == 0
    fixed = {name: (expected / name).read_bytes() for name in sources}
    assert all(fixed[name] != data for name, data in sources.items())

    process = subprocess.Popen(command, cwd=killed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    while process.poll() is None and all((killed / name).read_bytes() == data for name, data in sources.items()):
        pass  # until the first file is written
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the workers too
    except ProcessLookupError:  # it had already finished
        pass
    process.wait()
    states = {name: (killed / name).read_bytes() for name in sources}
    assert all(states[name] in (sources[name], fixed[name]) for name in sources)
    assert any(states[name] == fixed[name] for name in sources)
    left = {p.name for p in killed.iterdir()} - set(sources) - {".kerastips_cache"}
    assert all(name.startswith(".") and name.endswith(".kerastips") for name in left), left

