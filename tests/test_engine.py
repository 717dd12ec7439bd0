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
    assert result == FileError("model.py", "cannot decode as utf-8 at byte 21", line=2, column=9)


def test_a_byte_that_does_not_decode_is_located_in_characters_after_any_line_break(tmp_path):
    # CRLF, a lone CR and LF each end one line; the column counts the characters before the byte
    result = lint_bytes(tmp_path, b"import keras\r\na = 1\rb = 2\nname = '\xc3\xa9\xff'\n")
    assert result == FileError("model.py", "cannot decode as utf-8 at byte 36", line=4, column=10)


def test_a_byte_after_a_bom_is_counted_in_the_file(tmp_path):
    # the codec reports the offset after the BOM: the message and the place count the file's bytes
    result = lint_bytes(tmp_path, b"\xef\xbb\xbfimport keras\n\xff\n")
    assert result == FileError("model.py", "cannot decode as utf-8 at byte 16", line=2, column=1)


def test_binary_file(tmp_path):
    result = lint_bytes(tmp_path, b"keras\x00\x01\x02")
    assert result == FileError("model.py", "binary file (contains NUL bytes), not Python source")
    assert (result.line, result.column, result.cell) == (None, None, None)  # no place


def test_syntax_error_is_located_precisely(tmp_path):
    result = lint_bytes(tmp_path, b"import keras\ndef build(:\n    pass\n")
    assert result == FileError("model.py", "syntax error at line 2, column 11: invalid syntax", line=2, column=11)


def test_syntax_error_columns_count_characters(tmp_path):
    result = lint_bytes(tmp_path, "import keras\nb = éé +* 2\n".encode())
    assert result == FileError("model.py", "syntax error at line 2, column 9: invalid syntax", line=2, column=9)


def test_syntax_error_found_by_libcst_alone_is_located(tmp_path, monkeypatch):
    # as if Python accepted what libcst refuses: libcst's account and place are the fallback
    from kerastips import engine

    monkeypatch.setattr(engine, "syntax_error", lambda source, flags=0: None)
    result = lint_bytes(tmp_path, b"import keras\nx = (\n    1 +* 2)\n")
    assert (result.line, result.column, result.cell) == (3, 1, None)
    assert result.message.startswith("syntax error at line 3, column 1: expected one of")


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
