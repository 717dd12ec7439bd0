"""The engine on awkward inputs: every file yields findings or one clear error, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from kerastips.diagnostic import FileError
from kerastips.engine import lint_file
from kerastips.rules import ALL_RULES

RULES = [rule() for rule in ALL_RULES]
FLAGGED = (
    "from tensorflow import keras\n"
    "model = keras.Sequential([keras.layers.Dense(8, activation='relu'),\n"
    "                          keras.layers.BatchNormalization()])\n"
)


def lint_bytes(tmp_path: Path, data: bytes):
    path = tmp_path / "model.py"
    path.write_bytes(data)
    return lint_file(path, RULES, "model.py")


def codes_and_lines(result):
    return [(d.code, d.line) for d in result]


def test_utf8_bom_and_crlf_line_endings(tmp_path):
    data = b"\xef\xbb\xbf" + FLAGGED.replace("\n", "\r\n").encode()
    assert codes_and_lines(lint_bytes(tmp_path, data)) == [("KT101", 3)]


def test_pep263_coding_cookie_is_honoured(tmp_path):
    data = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + FLAGGED).encode("latin-1")
    assert codes_and_lines(lint_bytes(tmp_path, data)) == [("KT101", 5)]


def test_non_utf8_bytes_are_one_clear_error(tmp_path):
    result = lint_bytes(tmp_path, b"import keras\nname = '\xff\xfe'\n")
    assert result == FileError("model.py", "cannot decode as utf-8 at byte 21")


def test_binary_file(tmp_path):
    result = lint_bytes(tmp_path, b"keras\x00\x01\x02")
    assert result == FileError("model.py", "binary file (contains NUL bytes), not Python source")


def test_syntax_error_is_located_precisely(tmp_path):
    result = lint_bytes(tmp_path, b"import keras\ndef build(:\n    pass\n")
    assert result == FileError("model.py", "syntax error at line 2, column 11: invalid syntax")


def test_deeply_nested_expressions_are_analysed(tmp_path):
    source = FLAGGED + "total = " + " + ".join(["x"] * 900) + "\n" + "y = " + "[" * 150 + "]" * 150 + "\n"
    assert codes_and_lines(lint_bytes(tmp_path, source.encode())) == [("KT101", 3)]


def test_files_without_keras_are_not_parsed(tmp_path):
    # Not even a syntax error is reported: the pre-filter skips files that cannot be Keras code.
    assert lint_bytes(tmp_path, b"def broken(:\n") == []


def test_empty_file(tmp_path):
    assert lint_bytes(tmp_path, b"") == []


def test_await_is_analysed(tmp_path):
    source = FLAGGED + "async def main():\n    data = await load()\n    model.fit(data)\n"
    assert codes_and_lines(lint_bytes(tmp_path, source.encode())) == [("KT101", 3), ("KT301", 6)]


@pytest.mark.parametrize(
    ("source", "parsed"),
    [
        ("import keras\n", True), ("import tensorflow as tf\n", True), ("# see mykeras_utils\n", True),
        ("model = Sequential()\n", True), ("x = Dense(3)\n", True), ("layer = layers.Conv2D(8, 3)\n", True),
        ("Hyperband\n", True), ("(BatchNormalization)\n", True), ("x = MyDense(3)\n", False),
        ("x = _Dense(3)\n", False), ("x = éDense(3)\n", False), ("x = Dense2(3)\n", False),
        ("x = Conv4D(3)\n", False), ("x = 3Dense\n", False), ("Densely = 1\n", False),
    ],
)
def test_the_prefilter_needs_keras_tensorflow_or_a_whole_keras_name(tmp_path, source, parsed):
    # a syntax error after the name shows whether the file was parsed
    result = lint_bytes(tmp_path, (source + "def broken(:\n").encode())
    assert isinstance(result, FileError) == parsed


def test_the_garbage_collector_is_paused_while_a_file_is_analysed_and_restored_after(tmp_path):
    import gc

    from kerastips.engine import analysing

    with analysing():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # as a host application may have it
    try:
        with analysing():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert codes_and_lines(lint_bytes(tmp_path, FLAGGED.encode())) == [("KT101", 3)]
    assert gc.isenabled()
