"""`kerastips fix` end to end: real files on disk, real rules, exact diffs, bytes and exit codes."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kerastips import fixer
from kerastips.cli import cli
from kerastips.fixer import WriteError, write_atomic

# Unsafe fixes (KT101, KT401, KT302 as validation_data, KT301), a safe one (KT404), a safe one that
# only the KT101 fix exposes (KT103), comments and blank lines around the edited statements, and a
# KT302 model selection in a loop that has no fix.
SOURCE = """\
# train.py: an attention classifier on MNIST rows
from tensorflow import keras
from tensorflow.keras import layers

(x_train, y_train), (x_test, y_test) = load_mnist_rows()  # scaled to [0, 1]


# the model
inputs = keras.Input(shape=(28, 28))
x = layers.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
x = layers.Dense(64, activation="relu")(x)  # hidden layer
x = layers.BatchNormalization()(x)
outputs = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling1D()(x))
model = keras.Model(inputs, outputs)

# compile with a plain Adam
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")  # string optimizer

# validate on the test set (KT302)
model.fit(x_train, y_train, epochs=3,
          validation_data=(x_test, y_test))  # one line more

scores = {}
for units in [32, 64]:
    candidate = keras.Sequential([keras.layers.Dense(units, activation="relu"), keras.layers.Dense(10)])
    candidate.compile(optimizer=keras.optimizers.SGD(lr=0.01, momentum=0.9), loss="mse")
    candidate.fit(x_train, y_train, epochs=1)
    scores[units] = candidate.evaluate(x_test, y_test)
best = max(scores, key=scores.get)
"""

# The single-statement edits, so that --select/--ignore can pick some of them; KT103 applies after
# KT101 (it sets use_bias=False on the Dense that KT101 leaves right before the BatchNormalization).
KT101_EDIT = (
    'x = layers.Dense(64, activation="relu")(x)  # hidden layer\nx = layers.BatchNormalization()(x)\n',
    'x = layers.Dense(64)(x)  # hidden layer\nx = layers.BatchNormalization()(x)\n'
    'x = layers.Activation("relu")(x)\n',
)
KT401_EDIT = (
    'model.compile(optimizer="adam", ',
    "model.compile(optimizer=keras.optimizers.Adam(learning_rate=keras.optimizers.schedules."
    "CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=0.001, "
    "warmup_steps=500)), ",
)
KT302_EDIT = ("validation_data=(x_test, y_test))", "validation_split=0.2)")
KT301_EDIT = ("epochs=1)", "epochs=1, validation_split=0.2)")
KT103_EDIT = ("x = layers.Dense(64)(x)", "x = layers.Dense(64, use_bias=False)(x)")
KT404_EDIT = ("SGD(lr=0.01, momentum=0.9)", "SGD(learning_rate=0.01, momentum=0.9)")


def edited(*edits: tuple[str, str], source: str = SOURCE) -> str:
    for old, new in edits:
        assert source.count(old) == 1
        source = source.replace(old, new)
    return source


FIXED = edited(KT101_EDIT, KT103_EDIT, KT401_EDIT, KT302_EDIT, KT301_EDIT, KT404_EDIT)
SAFELY_FIXED = edited(KT404_EDIT)

DIFF = """\
--- train.py
+++ train.py
@@ -8,22 +8,23 @@
 # the model
 inputs = keras.Input(shape=(28, 28))
 x = layers.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
-x = layers.Dense(64, activation="relu")(x)  # hidden layer
+x = layers.Dense(64, use_bias=False)(x)  # hidden layer
 x = layers.BatchNormalization()(x)
+x = layers.Activation("relu")(x)
 outputs = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling1D()(x))
 model = keras.Model(inputs, outputs)
 
 # compile with a plain Adam
-model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")  # string optimizer
+model.compile(optimizer=keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=0.001, warmup_steps=500)), loss="sparse_categorical_crossentropy")  # string optimizer
 
 # validate on the test set (KT302)
 model.fit(x_train, y_train, epochs=3,
-          validation_data=(x_test, y_test))  # one line more
+          validation_split=0.2)  # one line more
 
 scores = {}
 for units in [32, 64]:
     candidate = keras.Sequential([keras.layers.Dense(units, activation="relu"), keras.layers.Dense(10)])
