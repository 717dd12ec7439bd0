"""The command line end to end: real files on disk, real rules, exact output and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from kerastips import __version__
from kerastips.cli import cli
from kerastips.docs import DOCS_DIR, page_name
from kerastips.rules import ALL_RULES, rule_by_code

MODEL = """\
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.BatchNormalization(),
    layers.Dense(10, activation="softmax"),
])
"""
MESSAGE = (
    "BatchNormalization applied after the 'relu' activation of Dense; normalize the linear output "
    "instead: Dense -> BatchNormalization -> Activation('relu')"
)
FINDING = f"model.py:6:5: KT101 {MESSAGE}"
CLEAN = MODEL.replace(
    'layers.Dense(64, activation="relu"),\n    layers.BatchNormalization(),',
    'layers.Dense(64, use_bias=False),\n    layers.BatchNormalization(),\n    layers.Activation("relu"),',
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(project, name: str, text: str | bytes) -> None:
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else textwrap.dedent(text).encode())


def lint(*args: str):
    return CliRunner().invoke(cli, ["lint", *args])


def test_finding_concise_and_exit_1(project):
    write(project, "model.py", MODEL)
    result = lint("model.py")
    assert (result.exit_code, result.stdout, result.stderr) == (1, f"{FINDING}\nFound 1 error.\n", "")


def test_clean_file_exit_0(project):
    write(project, "model.py", CLEAN)
    result = lint("model.py")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "All checks passed!\n", "")


def test_default_path_is_the_current_folder(project):
    write(project, "model.py", MODEL)
    write(project, "sub/clean.py", CLEAN)
    assert lint().stdout == f"{FINDING}\nFound 1 error.\n"


def test_exit_zero(project):
    write(project, "model.py", MODEL)
    result = lint("--exit-zero", "model.py")
    assert (result.exit_code, result.stdout) == (0, f"{FINDING}\nFound 1 error.\n")


@pytest.mark.parametrize(
    ("where", "suppressed"),
    [
        ("    layers.BatchNormalization(),", True),  # the finding's own line
        ("model = keras.Sequential([", True),  # first line of the statement
        ("])", True),  # last line of the statement
        ("from tensorflow import keras", False),  # another statement
    ],
)
def test_noqa_on_any_line_of_the_statement(project, where, suppressed):
    write(project, "model.py", MODEL.replace(where + "\n", where + "  # noqa: KT101\n"))
    assert lint("model.py").exit_code == (0 if suppressed else 1)


@pytest.mark.parametrize(
    "comment",
    ["# noqa", "# noqa: KT401", "# kerastips: noqa: KT401"],
)
def test_bare_noqa_and_other_codes_do_not_suppress(project, comment):
    line = "    layers.BatchNormalization(),"
    write(project, "model.py", MODEL.replace(line, f"{line}  {comment}"))
    assert lint("model.py").stdout == f"{FINDING}\nFound 1 error.\n"


def test_file_level_noqa(project):
    write(project, "model.py", "# kerastips: noqa: KT101\n" + MODEL)
    assert lint("model.py").stdout == "All checks passed!\n"


@pytest.mark.parametrize(
    ("flags", "found"),
    [
        (["--select", "KT3"], False),
        (["--select", "KT401,KT3"], False),
        (["--select", "KT1"], True),
        (["--select", "KT"], True),
        (["--select", "ALL"], True),
        (["--select", "KT3", "--extend-select", "KT101"], True),
        (["--ignore", "KT1"], False),
        (["--select", "ALL", "--ignore", "KT101"], False),
        (["--select", "KT3", "--select", "KT101"], True),
    ],
)
def test_select_and_ignore_by_code_prefix_and_all(project, flags, found):
    write(project, "model.py", MODEL)
    assert lint(*flags, "model.py").exit_code == (1 if found else 0)


def test_command_line_select_overrides_the_configured_ignore(project):
    write(project, "model.py", MODEL)
    write(project, "pyproject.toml", '[tool.kerastips]\nignore = ["KT101"]\n')
    assert lint("model.py").exit_code == 0
    assert lint("--select", "KT101", "model.py").exit_code == 1


def test_per_file_ignores(project):
    write(project, "model.py", MODEL)
    write(project, "experiments/model.py", MODEL)
    write(
        project,
        "pyproject.toml",
        """\
        [tool.kerastips.per-file-ignores]
        "experiments/*" = ["KT1"]
        """,
    )
    assert lint(".").stdout == f"{FINDING}\nFound 1 error.\n"


def test_unreadable_files_give_one_line_each_and_the_others_are_still_linted(project):
    write(project, "a_syntax.py", "import keras\ndef broken(:\n")
    write(project, "b_latin1.py", b"import keras\nname = '\xe9t\xe9'\n")
    write(project, "c_binary.py", b"keras\x00\x01\x02")
    write(project, "model.py", MODEL)
    result = lint(".", "missing.py")
    assert result.exit_code == 2
    assert result.stdout == f"{FINDING}\nFound 1 error; 4 files could not be linted.\n"
    errors = result.stderr.splitlines()
    assert [line.split(": error: ")[0] for line in errors] == [
        "a_syntax.py", "b_latin1.py", "c_binary.py", "missing.py"
    ]
    assert errors[0].startswith("a_syntax.py: error: syntax error at line 2")
    assert errors[1].startswith("b_latin1.py: error: cannot decode as utf-8")
    assert errors[2].startswith("c_binary.py: error: binary file")
    assert errors[3] == "missing.py: error: no such file or directory"


def test_file_errors_exit_2_even_with_exit_zero(project):
    result = lint("--exit-zero", "missing.py")
    assert (result.exit_code, result.stdout) == (2, "Found 0 errors; 1 file could not be linted.\n")


def test_config_error_is_one_line_and_exit_2(project):
    write(project, "model.py", MODEL)
    write(project, "pyproject.toml", '[tool.kerastips]\nselect = ["KT999"]\n')
    result = lint("model.py")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "error: pyproject.toml: [tool.kerastips] select: unknown rule selector 'KT999'\n",
    )


def test_unknown_selector_on_the_command_line(project):
    result = lint("--ignore", "KT1,F401", ".")
    assert (result.exit_code, result.stderr) == (2, "error: --ignore: unknown rule selector 'F401'\n")


def test_usage_error_exit_2(project):
    result = lint("--output-format", "xml", ".")
    assert result.exit_code == 2
    assert "Invalid value for '--output-format'" in result.stderr


def test_explicit_config_file(project):
    write(project, "model.py", MODEL)
    write(project, "ci/kerastips.toml", '[tool.kerastips]\nselect = ["KT3"]\n')
    assert lint("--config", "ci/kerastips.toml", "model.py").exit_code == 0


def test_option_from_config_reaches_the_rule(project):
    write(
        project,
        "train.py",
        """\
        from tensorflow import keras
        from tensorflow.keras import layers

        model = keras.Sequential([layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), loss="mse")
        model.fit(x_train, y_train, batch_size=512, epochs=5, validation_split=0.2)
        """,
    )
    assert lint("train.py").exit_code == 0
    write(project, "pyproject.toml", "[tool.kerastips.options.KT401]\nbatch-size-threshold = 512\n")
    assert lint("train.py").stdout.startswith("train.py:5:25: KT401 batch size 512 ")


def test_bad_option_value_in_config(project):
    write(project, "pyproject.toml", "[tool.kerastips.options.KT401]\nbatch-size-threshold = 'big'\n")
    result = lint(".")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: pyproject.toml: [tool.kerastips] options.KT401.batch-size-threshold: expected int, got 'big'\n",
    )


def test_json_round_trip(project):
    write(project, "model.py", MODEL)
    result = lint("--output-format", "json", "model.py", "gone.py")
    assert (result.exit_code, result.stderr) == (2, "gone.py: error: no such file or directory\n")
    gone, finding = json.loads(result.stdout)
    assert (gone["code"], gone["path"], gone["message"]) == ("E902", "gone.py", "no such file or directory")
    assert finding == {
        "code": "KT101",
        "name": "batchnorm-after-activation",
        "message": MESSAGE,
        "severity": "warning",
        "path": "model.py",
        "cell": None,
        "location": {"row": 6, "column": 5},
        "end_location": {"row": 6, "column": 32},
        "fix": {"available": True, "applicability": "unsafe"},
    }


def test_full_format(project):
    """The layout itself is pinned in test_report; here: the CLI reads the file it reports."""
    write(project, "model.py", MODEL)
    lines = lint("--output-format", "full", "model.py").stdout.splitlines()
    assert lines[0] == FINDING
    assert lines[4:6] == ["6 |     layers.BatchNormalization(),", "  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^ KT101"]
    assert lines[-1] == "Found 1 error."


def test_statistics(project):
    write(project, "model.py", MODEL)
    write(project, "other/model.py", MODEL)
    result = lint("--statistics", ".")
    assert (result.exit_code, result.stdout) == (1, "2\tKT101\tbatchnorm-after-activation\nFound 2 errors.\n")


def test_output_file(project):
    write(project, "model.py", MODEL)
    result = lint("-o", "report.txt", "model.py")
    assert (result.exit_code, result.stdout) == (1, "")
    assert (project / "report.txt").read_text() == f"{FINDING}\nFound 1 error.\n"
    result = lint("-o", "no/such/folder/report.txt", "model.py")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no/such/folder/report.txt: cannot write:")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_gitignored_files_are_skipped_unless_named(project):
    write(project, "model.py", MODEL)
    write(project, "scratch/model.py", MODEL)
    write(project, ".gitignore", "scratch/\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    subprocess.run(["git", "init", "-q"], check=True, env=env)
    assert lint(".").stdout == f"{FINDING}\nFound 1 error.\n"
    assert lint("scratch/model.py").exit_code == 1


def test_force_exclude(project):
    write(project, "generated/model.py", MODEL)
    write(project, "pyproject.toml", '[tool.kerastips]\nexclude = ["generated"]\n')
    assert lint(".").stdout == "All checks passed!\n"
    assert lint("generated/model.py").exit_code == 1
    assert lint("--force-exclude", "generated/model.py").stdout == "All checks passed!\n"


def test_rule_prints_the_rule_page():
    for rule in ALL_RULES:
        result = CliRunner().invoke(cli, ["rule", rule.code.lower()])
        assert result.exit_code == 0
        assert result.stdout == (DOCS_DIR / page_name(rule)).read_text(encoding="utf-8")


def test_unknown_rule():
    result = CliRunner().invoke(cli, ["rule", "KT999"])
    assert (result.exit_code, result.stderr) == (
        2,
        "error: unknown rule code 'KT999' (`kerastips rules` lists them)\n",
    )


def test_rules_lists_every_rule_one_per_line():
    lines = CliRunner().invoke(cli, ["rules"]).stdout.splitlines()
    assert [line.split()[0] for line in lines] == [rule.code for rule in ALL_RULES]
    kt101 = rule_by_code("KT101")
    width = max(len(rule.name) for rule in ALL_RULES)
    assert lines[0] == f"KT101 {'batchnorm-after-activation':<{width}}  warning  {kt101.summary}"


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"kerastips, version {__version__}\n")


def run_module(*args: str, cwd) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "kerastips", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)


def test_console_entry_point_end_to_end_without_traceback(project):
    write(project, "model.py", MODEL)
    found = run_module("lint", "model.py", cwd=project)
    assert (found.returncode, found.stdout, found.stderr) == (1, f"{FINDING}\nFound 1 error.\n", "")
    write(project, "pyproject.toml", "[tool.kerastips\n")
    broken = run_module("lint", "model.py", cwd=project)
    assert broken.returncode == 2
    assert broken.stderr.startswith("error: pyproject.toml: invalid TOML: ")
    assert len(broken.stderr.splitlines()) == 1


def test_linting_does_not_import_tensorflow_or_keras(project):
    write(project, "model.py", MODEL)
    probe = textwrap.dedent(
        """\
        import sys
        from kerastips.cli import main
        sys.argv = ["kerastips", "lint", "model.py", "--exit-zero"]
        try:
            main()
        finally:
            print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
        """
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "[]"


# ---- machine-readable formats end to end ---------------------------------------------------------


def test_sarif_output_of_a_real_run(project):
    write(project, "models/model.py", MODEL)
    result = lint("--output-format", "sarif", "models", "gone.py")
    assert (result.exit_code, result.stderr) == (2, "gone.py: error: no such file or directory\n")
    (run,) = json.loads(result.stdout)["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.as_uri() + "/"
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in run["results"]] == [
        ("E902", "gone.py"), ("KT101", "models/model.py")
    ]
    assert run["results"][1]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 6, "startColumn": 5, "endLine": 6, "endColumn": 32
    }


def test_github_output_of_a_real_run(project):
    write(project, "model.py", MODEL)
    result = lint("--output-format", "github", "model.py")
    assert (result.exit_code, result.stdout) == (
        1, f"::warning title=kerastips (KT101),file=model.py,line=6,col=5,endLine=6,endColumn=32::{FINDING}\n"
    )


@pytest.mark.parametrize("output_format", ["sarif", "github"])
def test_statistics_is_refused_with_formats_it_cannot_take(project, output_format):
    result = lint("--statistics", "--output-format", output_format, ".")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: --statistics works with --output-format concise, full, json\n"
    )


# ---- stdin -------------------------------------------------------------------------------------


def lint_stdin(*args: str, source: str | bytes):
    return CliRunner().invoke(cli, ["lint", *args], input=source)


def test_stdin_is_reported_under_its_filename(project):
    result = lint_stdin("-", "--stdin-filename", "model.py", source=MODEL)
    assert (result.exit_code, result.stdout, result.stderr) == (1, f"{FINDING}\nFound 1 error.\n", "")


def test_stdin_filename_alone_reads_stdin_and_a_bare_dash_is_named_dash(project):
    assert lint_stdin("--stdin-filename", "model.py", source=MODEL).stdout == f"{FINDING}\nFound 1 error.\n"
    assert lint_stdin("-", source=MODEL).stdout == f"-{FINDING.removeprefix('model.py')}\nFound 1 error.\n"
    assert lint_stdin("-", source=CLEAN).stdout == "All checks passed!\n"


def test_stdin_takes_the_configuration_and_per_file_ignores_of_its_filename(project):
    write(project, "sub/pyproject.toml", '[tool.kerastips.per-file-ignores]\n"experiments/*" = ["KT101"]\n')
    write(project, "pyproject.toml", '[tool.kerastips]\nignore = ["KT3"]\n')
    assert lint_stdin("-", "--stdin-filename", "sub/experiments/m.py", source=MODEL).exit_code == 0
    assert lint_stdin("-", "--stdin-filename", "sub/train/m.py", source=MODEL).exit_code == 1
    assert lint_stdin("-", "--stdin-filename", "experiments/m.py", source=MODEL).exit_code == 1


def test_stdin_under_force_exclude(project):
    write(project, "pyproject.toml", '[tool.kerastips]\nexclude = ["generated"]\n')
    name = ("--stdin-filename", "generated/model.py")
    assert lint_stdin("-", *name, source=MODEL).exit_code == 1
    result = lint_stdin("-", *name, "--force-exclude", source=MODEL)
    assert (result.exit_code, result.stdout) == (0, "All checks passed!\n")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"import keras\nname = '\xe9t\xe9'\n", "model.py: error: cannot decode as utf-8 at byte 21"),
        (b"import keras\ndef broken(:\n", "model.py: error: syntax error at line 2, column 12: invalid syntax"),
        (b"keras\x00", "model.py: error: binary file (contains NUL bytes), not Python source"),
    ],
)
def test_bad_stdin_is_one_line_and_exit_2(project, source, message):
    result = lint_stdin("-", "--stdin-filename", "model.py", source=source)
    assert (result.exit_code, result.stderr) == (2, message + "\n")
    assert result.stdout == "Found 0 errors; 1 file could not be linted.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-", "model.py"], "`-` (stdin) cannot be combined with other paths"),
        (["--stdin-filename", "x.py", "model.py"], "--stdin-filename goes with the path `-` (the source read from stdin)"),
    ],
)
def test_stdin_usage_errors(project, args, message):
    write(project, "model.py", MODEL)
    for command in ("lint", "fix"):
        result = CliRunner().invoke(cli, [command, *args], input=MODEL)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {message}\n")


# KT105 (safe fix: the ReLU layer repeats the Dense's relu) next to KT101 (unsafe fix).
DOUBLE = MODEL.replace('activation="relu"),\n', 'activation="relu"),\n    layers.ReLU(),\n', 1)


def fix_stdin(*args: str, source: str | bytes):
    return CliRunner().invoke(cli, ["fix", "-", "--stdin-filename", "model.py", *args], input=source)


def test_fix_stdin_prints_the_diff_without_apply(project):
    result = fix_stdin(source=DOUBLE)
    assert result.exit_code == 1
    assert result.stdout == (
        "--- model.py\n+++ model.py\n@@ -3,7 +3,6 @@\n \n model = keras.Sequential([\n"
        '     layers.Dense(64, activation="relu"),\n-    layers.ReLU(),\n     layers.BatchNormalization(),\n'
        '     layers.Dense(10, activation="softmax"),\n ])\n'
    )
    assert result.stderr == "Would fix 1 finding in 1 file. 1 finding left (1 with unsafe fixes: add --unsafe-fixes).\n"
    assert not (project / "model.py").exists()


def test_fix_stdin_apply_prints_the_fixed_source(project):
    result = fix_stdin("--apply", source=DOUBLE)
    assert (result.exit_code, result.stdout) == (0, MODEL)
    assert result.stderr == "Fixed 1 finding in 1 file. 1 finding left (1 with unsafe fixes: add --unsafe-fixes).\n"
    assert fix_stdin("--apply", "--unsafe-fixes", source=DOUBLE).stdout == CLEAN
    assert not (project / "model.py").exists()


def test_fix_stdin_apply_keeps_the_source_encoding_and_bytes(project):
    latin1 = ("# -*- coding: latin-1 -*-\n# \xe9t\xe9\n" + DOUBLE.replace("\n", "\r\n")).encode("latin-1")
    result = CliRunner().invoke(cli, ["fix", "-", "--apply"], input=latin1)
    assert result.exit_code == 0
    assert result.stdout_bytes == ("# -*- coding: latin-1 -*-\n# \xe9t\xe9\n" + MODEL.replace("\n", "\r\n")).encode("latin-1")


def test_fix_stdin_apply_echoes_what_it_cannot_fix(project):
    broken = b"import keras\ndef broken(:\n"
    result = fix_stdin("--apply", source=broken)
    assert (result.exit_code, result.stdout_bytes) == (2, broken)
    assert result.stderr == (
        "model.py: error: syntax error at line 2, column 12: invalid syntax\n"
        "No fixes available. 1 file could not be fixed.\n"
    )
    assert fix_stdin("--apply", source=CLEAN).stdout == CLEAN  # nothing to fix: the source as read


def test_fix_stdin_under_force_exclude_is_left_alone(project):
    write(project, "pyproject.toml", '[tool.kerastips]\nexclude = ["model.py"]\n')
    result = fix_stdin("--apply", "--force-exclude", source=DOUBLE)
    assert (result.exit_code, result.stdout, result.stderr) == (0, DOUBLE, "No fixes available.\n")


# ---- init --------------------------------------------------------------------------------------


def init(*args: str):
    return CliRunner().invoke(cli, ["init", *args])


def test_init_creates_pyproject_with_a_section_that_changes_nothing(project):
    from kerastips.config import snippet

    result = init()
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "Created pyproject.toml: every setting at its default, commented out.\n"
    assert (project / "pyproject.toml").read_text() == snippet()
    write(project, "model.py", MODEL)
    assert lint("model.py").stdout == f"{FINDING}\nFound 1 error.\n"  # the table is found, and empty


def test_init_appends_and_keeps_every_byte_of_the_file(project):
    from kerastips.config import snippet

    original = b'[project]\r\nname = "demo"  # caf\xc3\xa9\r\n\r\n[tool.ruff]\r\nline-length = 100'
    write(project, "pyproject.toml", original)
    assert init().exit_code == 0
    text = (project / "pyproject.toml").read_bytes()
    assert text == original + b"\r\n\r\n" + snippet().replace("\n", "\r\n").encode()


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        ('[tool.kerastips]\nselect = ["KT1"]\n', "already has a [tool.kerastips] table"),
        ("[tool.kerastips.options.KT401]\nbatch-size-threshold = 512\n", "already has a [tool.kerastips] table"),
        ("tool = { black = {} }\n", "its `tool` key cannot take a [tool.kerastips] table"),
        ("[project\n", "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 9)"),
    ],
)
def test_init_refuses_and_changes_nothing(project, existing, message):
    write(project, "pyproject.toml", existing)
    result = init()
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: pyproject.toml: {message}; not changed (`kerastips init --print` shows the section)\n"
    assert (project / "pyproject.toml").read_text() == existing


def test_init_print_writes_nothing(project):
    from kerastips.config import snippet

    result = init("--print")
    assert (result.exit_code, result.stdout, result.stderr) == (0, snippet(), "")
    assert not (project / "pyproject.toml").exists()


def test_stdin_through_a_real_process(project):
    """Real pipes (not CliRunner's): the fixed bytes on stdout, the summary on stderr."""
    command = [sys.executable, "-m", "kerastips", "fix", "-", "--apply", "--stdin-filename", "model.py"]
    done = subprocess.run(command, cwd=project, input=DOUBLE.encode(), capture_output=True)
    assert (done.returncode, done.stdout.decode(), done.stderr.decode()) == (
        0, MODEL, "Fixed 1 finding in 1 file. 1 finding left (1 with unsafe fixes: add --unsafe-fixes).\n"
    )


def test_closed_stdin_is_one_line_not_a_traceback(project):
    command = [sys.executable, "-m", "kerastips", "lint", "-"]
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, preexec_fn=lambda: os.close(0))
    assert (done.returncode, done.stderr) == (2, "-: error: cannot read stdin: it is closed\n")


