"""node_positions gives exactly what libcst's PositionProvider gives, node for node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from kerastips.engine import decode
from kerastips.positions import node_positions

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "samples").glob("*.py")) + sorted((ROOT / "kerastips").rglob("*.py"))

AWKWARD = {
    "no trailing newline": "x = 1",
    "crlf": "x = 1\r\ndef f():\r\n    return (1,\r\n            2)\r\n",
    "lone cr": "x = 1\ry = (2,\r 3)\r",
    "cr inside a string": "a = '''\r\n\r'''\nb = 1\n",
    "form feed": "if x:\n    pass\n\x0cy = 2\n",
    "non-ascii": "s = 'é'; t = \"日本\"  # ü\nu = s\n",
    "continuation": "x = (1 +\\\n  2)\ny = 1 + \\\n    3\n",
    "only comments": "\n\n# c\n",
    "empty": "",
    "trailing comment in a block": "class A:\n    def f(self): pass\n    # trailing\n",
    "decorators": "@d\n@e(1,\n 2)\nasync def f():\n    await x\n",
    "imports": "from a import *\nfrom b import (c,\n  d)\nimport e as f, g\n",
    "try": "try:\n    a()\nexcept E as e:\n    b()\nelse:\n    c()\nfinally:\n    d()\n",
    "match": "match x:\n    case [1, *rest]:\n        pass\n    case _:\n        pass\n",
    "semicolons and suites": "a = 1; b = 2;\nif a: b = 3\nelif b: pass\nelse: c = 4\n",
}


def assert_same_positions(source: str) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert node_positions(module, list(expected)) == dict(expected)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_node_of_a_real_file(path):
    assert_same_positions(decode(path.read_bytes()))


@pytest.mark.parametrize("source", AWKWARD.values(), ids=list(AWKWARD))
def test_every_node_of_an_awkward_source(source):
    assert_same_positions(source)


def test_only_the_asked_nodes_and_none_outside_the_module():
    module = cst.parse_module("import keras\nmodel = keras.Sequential()\n")
    call = module.body[1].body[0].value
    stranger = cst.Name("elsewhere")
    positions = node_positions(module, [call, None, stranger])
    assert list(positions) == [call]
    assert (positions[call].start.line, positions[call].start.column) == (2, 8)
    assert (positions[call].end.line, positions[call].end.column) == (2, 26)