-    candidate.compile(optimizer=keras.optimizers.SGD(lr=0.01, momentum=0.9), loss="mse")
-    candidate.fit(x_train, y_train, epochs=1)
+    candidate.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="mse")
+    candidate.fit(x_train, y_train, epochs=1, validation_split=0.2)
     scores[units] = candidate.evaluate(x_test, y_test)
 best = max(scores, key=scores.get)
"""

SAFE_DIFF = """\
--- train.py
+++ train.py
@@ -23,7 +23,7 @@
 scores = {}
 for units in [32, 64]:
     candidate = keras.Sequential([keras.layers.Dense(units, activation="relu"), keras.layers.Dense(10)])
-    candidate.compile(optimizer=keras.optimizers.SGD(lr=0.01, momentum=0.9), loss="mse")
+    candidate.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="mse")
     candidate.fit(x_train, y_train, epochs=1)
     scores[units] = candidate.evaluate(x_test, y_test)
 best = max(scores, key=scores.get)
"""

LEFT_IN_LOOP = (
    "train.py:29:40: KT302 models are compared by evaluate() on test data to pick one; select on a "
    "validation split and evaluate only the chosen model on the test set"
)
CLEAN = 'from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n'
READ_ONLY = "error: read-only file; not written"
CHANGED = "changed on disk while being fixed; not written (run again)"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(name: str, content: str | bytes, mode: int | None = None) -> Path:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    if mode is not None:
        path.chmod(mode)
    return path


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def outcome(result) -> tuple[int, str, str]:
    return result.exit_code, result.stdout, result.stderr


def temporaries(folder: Path = Path(".")) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".kerastips"))


# ---- showing and applying -----------------------------------------------------------------------


def test_fix_shows_the_exact_diff_writes_nothing_and_exits_1(project):
    put("train.py", SOURCE)
    result = run("fix", "--unsafe-fixes", "train.py")
    assert outcome(result) == (1, DIFF, "Would fix 6 findings in 1 file. 1 finding left.\n")
    assert Path("train.py").read_bytes() == SOURCE.encode()
    assert temporaries() == []


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch(1)")
def test_the_diff_is_a_patch_that_gives_the_fixed_file(project):
    put("train.py", SOURCE)
    diff = run("fix", "--unsafe-fixes", "train.py").stdout
    subprocess.run(["patch", "-s", "-p0"], input=diff.encode(), check=True)
    assert Path("train.py").read_text() == FIXED


def test_a_last_line_without_newline_is_marked_in_the_diff(project):
    put("train.py", SOURCE.rstrip("\n"))
    result = run("fix", "--unsafe-fixes", "train.py")
    assert result.exit_code == 1
    assert result.stdout.endswith(
        " best = max(scores, key=scores.get)\n\\ No newline at end of file\n"
    )


def test_lines_end_at_line_feeds_only_in_the_diff(project):
    """A form feed or U+2028 inside a line (str.splitlines would split there) stays in its line."""
    put("train.py", 'from tensorflow import keras\n\f\nmodel = keras.Sequential([keras.layers.Dense(1)])'
                    '  # \u2028\nmodel.compile(optimizer="adam", loss="mse")\nmodel.fit(x_train, y_train)\n')
    result = run("fix", "--unsafe-fixes", "train.py")
    assert result.stdout == (
        "--- train.py\n+++ train.py\n@@ -2,4 +2,4 @@\n \f\n"
        " model = keras.Sequential([keras.layers.Dense(1)])  # \u2028\n"
        ' model.compile(optimizer="adam", loss="mse")\n'
        "-model.fit(x_train, y_train)\n+model.fit(x_train, y_train, validation_split=0.2)\n"
    )


def test_without_unsafe_fixes_only_safe_fixes_are_shown_and_applied(project):
    put("train.py", SOURCE)
    summary = "1 finding in 1 file. 5 findings left (4 with unsafe fixes: add --unsafe-fixes).\n"
    result = run("fix", "train.py")
    assert outcome(result) == (1, SAFE_DIFF, "Would fix " + summary)
    assert Path("train.py").read_bytes() == SOURCE.encode()
    assert outcome(run("fix", "--apply", "train.py")) == (0, "", "Fixed " + summary)
    assert Path("train.py").read_text() == SAFELY_FIXED


def test_only_unsafe_fixes_left_is_nothing_to_do_without_the_flag(project):
    put("train.py", SAFELY_FIXED)
    hint = "No fixes available. 5 findings left (4 with unsafe fixes: add --unsafe-fixes).\n"
    assert outcome(run("fix", "train.py")) == (0, "", hint)
    assert outcome(run("fix", "--apply", "train.py")) == (0, "", hint)
    assert Path("train.py").read_text() == SAFELY_FIXED


def test_lint_marks_the_safely_fixable_finding_until_it_is_fixed(project):
    put("train.py", SOURCE)
    kt404 = "train.py:26:33: KT404 [*] lr= is rejected by Keras 3: use learning_rate=\n"
    assert kt404 in run("lint", "train.py").stdout
    run("fix", "--apply", "train.py")
    assert "KT404" not in run("lint", "train.py").stdout


def test_a_clean_file_has_nothing_to_fix(project):
    put("clean.py", CLEAN)
    assert outcome(run("fix", "--unsafe-fixes", "clean.py")) == (0, "", "No fixes available.\n")
    assert outcome(run("fix", "--apply", "--unsafe-fixes", "clean.py")) == (0, "", "No fixes available.\n")
    assert Path("clean.py").read_bytes() == CLEAN.encode()


def test_apply_writes_the_exact_fix_once_and_lint_then_reports_only_what_has_no_fix(project):
    put("train.py", SOURCE)
    result = run("fix", "--apply", "--unsafe-fixes", "train.py")
    assert outcome(result) == (0, "", "Fixed 6 findings in 1 file. 1 finding left.\n")
    assert Path("train.py").read_text() == FIXED

    again = run("fix", "--unsafe-fixes", "train.py")  # idempotent: nothing left to do
    assert outcome(again) == (0, "", "No fixes available. 1 finding left.\n")

    lint = run("lint", "train.py")
    assert outcome(lint) == (1, f"{LEFT_IN_LOOP}\nFound 1 error.\n", "")
    assert temporaries() == []


def test_a_folder_is_fixed_file_by_file(project):
    put("src/a.py", SOURCE)
    put("src/b.py", SOURCE)
    put("src/clean.py", CLEAN)
    result = run("fix", "--apply", "--unsafe-fixes", "src")
    assert outcome(result) == (0, "", "Fixed 12 findings in 2 files. 2 findings left.\n")
    assert Path("src/a.py").read_text() == Path("src/b.py").read_text() == FIXED
    assert Path("src/clean.py").read_text() == CLEAN


@pytest.mark.parametrize(
    ("options", "edits", "summary"),
    [
        (["--select", "KT101"], [KT101_EDIT], "Fixed 1 finding in 1 file."),
        (["--select", "KT3"], [KT302_EDIT, KT301_EDIT], "Fixed 2 findings in 1 file. 1 finding left."),
        (["--ignore", "KT1,KT3"], [KT401_EDIT, KT404_EDIT], "Fixed 2 findings in 1 file."),
        (["--select", "KT1", "--extend-select", "KT401"], [KT101_EDIT, KT103_EDIT, KT401_EDIT],
         "Fixed 3 findings in 1 file."),
    ],
)
def test_the_rule_selection_restricts_the_fixes(project, options, edits, summary):
    put("train.py", SOURCE)
    result = run("fix", "--apply", "--unsafe-fixes", *options, "train.py")
    assert outcome(result) == (0, "", summary + "\n")
    assert Path("train.py").read_text() == edited(*edits)


def test_the_configured_selection_applies_to_fix(project):
    put("pyproject.toml", '[tool.kerastips]\nignore = ["KT401"]\n')
    put("train.py", SOURCE)
    result = run("fix", "--apply", "--unsafe-fixes", "train.py")
    assert outcome(result) == (0, "", "Fixed 5 findings in 1 file. 1 finding left.\n")
    assert Path("train.py").read_text() == edited(KT101_EDIT, KT103_EDIT, KT302_EDIT, KT301_EDIT, KT404_EDIT)


def test_suppressed_findings_are_not_fixed(project):
    put("pyproject.toml", '[tool.kerastips]\nper-file-ignores = { "ignored.py" = ["KT3"] }\n')
    source = (
        'from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n'
        'model.fit(x_train, y_train)  # noqa: KT301\n'
        'model.fit(x_train, y_train,\n          epochs=2)  # noqa: KT301\n'
        'model.fit(x_train, y_train)\n'
    )
    put("kept.py", source)
    put("ignored.py", source)
    result = run("fix", "--apply", "--unsafe-fixes", "kept.py", "ignored.py")
    assert outcome(result) == (0, "", "Fixed 1 finding in 1 file.\n")
    assert Path("kept.py").read_text() == source[:-2] + ", validation_split=0.2)\n"
    assert Path("ignored.py").read_text() == source


# ---- what must survive: comments, line endings, encodings ---------------------------------------


def test_comments_and_blank_lines_outside_the_edits_are_kept(project):
    put("train.py", SOURCE)
    run("fix", "--apply", "--unsafe-fixes", "train.py")
    fixed = Path("train.py").read_text().splitlines()

    def comments_and_blanks(lines):
        return [line[line.index("#"):] if "#" in line else "" for line in lines if "#" in line or not line]

    assert comments_and_blanks(fixed) == comments_and_blanks(SOURCE.splitlines())


def test_crlf_line_endings_are_kept(project):
    put("train.py", SOURCE.replace("\n", "\r\n"))
    assert run("fix", "--apply", "--unsafe-fixes", "train.py").exit_code == 0
    assert Path("train.py").read_bytes() == FIXED.replace("\n", "\r\n").encode()


def test_a_utf8_bom_is_kept(project):
    put("train.py", b"\xef\xbb\xbf" + SOURCE.encode())
    assert run("fix", "--apply", "--unsafe-fixes", "train.py").exit_code == 0
    assert Path("train.py").read_bytes() == b"\xef\xbb\xbf" + FIXED.encode()


def test_a_latin1_file_is_kept_byte_for_byte_outside_the_edits(project):
    head = "# -*- coding: latin-1 -*-\n# données d'entraînement\n"
    source = head + SOURCE.replace("epochs=1)", "epochs=1)  # époque")
    put("train.py", source.encode("latin-1"))
    result = run("fix", "--apply", "--unsafe-fixes", "train.py")
    assert outcome(result) == (0, "", "Fixed 6 findings in 1 file. 1 finding left.\n")
    expected = head + FIXED.replace(
        "validation_split=0.2)\n    scores", "validation_split=0.2)  # époque\n    scores"
    )
    assert Path("train.py").read_bytes() == expected.encode("latin-1")


# ---- writing: mode, owner, links, refusals ------------------------------------------------------


@pytest.mark.parametrize("mode", [0o640, 0o755, 0o600])
def test_the_file_mode_is_kept(project, mode):
    put("train.py", SOURCE, mode)
    assert run("fix", "--apply", "--unsafe-fixes", "train.py").exit_code == 0
    assert stat.S_IMODE(os.stat("train.py").st_mode) == mode
    assert Path("train.py").read_text() == FIXED


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_the_owner_is_kept_when_root_fixes_someone_elses_file(project):
    put("train.py", SOURCE)
    os.chown("train.py", 4321, 4322)
    assert run("fix", "--apply", "--unsafe-fixes", "train.py").exit_code == 0
    info = os.stat("train.py")
    assert (info.st_uid, info.st_gid) == (4321, 4322)


def test_a_read_only_file_is_refused_and_the_others_are_still_fixed(project):
    put("a_locked.py", SOURCE, 0o444)
    put("b_open.py", SOURCE)
    result = run("fix", "--apply", "--unsafe-fixes", "a_locked.py", "b_open.py")
    assert outcome(result) == (
        2, "",
        f"a_locked.py: {READ_ONLY}\n"
        "Fixed 6 findings in 1 file. 1 finding left. 1 file could not be fixed.\n",
    )
    assert Path("a_locked.py").read_text() == SOURCE
    assert stat.S_IMODE(os.stat("a_locked.py").st_mode) == 0o444
    assert Path("b_open.py").read_text() == FIXED
    assert temporaries() == []


def test_a_read_only_file_can_still_be_shown(project):
    put("train.py", SOURCE, 0o444)
    assert outcome(run("fix", "--unsafe-fixes", "train.py"))[:2] == (1, DIFF)


def test_a_symlinked_file_is_fixed_through_the_link(project):
    put("real/train.py", SOURCE)
    Path("link.py").symlink_to("real/train.py")
    assert run("fix", "--apply", "--unsafe-fixes", "link.py").exit_code == 0
    assert Path("link.py").is_symlink() and os.readlink("link.py") == "real/train.py"
    assert Path("real/train.py").read_text() == FIXED
    assert temporaries() == [] and temporaries(Path("real")) == []


def test_several_files_where_some_fail(project):
    put("a_good.py", SOURCE)
    put("b_broken.py", "from tensorflow import keras\nmodel.fit(x, y\n")
    put("c_locked.py", SOURCE, 0o444)
    put("d_clean.py", CLEAN)
    put("e_good.py", SOURCE.replace("\n", "\r\n"))
    result = run("fix", "--apply", "--unsafe-fixes", ".")
    assert outcome(result) == (
        2, "",
        "b_broken.py: error: syntax error at line 2, column 10: '(' was never closed\n"
        f"c_locked.py: {READ_ONLY}\n"
        "Fixed 12 findings in 2 files. 2 findings left. 2 files could not be fixed.\n",
    )
    assert Path("a_good.py").read_text() == FIXED
    assert Path("e_good.py").read_bytes() == FIXED.replace("\n", "\r\n").encode()
    assert Path("b_broken.py").read_text() == "from tensorflow import keras\nmodel.fit(x, y\n"
    assert Path("c_locked.py").read_text() == SOURCE
    assert Path("d_clean.py").read_text() == CLEAN


def test_without_apply_errors_win_over_a_pending_diff(project):
    put("a_good.py", SOURCE)
    result = run("fix", "--unsafe-fixes", "a_good.py", "nope.py")
    assert outcome(result) == (
        2, DIFF.replace("train.py", "a_good.py"),
        "nope.py: error: no such file or directory\n"
        "Would fix 6 findings in 1 file. 1 finding left. 1 file could not be fixed.\n",
    )


def test_a_file_changed_on_disk_since_it_was_read_is_refused(project):
    path = put("train.py", b"new content written by an editor\n")
    with pytest.raises(WriteError, match=r"^changed on disk while being fixed; not written \(run again\)$"):
        write_atomic(path, b"what kerastips read\n", b"what kerastips fixed\n")
    assert path.read_bytes() == b"new content written by an editor\n"
    assert temporaries() == []


def test_the_cli_refuses_a_file_edited_while_it_is_being_fixed(project, monkeypatch):
    path = put("train.py", SOURCE)
    edited_meanwhile = SOURCE + "print('saved by the editor')\n"
    real = fixer.fix_source

    def fix_while_someone_saves(*args, **kwargs):
        result = real(*args, **kwargs)
        path.write_text(edited_meanwhile)
        return result

    monkeypatch.setattr(fixer, "fix_source", fix_while_someone_saves)
    result = run("fix", "--apply", "--unsafe-fixes", "train.py")
    assert outcome(result) == (
        2, "", f"train.py: error: {CHANGED}\nNo fixes available. 1 file could not be fixed.\n"
    )
    assert path.read_text() == edited_meanwhile


def test_a_bug_while_fixing_leaves_the_file_alone(project, monkeypatch):
    path = put("train.py", SOURCE)

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(fixer, "fix_source", broken)
    result = run("fix", "--apply", "--unsafe-fixes", "train.py")
    assert result.exit_code == 2
    assert result.stderr.startswith("train.py: error: internal error (ValueError: boom); please report it")
    assert path.read_text() == SOURCE


def test_a_failed_rename_leaves_the_file_and_no_temporary(project, monkeypatch):
    path = put("train.py", b"old\n")

    def refuse(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fixer.os, "replace", refuse)
    with pytest.raises(WriteError, match=r"^cannot write: No space left on device; not written$"):
        write_atomic(path, b"old\n", b"new\n")
    assert path.read_bytes() == b"old\n" and temporaries() == []


def test_an_interrupt_during_the_write_leaves_no_temporary(project, monkeypatch):
    path = put("train.py", b"old\n")

    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(fixer.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b"old\n", b"new\n")
    assert path.read_bytes() == b"old\n" and temporaries() == []


WRITER = textwrap.dedent("""\
    import sys
    from pathlib import Path
    from kerastips.fixer import write_atomic
    path, a, b = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes()
    current = path.read_bytes()  # whichever the last (killed) writer left
    other = b if current == a else a
    print("ready", flush=True)
    while True:
        write_atomic(path, current, other)
        current, other = other, current