# ---- a file that cannot be linted, at its place in every format --------------------------------

# The error is on line 13, at the 13th character (the é is one character, two bytes).
SYNTAX_ERROR = "from tensorflow import keras\n" + "\n" * 9 + "model = keras.Sequential()\nif model:\n    fit(é, +* 2)\n"
SYNTAX_MESSAGE = "syntax error at line 13, column 13: invalid syntax"


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["cached", "uncached"])
def test_a_syntax_error_is_at_its_place_in_every_format(project, cache):
    write(project, "broken.py", SYNTAX_ERROR.encode())
    stderr = f"broken.py: error: {SYNTAX_MESSAGE}\n"  # as it always was

    def run(output_format: str):
        result = lint(*cache, "--output-format", output_format, "broken.py")
        assert (result.exit_code, result.stderr) == (2, stderr)
        return result.stdout

    for output_format in ("concise", "full"):
        assert run(output_format) == "Found 0 errors; 1 file could not be linted.\n"
    assert json.loads(run("json")) == [{
        "code": "E902", "name": "file-error", "message": SYNTAX_MESSAGE, "severity": "error",
        "path": "broken.py", "cell": None, "location": {"row": 13, "column": 13},
        "end_location": {"row": 13, "column": 13}, "fix": {"available": False, "applicability": None},
    }]
    assert run("github") == (
        f"::error title=kerastips (E902),file=broken.py,line=13,col=13::broken.py: error: {SYNTAX_MESSAGE}\n"
    )
    (result,) = json.loads(run("sarif"))["runs"][0]["results"]
    assert result == {
        "ruleId": "E902", "ruleIndex": len(ALL_RULES), "level": "error", "message": {"text": SYNTAX_MESSAGE},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "broken.py", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 13, "startColumn": 13},
        }}],
    }


