"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit itself on a real repository.

pre-commit clones the hook repository at a commit and pip-installs it into its own environment,
so the test commits a snapshot of this checkout (uncommitted changes included) and points a
project's .pre-commit-config.yaml at it. One PRE_COMMIT_HOME serves every run: one install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# KT105 with a safe fix: the ReLU layer repeats the Dense's relu.
BUGGY = """\
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.ReLU(),
    layers.Dense(10, activation="softmax"),
])
"""
FIXED = BUGGY.replace("    layers.ReLU(),\n", "")
FINDING = (
    "train.py:6:5: KT105 [*] ReLU repeats the 'relu' activation Dense already applies "
    "('relu' twice is 'relu'); remove it"
)
# What `pip install .` of the checkout may bring; TensorFlow and Keras must not be among them.
LIGHT = {"kerastips", "libcst", "click", "pyyaml", "pyyaml-ft", "typing-extensions", "tomli"}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")


def git(*args: str, cwd: Path, env: dict) -> str:
    command = ["git", "-c", "user.name=kerastips tests", "-c", "user.email=tests@kerastips.invalid",
               "-c", "commit.gpgsign=false", *args]
    return subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def snapshot(dest: Path, env: dict) -> str:
    """This checkout's files as git sees them (tracked and untracked, not ignored), committed in
    a fresh repository at `dest`; the commit's id."""
    listing = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT, env=env)
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file may have been deleted in the working tree
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git("init", "-q", cwd=dest, env=env)
    git("add", "-A", cwd=dest, env=env)
    git("commit", "-q", "-m", "snapshot", cwd=dest, env=env)
    return git("rev-parse", "HEAD", cwd=dest, env=env).strip()


def test_hooks_flag_fix_and_then_pass(tmp_path):
    # GIT_DIR and friends (set when the tests run inside a git hook) would point at another repo
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "cache")
    hooks, project = tmp_path / "kerastips", tmp_path / "project"
    hooks.mkdir()
    project.mkdir()
    rev = snapshot(hooks, env)

    (project / "train.py").write_text(BUGGY)
    (project / "generated").mkdir()
    (project / "generated" / "model.py").write_text(BUGGY)  # excluded: named by pre-commit, still skipped
    (project / "pyproject.toml").write_text('[tool.kerastips]\nexclude = ["generated"]\n')
    (project / ".pre-commit-config.yaml").write_text(textwrap.dedent(f"""\
        repos:
          - repo: {hooks.as_posix()}
            rev: {rev}
            hooks:
              - id: kerastips-fix
              - id: kerastips
        """))
    git("init", "-q", cwd=project, env=env)
    git("add", "-A", cwd=project, env=env)

    def pre_commit(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "pre_commit", "run", *args, "--all-files", "--color", "never"]
        return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=600)

    lint = pre_commit("kerastips")
    assert lint.returncode == 1, lint.stdout + lint.stderr
    assert FINDING in lint.stdout.splitlines()
    assert "Found 1 error." in lint.stdout and "generated" not in lint.stdout

    fix = pre_commit("kerastips-fix")
    assert fix.returncode == 1, fix.stdout + fix.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in fix.stdout
    assert (project / "train.py").read_text() == FIXED
    assert (project / "generated" / "model.py").read_text() == BUGGY

    both = pre_commit()
    assert both.returncode == 0, both.stdout + both.stderr
    assert [line.rsplit(".", 1)[-1] for line in both.stdout.splitlines()] == ["Passed", "Passed"]

    # the hooks' environment holds the light core only
    (python,) = Path(env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/bin/python")
    probe = "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"
    names = {name.lower().replace("_", "-") for name in
             subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, check=True).stdout.split()}
    assert {"kerastips", "libcst", "click"} <= names
    assert names - {"pip", "setuptools", "wheel"} <= LIGHT, names
