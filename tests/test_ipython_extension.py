"""`%load_ext kerastips` in a real IPython shell: cells run in-process, the printed output checked.

The cells use Keras' names without importing Keras (an import-less snippet, which kerastips reads
as Keras code); the session gets plain Python stand-ins for them so that the cells run quickly."""

from __future__ import annotations

import subprocess
import sys

import pytest
from traitlets.config import Config

InteractiveShell = pytest.importorskip("IPython.core.interactiveshell").InteractiveShell

KT101 = (
    "KT101 BatchNormalization applied after the 'relu' activation of Dense; normalize the linear "
    "output instead: Dense -> BatchNormalization -> Activation('relu')"
)
KT301 = "KT301 fit() without validation data: add validation_split=0.2 or validation_data=(x_val, y_val)"
KT402 = "KT402 SGD without momentum: set momentum=0.9 (or use an adaptive optimizer)"

STAND_INS = '''
class Sequential:
    def __init__(self, layers=()):
        self.layers = list(layers)
    def add(self, layer):
        self.layers.append(layer)
    def compile(self, **kwargs):
        pass
    def fit(self, *args, **kwargs):
        return len(self.layers)
def Dense(units, activation=None):
    return ("Dense", units, activation)
def BatchNormalization():
    return ("BatchNormalization",)
def SGD(learning_rate=0.01):
    return ("SGD", learning_rate)
x_train = y_train = [0.0, 1.0]
'''


@pytest.fixture(scope="module")
def ipython(tmp_path_factory):
    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # nothing written to the user's ~/.ipython
    return InteractiveShell.instance(config=config)


@pytest.fixture
def shell(ipython, tmp_path, monkeypatch, capsys):
    """A fresh session (new history, empty namespace) in a folder without configuration."""
    monkeypatch.chdir(tmp_path)
    ipython.reset(new_session=True)
    ipython.run_cell(STAND_INS)  # not stored: not part of the session's history
    yield ipython
    ipython.extension_manager.unload_extension("kerastips")
    capsys.readouterr()


def run(shell, capsys, cell: str) -> str:
    """Run a cell as Jupyter does (stored in the history) and return what it printed."""
    shell.run_cell(cell, store_history=True)
    return capsys.readouterr().out


def test_each_cell_gets_its_own_findings_with_lines_counted_in_the_cell(shell, capsys):
    assert run(shell, capsys, "%load_ext kerastips") == ""
    assert run(shell, capsys, "model = Sequential()\nmodel.add(Dense(64, activation='relu'))") == ""
    assert run(shell, capsys, "# normalize\n\nmodel.add(BatchNormalization())") == f"kerastips: line 3:col 11: {KT101}\n"
    assert run(shell, capsys, "n = 3") == ""  # the earlier cell's finding is not repeated
    out = run(shell, capsys, "model.compile(optimizer=SGD(learning_rate=0.1), loss='mse')\n"
                             "print('fitted', model.fit(x_train, y_train, epochs=n))")
    assert out == f"fitted 2\nkerastips: line 1:col 25: {KT402}\nkerastips: line 2:col 17: {KT301}\n"


def test_cells_run_before_the_extension_was_loaded_count(shell, capsys):
    run(shell, capsys, "model = Sequential([Dense(8, activation='relu')])")
    run(shell, capsys, "%load_ext kerastips")
    assert run(shell, capsys, "model.add(BatchNormalization())") == f"kerastips: line 1:col 11: {KT101}\n"


def test_magics_are_tolerated(shell, capsys):
    run(shell, capsys, "%load_ext kerastips")
    out = run(shell, capsys, "%%capture\nmodel = Sequential([Dense(8, activation='relu')])\n"
                             "!echo building\n%time steps = 10\nmodel.add(BatchNormalization())")
    assert out == f"kerastips: line 5:col 11: {KT101}\n"
    out = run(shell, capsys, "model.fit?\nhistory = model.fit(x_train, y_train)")
    assert "Signature:" in out and out.endswith(f"\nkerastips: line 2:col 11: {KT301}\n")