""")


def test_a_writer_killed_at_any_moment_leaves_the_old_or_the_new_file(tmp_path):
    """SIGKILL cannot be caught, so a temporary `.NAME.XXXX.kerastips` may stay behind (it is
    never read back, and no other file is ever left); the file itself is always complete."""
    size = 4 * 1024 * 1024
    a, b = (b"# " + bytes([c]) * (size - 3) + b"\n" for c in (ord("a"), ord("b")))
    target, first, second = tmp_path / "big.py", tmp_path / "a.bin", tmp_path / "b.bin"
    target.write_bytes(a)
    first.write_bytes(a)
    second.write_bytes(b)
    rng = random.Random(1234)
    for _ in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target), str(first), str(second)],
            stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent,
        )
        assert writer.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.02, 0.25))
        assert writer.poll() is None  # still writing, not stopped by an error
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        assert target.read_bytes() in (a, b)
        leftovers = {p.name for p in tmp_path.iterdir()} - {"big.py", "a.bin", "b.bin"}
        assert all(name.startswith(".big.py.") and name.endswith(".kerastips") for name in leftovers)
        for name in leftovers:  # a later run starts afresh
            (tmp_path / name).unlink()


ROOT = Path(__file__).resolve().parent.parent


def readme_examples() -> list[tuple[str, str]]:
    """(command, output) of each `$ kerastips fix ...` example in the README's Fixing section."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Fixing"):text.index("\n## ", text.index("## Fixing") + 1)]
    examples = []
    for block in section.split("```diff\n")[1:]:
        command, output = block[:block.index("```")].split("\n", 1)
        examples.append((command, output))
    for line, output in re.findall(r"\n    (\$ kerastips fix [^\n]*)\n    ([^\n]*\n)", section):
        examples.append((line, output))
    return examples


