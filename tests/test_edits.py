"""The node-building helpers fixes share: an argument appended to a call is laid out as the call's
arguments are, whatever the layout."""

from __future__ import annotations

import libcst as cst
import pytest

from kerastips.edits import number, with_argument


class _Append(cst.CSTTransformer):
    def leave_Call(self, original_node, updated_node):
        return with_argument(updated_node, "validation_split", number(0.2))


def appended(source: str) -> str:
    fixed = cst.parse_module(source).visit(_Append()).code
    compile(fixed, "<fixed>", "exec")
    return fixed


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("fit()\n", "fit(validation_split=0.2)\n", id="no-arguments"),
    pytest.param("fit(x, y, epochs=5)\n", "fit(x, y, epochs=5, validation_split=0.2)\n", id="one-line"),
    pytest.param("fit(x)\n", "fit(x, validation_split=0.2)\n", id="one-argument"),
    pytest.param("fit(x, y )\n", "fit(x, y, validation_split=0.2 )\n", id="space-before-parenthesis"),
    pytest.param("fit(x, y,)\n", "fit(x, y, validation_split=0.2,)\n", id="one-line-trailing-comma"),
    pytest.param(
        "model.fit(x, y, epochs=3,\n          verbose=1)\n",
        "model.fit(x, y, epochs=3,\n          verbose=1,\n          validation_split=0.2)\n",
        id="hanging-indent",
    ),
    pytest.param(  # the comment of the line before is not copied
        "model.fit(x, y,  # arrays\n          verbose=1)  # quiet\n",
        "model.fit(x, y,  # arrays\n          verbose=1,\n          validation_split=0.2)  # quiet\n",
        id="hanging-indent-comments",
    ),
    pytest.param(
        "model.fit(x, y, epochs=5,\n          verbose=1\n)\n",
        "model.fit(x, y, epochs=5,\n          verbose=1,\n          validation_split=0.2\n)\n",
        id="hanging-indent-parenthesis-own-line",
    ),
    pytest.param(  # the review's case
        "model.fit(\n    x, y,\n    epochs=5,\n    verbose=1\n)\n",
        "model.fit(\n    x, y,\n    epochs=5,\n    verbose=1,\n    validation_split=0.2\n)\n",
        id="one-a-line",
    ),
    pytest.param(
        "model.fit(\n    x, y,\n    epochs=5,\n    verbose=1,\n)\n",
        "model.fit(\n    x, y,\n    epochs=5,\n    verbose=1,\n    validation_split=0.2,\n)\n",
        id="one-a-line-trailing-comma",
    ),
    pytest.param(
        "model.fit(\n    x\n)\n",
        "model.fit(\n    x,\n    validation_split=0.2\n)\n",
        id="one-argument-own-line",
    ),
    pytest.param(
        "model.fit(\n    x,\n)\n",
        "model.fit(\n    x,\n    validation_split=0.2,\n)\n",
        id="one-argument-own-line-trailing-comma",
    ),
    pytest.param(
        "def train():\n"
        "    model.fit(\n"
        "        x, y,  # arrays\n"
        "\n"
        "        # quiet\n"
        "        verbose=0  # no bar\n"
        "        # end of the arguments\n"
        "    )\n",
        "def train():\n"
        "    model.fit(\n"
        "        x, y,  # arrays\n"
        "\n"
        "        # quiet\n"
        "        verbose=0,  # no bar\n"
        "        validation_split=0.2\n"
        "        # end of the arguments\n"
        "    )\n",
        id="one-a-line-comments-in-a-function",
    ),
    pytest.param(
        "def train():\n    model.fit(\n        x, y,\n        verbose=0,  # no bar\n    )\n",
        "def train():\n    model.fit(\n        x, y,\n        verbose=0,  # no bar\n"
        "        validation_split=0.2,\n    )\n",
        id="one-a-line-trailing-comma-comment",
    ),
    pytest.param(
        "model.fit(x, y, verbose=0  # no bar\n)\n",
        "model.fit(x, y, verbose=0, validation_split=0.2  # no bar\n)\n",
        id="one-line-comment-parenthesis-own-line",
    ),
    pytest.param(
        "model.fit(x, y, verbose=0\n)\n",
        "model.fit(x, y, verbose=0, validation_split=0.2\n)\n",
        id="one-line-parenthesis-own-line",
    ),
    pytest.param(
        "model.fit(\n\tx, y,\n\tverbose=0\n)\n",
        "model.fit(\n\tx, y,\n\tverbose=0,\n\tvalidation_split=0.2\n)\n",
        id="tabs",
    ),
])
def test_an_appended_argument_is_laid_out_as_the_others(source, expected):
    assert appended(source) == expected


def test_line_endings_are_kept():
    source = "model.fit(\r\n    x, y,\r\n    verbose=0\r\n)\r\n"
    assert appended(source) == "model.fit(\r\n    x, y,\r\n    verbose=0,\r\n    validation_split=0.2\r\n)\r\n"
