"""node_positions gives exactly what libcst's PositionProvider gives, node for node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from kerastips.engine import decode
from kerastips.positions import _in_statements, node_positions

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


class _Collect(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


def assert_same_positions(source: str, placed: bool = False) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert node_positions(module, list(expected)) == dict(expected)
    # the same when only the top-level statements holding the nodes are generated
    collect = _Collect()
    for statement in module.body:
        statement.visit(collect)
    inside = {node: expected[node] for node in collect.nodes}
    assert node_positions(module, list(inside), source, module.body) == inside
    if placed:  # by Python's parser, not by generating the whole module
        assert _in_statements(module, list(inside), source, module.body) == inside


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_node_of_a_real_file(path):
    assert_same_positions(decode(path.read_bytes()), placed=True)


@pytest.mark.parametrize("source", AWKWARD.values(), ids=list(AWKWARD))
def test_every_node_of_an_awkward_source(source):
    assert_same_positions(source)


def test_statements_that_cannot_be_placed_fall_back_to_the_whole_module():
    source = "import keras\nx = 1\n"
    module = cst.parse_module(source)
    statement = module.body[1]
    whole = node_positions(module, [statement])
    # a node of another module is in none of the statements: the whole module answers
    stranger = cst.parse_module("x = 1\n").body[0]
    assert node_positions(module, [statement, stranger], source, [statement, stranger]) == whole
    # a statement ast would put elsewhere: a form feed that libcst keeps with the block before
    feed = "if x:\n    pass\n\x0cy = 2\n"
    module = cst.parse_module(feed)
    assert _in_statements(module, [module.body[1]], feed, [module.body[1]]) is None


def test_only_the_asked_nodes_and_none_outside_the_module():
    module = cst.parse_module("import keras\nmodel = keras.Sequential()\n")
    call = module.body[1].body[0].value
    stranger = cst.Name("elsewhere")
    positions = node_positions(module, [call, None, stranger])
    assert list(positions) == [call]
    assert (positions[call].start.line, positions[call].start.column) == (2, 8)
    assert (positions[call].end.line, positions[call].end.column) == (2, 26)