def test_a_cell_with_a_syntax_error_is_left_out_and_the_session_goes_on(shell, capsys):
    run(shell, capsys, "%load_ext kerastips")
    run(shell, capsys, "model = Sequential([Dense(8, activation='relu'),")  # IPython reports it
    assert "kerastips" not in capsys.readouterr().out
    assert run(shell, capsys, "model = Sequential([Dense(8)])") == ""
    assert run(shell, capsys, "history = model.fit(x_train, y_train)") == f"kerastips: line 1:col 11: {KT301}\n"


def test_a_cell_indented_as_a_whole_runs_and_its_columns_count_as_written(shell, capsys):
    run(shell, capsys, "%load_ext kerastips")
    run(shell, capsys, "    model = Sequential()\n    model.add(Dense(8, activation='relu'))")
    assert shell.user_ns["model"].layers == [("Dense", 8, "relu")]  # IPython removed the indentation
    out = run(shell, capsys, "  model.add(BatchNormalization())\n  history = model.fit(x_train, y_train)")
    assert out == f"kerastips: line 1:col 13: {KT101}\nkerastips: line 2:col 13: {KT301}\n"
    run(shell, capsys, "    m = Sequential()\n  m.fit(x_train, y_train)")  # IPython: unexpected indent
    assert "kerastips" not in capsys.readouterr().out


def test_a_cell_that_fails_at_run_time_is_still_linted(shell, capsys):
    run(shell, capsys, "%load_ext kerastips")
    out = run(shell, capsys, "model = Sequential([Dense(8, activation='relu'), BatchNormalization()])\n1 / 0")
    assert out.endswith(f"kerastips: line 1:col 50: {KT101}\n") and "ZeroDivisionError" in out


def test_unload_removes_the_hook(shell, capsys):
    run(shell, capsys, "%load_ext kerastips")
    hooks = len(shell.events.callbacks["post_run_cell"])
    run(shell, capsys, "%unload_ext kerastips")
    assert len(shell.events.callbacks["post_run_cell"]) == hooks - 1
    assert run(shell, capsys, "model = Sequential([Dense(8, activation='relu'), BatchNormalization()])") == ""
    run(shell, capsys, "%load_ext kerastips")  # and it comes back
    assert run(shell, capsys, "history = model.fit(x_train, y_train)") == f"kerastips: line 1:col 11: {KT301}\n"


def test_the_configured_selection_applies(shell, capsys, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kerastips]\nignore = ["KT402"]\n')
    run(shell, capsys, "%load_ext kerastips")
    out = run(shell, capsys, "m = Sequential([Dense(1)])\nm.compile(optimizer=SGD(learning_rate=0.1), loss='mse')")
    assert out == ""


def test_a_broken_configuration_is_one_line_and_the_defaults_run(shell, capsys, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kerastips]\nselect = ["XX1"]\n')
    shell.run_cell("%load_ext kerastips", store_history=True)
    assert capsys.readouterr().err.startswith("kerastips: ")
    assert run(shell, capsys, "m = Sequential([Dense(1)])\nh = m.fit(x_train, y_train)") == f"kerastips: line 2:col 5: {KT301}\n"


class _Broken:
    """A rule with a bug: the extension must not pass it on to the session."""

    code, name, summary = "KT999", "broken", "always fails"

    def check(self, kfile):
        raise ValueError("boom")


def test_a_failure_of_kerastips_never_reaches_the_session(shell, capsys):
    from kerastips.ipython_extension import SessionLinter

    hook = SessionLinter(shell, [_Broken()])
    shell.events.register("post_run_cell", hook)
    try:
        out = run(shell, capsys, "model = Sequential([Dense(1)])\nresult = 42")
    finally:
        shell.events.unregister("post_run_cell", hook)
    assert out == ("kerastips: internal error (ValueError: boom); please report it at "
                   "https://github.com/kerastips/kerastips/issues\n")
    assert shell.user_ns["result"] == 42
    assert run(shell, capsys, "print(result + 1)") == "43\n"


def test_import_kerastips_stays_light():
    """`%load_ext kerastips` imports the package; libcst comes with the extension, not before."""
    code = ("import sys, kerastips; print('libcst' in sys.modules, "
            "callable(kerastips.load_ipython_extension), callable(kerastips.unload_ipython_extension))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "False True True\n"