def test_a_byte_that_does_not_decode_is_at_its_place_and_a_nul_byte_is_not(project):
    write(project, "latin1.py", b"import keras\nname = '\xe9t\xe9'\n")
    write(project, "binary.py", b"keras\x00")
    result = lint("--output-format", "json", "binary.py", "latin1.py")
    assert [(r["path"], r["message"], r["cell"], r["location"]) for r in json.loads(result.stdout)] == [
        ("binary.py", "binary file (contains NUL bytes), not Python source", None, {"row": 1, "column": 1}),
        ("latin1.py", "cannot decode as utf-8 at byte 21", None, {"row": 2, "column": 9}),
    ]
    assert lint("--output-format", "github", "binary.py", "latin1.py").stdout == (
        "::error title=kerastips (E902),file=binary.py::binary.py: error: binary file (contains NUL bytes), "
        "not Python source\n"
        "::error title=kerastips (E902),file=latin1.py,line=2,col=9::latin1.py: error: cannot decode as utf-8 at byte 21\n"
    )


def test_a_syntax_error_read_from_stdin_is_at_its_place(project):
    result = lint_stdin("-", "--stdin-filename", "model.py", "--output-format", "json",
                        source=b"import keras\ndef broken(:\n")
    (record,) = json.loads(result.stdout)
    assert (record["path"], record["cell"], record["location"]) == ("model.py", None, {"row": 2, "column": 12})


@pytest.mark.parametrize(("callbacks", "driven"), [
    ("[keras.callbacks.ModelCheckpoint('m.keras'), keras.callbacks.EarlyStopping(patience=3)]", "EarlyStopping"),
    ("[keras.callbacks.ModelCheckpoint('m.keras', save_best_only=True)]", "ModelCheckpoint"),
    ("[keras.callbacks.ReduceLROnPlateau(monitor='loss')]", "the val_* metrics"),
    ("[keras.callbacks.TensorBoard()]", "the val_* metrics"),
])
def test_test_data_as_validation_names_the_callbacks_it_drives(project, callbacks, driven):
    """Only callbacks that act on a val_* metric are driven by it: a checkpoint of every epoch, or a
    plateau on the training loss, is not."""
    write(project, "train.py", f"""\
        from tensorflow import keras
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x_train, y_train, epochs=5, validation_data=(x_test, y_test),
                  callbacks={callbacks})
        """)
    result = lint("--no-cache", "--select", "KT302", "train.py")
    assert result.stdout.splitlines()[0] == (
        f"train.py:5:56: KT302 test data passed as validation_data drives {driven}; validate on a split "
        "of the training data (validation_split=0.2) and keep the test set for one final evaluate()")