@pytest.mark.parametrize(("command", "output"), readme_examples())
def test_the_readme_examples_are_real_output(monkeypatch, command, output):
    monkeypatch.chdir(ROOT)
    result = run(*command.split()[2:])
    assert result.stdout + result.stderr == output


def test_the_readme_has_fix_examples():
    assert len(readme_examples()) >= 3


# ---- known problems in the rules' fixes (not in the fix command) --------------------------------


def test_kt101_in_a_layer_list_does_not_duplicate_a_comment(project):
    put("model.py", textwrap.dedent("""\
        from tensorflow import keras
        from tensorflow.keras import layers
        model = keras.Sequential([
            layers.Dense(64, activation="relu"),
            layers.BatchNormalization(),  # normalize
            layers.Dense(10),
        ])
    """))
    run("fix", "--apply", "--unsafe-fixes", "--select", "KT101", "model.py")
    assert Path("model.py").read_text() == textwrap.dedent("""\
        from tensorflow import keras
        from tensorflow.keras import layers
        model = keras.Sequential([
            layers.Dense(64),
            layers.BatchNormalization(),  # normalize
            layers.Activation("relu"),
            layers.Dense(10),
        ])
    """)


def test_kt404_does_not_wrap_a_schedule_in_inverse_time_decay(project):
    source = textwrap.dedent("""\
        import keras
        schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=1000, decay_rate=0.9)
        optimizer = keras.optimizers.Adam(learning_rate=schedule, decay=1e-6)
    """)
    put("train.py", source)
    run("fix", "--apply", "train.py")
    assert "InverseTimeDecay(schedule" not in Path("train.py").read_text()


def test_kt401_and_kt404_on_one_optimizer_converge_to_valid_code(project):
    put("train.py", textwrap.dedent("""\
        import keras
        inputs = keras.Input(shape=(16, 8))
        model = keras.Model(inputs, keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs))
        model.compile(optimizer=keras.optimizers.Adam(lr=1e-3, decay=1e-6), loss="mse")
    """))
    run("fix", "--apply", "--unsafe-fixes", "train.py")
    assert "InverseTimeDecay(keras.optimizers.schedules.CosineDecay" not in Path("train.py").read_text()
