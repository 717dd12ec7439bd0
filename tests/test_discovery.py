"""Expanding PATHS into files: walking, built-in skips, excludes, .gitignore, explicit paths."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kerastips.config import load_settings
from kerastips.diagnostic import FileError
from kerastips.discovery import discover


def tree(root, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def found(paths, *, force_exclude=False, toml=""):
    """(files as shown, errors) for a run from the working directory."""
    if toml:
        with open("pyproject.toml", "w") as handle:
            handle.write("[tool.kerastips]\n" + toml)
    settings = load_settings(paths, registry=())
    files, errors = discover(paths, settings, force_exclude=force_exclude)
    return [str(path) for path in files], errors


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_folders_give_sorted_python_files_under_the_given_spelling(project):
    tree(project, "src/b.py", "src/a.py", "src/pkg/c.py", "src/notes.txt", "src/data.pyc", "top.py")
    assert found(["src"]) == (["src/a.py", "src/b.py", "src/pkg/c.py"], [])
    assert found(["src/", "./top.py"]) == (["src/a.py", "src/b.py", "src/pkg/c.py", "top.py"], [])
    assert found([]) == (["src/a.py", "src/b.py", "src/pkg/c.py", "top.py"], [])
    assert found([str(project / "src" / "pkg")]) == ([str(project / "src" / "pkg" / "c.py")], [])


def test_built_in_skips(project):
    tree(
        project,
        "keep.py",
        ".git/hooks/x.py", ".hg/x.py", ".svn/x.py", "__pycache__/x.py", ".kerastips_cache/x.py",
        ".venv/lib/x.py", "venv/x.py", ".tox/x.py", ".nox/x.py", "node_modules/x.py",
        "build/lib/x.py", "dist/x.py", "pkg/site-packages/x.py", "custom_env/pyvenv.cfg",
        "custom_env/lib/x.py",
    )
    assert found(["."]) == (["keep.py"], [])


def test_explicit_paths_are_linted_even_where_a_walk_would_skip_them(project):
    tree(project, "site-packages/mod.py", "build/gen.py", "custom_env/pyvenv.cfg", "custom_env/x.py")
    assert found(["site-packages", "build/gen.py", "custom_env"]) == (
        ["build/gen.py", "custom_env/x.py", "site-packages/mod.py"],
        [],
    )


def test_exclude_globs_from_config(project):
    tree(project, "train.py", "generated/model.py", "src/generated/m.py", "data/load.py", "src/data/ok.py")
    toml = 'exclude = ["generated"]\nextend-exclude = ["data/*.py"]\n'
    assert found(["."], toml=toml) == (["src/data/ok.py", "train.py"], [])


def test_force_exclude_applies_exclusions_to_explicit_files(project):
    tree(project, "train.py", "generated/model.py", "build/gen.py", "legacy.py")
    toml = 'exclude = ["generated", "legacy.py"]\n'
    explicit = ["train.py", "generated/model.py", "build/gen.py", "legacy.py"]
    assert found(explicit, toml=toml)[0] == ["build/gen.py", "generated/model.py", "legacy.py", "train.py"]
    assert found(explicit, toml=toml, force_exclude=True) == (["train.py"], [])
    assert found(["generated"], toml=toml, force_exclude=True) == ([], [])


def test_missing_paths_are_file_errors_and_the_rest_is_still_found(project):
    tree(project, "a.py")
    assert found(["nope.py", "a.py", "gone/"]) == (
        ["a.py"],
        [FileError("nope.py", "no such file or directory"), FileError("gone", "no such file or directory")],
    )


def test_each_file_once_however_it_is_named(project):
    tree(project, "src/a.py")
    os.symlink("a.py", project / "src" / "alias.py")
    assert found(["src", "src/a.py", "./src/a.py", str(project / "src" / "a.py")]) == (["src/a.py"], [])


def test_a_linked_folder_is_walked_once_under_its_first_name(project):
    tree(project, "runs/a_real/x.py")
    os.symlink("a_real", project / "runs" / "z_latest")
    os.symlink("a_real", project / "runs" / "0_first")
    assert found(["runs"]) == (["runs/0_first/x.py"], [])
    os.remove(project / "runs" / "0_first")
    assert found(["runs"]) == (["runs/a_real/x.py"], [])


def test_symlink_loops_do_not_hang(project):
    tree(project, "src/a.py", "src/sub/b.py")
    os.symlink("..", project / "src" / "sub" / "up")
    os.symlink(".", project / "src" / "self")
    os.symlink("missing", project / "src" / "dangling.py")
    files, errors = found(["src"])
    assert sorted(map(os.path.realpath, files)) == sorted(
        map(os.path.realpath, [project / "src" / "a.py", project / "src" / "sub" / "b.py"])
    )
    assert errors == []


def git(*args, cwd):
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@needs_git
def test_gitignore_is_respected_in_a_repository(project):
    tree(
        project,
        "train.py", "scratch.py", "forced.py", "outputs/run1/model.py", "src/keep.py", "src/tmp_x.py",
        "nested/repo/own.py", "nested/repo/mine_only.py",
    )
    (project / ".gitignore").write_text("scratch.py\nforced.py\noutputs/\ntmp_*.py\n")
    git("init", "-q", cwd=project)
    git("add", "-f", "forced.py", cwd=project)  # tracked files are never ignored
    git("init", "-q", cwd=project / "nested" / "repo")
    (project / "nested" / "repo" / ".gitignore").write_text("mine_only.py\n")
    assert found(["."]) == (["forced.py", "nested/repo/own.py", "src/keep.py", "train.py"], [])
    assert found(["src"]) == (["src/keep.py"], [])
    assert found(["scratch.py", "outputs"]) == (["outputs/run1/model.py", "scratch.py"], [])


@needs_git
def test_without_git_the_walk_falls_back_silently(project, monkeypatch):
    tree(project, "train.py", "scratch.py")
    (project / ".gitignore").write_text("scratch.py\n")
    git("init", "-q", cwd=project)
    monkeypatch.setenv("PATH", str(project / "no-bin-here"))
    assert found(["."]) == (["scratch.py", "train.py"], [])


def test_outside_a_repository_gitignore_files_mean_nothing(project):
    tree(project, "train.py", "scratch.py")
    (project / ".gitignore").write_text("scratch.py\n")
    assert found(["."]) == (["scratch.py", "train.py"], [])
