"""Jupyter notebooks end to end: real .ipynb files written by nbformat (as Jupyter writes them),
the real command line, exact findings by cell and line, exact fixed notebooks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from kerastips.cli import cli
from kerastips.fixer import fix_bytes
from kerastips.rules import ALL_RULES

KT101 = (
    "BatchNormalization applied after the 'relu' activation of Dense; normalize the linear output "
    "instead: Dense -> BatchNormalization -> Activation('relu')"
)
KT301 = "fit() without validation data: add validation_split=0.2 or validation_data=(x_val, y_val)"
KT402 = "SGD without momentum: set momentum=0.9 (or use an adaptive optimizer)"

# A model built over three cells and trained in a fourth, with prose, a raw cell and magics around.
CELLS = [
    new_markdown_cell("# MNIST\nA small classifier."),
    new_code_cell("%matplotlib inline\n!pip install -q tensorflow\nimport tensorflow as tf\nfrom tensorflow import keras"),
    new_code_cell("model = keras.Sequential()\nmodel.add(keras.layers.Dense(64, activation=\"relu\"))"),
    new_raw_cell("not code: keras.layers.Dense(64, activation='relu')"),
    new_code_cell("# normalize\nmodel.add(keras.layers.BatchNormalization())\nmodel.add(keras.layers.Dense(10))"),
    new_markdown_cell("## Training"),
    new_code_cell("%%time\nmodel.compile(optimizer=\"sgd\", loss=\"mse\")\n"
                  "history = model.fit(x_train, y_train,\n                    epochs=3)"),
]


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def notebook(cells, **metadata) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata.update(metadata)
    return nb


def save(name: str, nb: nbformat.NotebookNode) -> Path:
    """Written as Jupyter writes it (nbformat: indent 1, sorted keys, a final newline)."""
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def fixes_offered(*args: str) -> list[tuple]:
    result = run("lint", "--output-format", "json", *args)
    return [(r["code"], r["fix"]) for r in json.loads(result.stdout)]


def findings(*args: str) -> list[tuple]:
    result = run("lint", "--output-format", "json", *args)
    return [(r["path"], r["cell"], r["location"]["row"], r["location"]["column"], r["code"])
            for r in json.loads(result.stdout)]


# ---- linting -----------------------------------------------------------------------------------


def test_findings_in_several_cells_carry_their_cell_and_line(project):
    save("train.ipynb", notebook(CELLS))
    result = run("lint", "train.ipynb")
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == (
        f"train.ipynb:cell 5:line 2:col 11: KT101 {KT101}\n"
        f"train.ipynb:cell 7:line 2:col 1: KT402 {KT402}\n"
        f"train.ipynb:cell 7:line 3:col 11: KT301 {KT301}\n"
        "Found 3 errors.\n"
    )


def test_json_records_have_the_cell_and_the_rows_within_it(project):
    save("train.ipynb", notebook(CELLS))
    records = json.loads(run("lint", "--output-format", "json", "train.ipynb").stdout)
    kt301 = records[-1]
    assert (kt301["cell"], kt301["location"], kt301["end_location"]) == (
        7, {"row": 3, "column": 11}, {"row": 4, "column": 30},
    )
    assert [record["cell"] for record in records] == [5, 7, 7]


def test_full_output_shows_the_lines_of_the_cell(project):
    save("train.ipynb", notebook(CELLS))
    lines = run("lint", "--output-format", "full", "--select", "KT101", "train.ipynb").stdout
    assert lines == (
        f"train.ipynb:cell 5:line 2:col 11: KT101 {KT101}\n"
        "  |\n"
        "1 | # normalize\n"
        "2 | model.add(keras.layers.BatchNormalization())\n"
        "  |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ KT101\n"
        "3 | model.add(keras.layers.Dense(10))\n"
        "  |\n"
        "\n"
        "Found 1 error.\n"
    )


def test_a_cell_given_as_one_string_and_cells_in_any_order_of_keys(project):
    nb = {"metadata": {}, "nbformat": 4, "nbformat_minor": 2, "cells": [
        {"source": "from keras import layers, Sequential\n", "cell_type": "code", "metadata": {},
         "outputs": [], "execution_count": 1},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2,
         "source": "m = Sequential([layers.Dense(4, activation='relu'),\n  layers.BatchNormalization()])"},
    ]}
    Path("one.ipynb").write_text(json.dumps(nb))
    assert findings("one.ipynb") == [("one.ipynb", 2, 2, 3, "KT101")]


def test_ipython_syntax_is_tolerated_and_lines_stay_exact(project):
    cell = (
        "%load_ext autoreload\n"
        "%autoreload 2\n"
        "?keras.layers.Dense\n"
        "keras.layers.Dense?\n"
        "keras.Model.fit??\n"
        "files = !ls data\n"
        "found = %sx ls data\n"
        "!pip install keras \\\n"
        "    tensorflow\n"
        "for units in (8, 16):\n"
        "    !echo building \\\n"
        "        $units\n"
        "    %time build(units)\n"
        "scale = (255\n"
        "         % 7)  # the remainder operator, not a magic\n"
        "note = '''\n"
        "%not a magic inside a string\n"
        "'''\n"
        "model.add(keras.layers.BatchNormalization())"
    )
    nb = notebook([
        new_code_cell("import keras\nmodel = keras.Sequential([keras.layers.Dense(8, activation='relu')])"),
        new_code_cell(cell),
    ])
    save("magic.ipynb", nb)
    assert findings("magic.ipynb") == [("magic.ipynb", 2, 19, 11, "KT101")]


def test_a_cell_magic_of_another_language_leaves_its_cell_out(project):
    save("foreign.ipynb", notebook([
        new_code_cell("from tensorflow import keras"),
        new_code_cell("%%writefile train.py\nmodel = keras.Sequential([keras.layers.Dense(8, activation='relu'),\n"
                      "                          keras.layers.BatchNormalization()])"),
        new_code_cell("%%bash\nfor f in *.py; do echo $f; done"),
        new_code_cell("%%capture\nmodel = keras.Sequential([keras.layers.Dense(8, activation='relu'),\n"
                      "                          keras.layers.BatchNormalization()])"),
    ]))
    assert findings("foreign.ipynb") == [("foreign.ipynb", 4, 3, 27, "KT101")]


def test_noqa_comments_work_in_cells(project):
    cells = [new_code_cell(c) for c in (
        "from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])",
        "model.compile(optimizer='sgd', loss='mse')  # noqa: KT402",
        "model.fit(x, y)",
    )]
    save("noqa.ipynb", notebook(cells))
    assert findings("noqa.ipynb") == [("noqa.ipynb", 3, 1, 1, "KT301")]
    cells.append(new_code_cell("# kerastips: noqa: KT301"))
    save("noqa.ipynb", notebook(cells))
    assert findings("noqa.ipynb") == []


def test_a_syntax_error_is_reported_in_its_cell_and_the_run_goes_on(project):
    save("a_broken.ipynb", notebook([
        new_markdown_cell("text"),
        new_code_cell("from tensorflow import keras"),
        new_code_cell("x = 1\ndef build(:\n    pass"),
    ]))
    save("b_good.ipynb", notebook(CELLS))
    result = run("lint", ".")
    assert result.exit_code == 2
    assert result.stderr == "a_broken.ipynb: error: cell 3: syntax error at line 2, column 11: invalid syntax\n"
    assert result.stdout.endswith("Found 3 errors; 1 file could not be linted.\n")


PY2_CELLS = [
    new_code_cell("from keras.models import Sequential\nfrom keras.layers import Dense, BatchNormalization"),
    new_code_cell('print "training"'),
    new_markdown_cell("The model"),
    new_code_cell("model = Sequential()\nmodel.add(Dense(64, activation='relu', input_dim=8))\n"
                  "model.add(BatchNormalization())\nmodel.add(Dense(1, activation='sigmoid'))"),
    new_code_cell("print model.summary()\nprint 'done'"),
]


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["cached", "no-cache"])
def test_the_cells_that_parse_are_linted_when_others_do_not(project, cache):
    """A cell that is not Python (a Python 2 print) fails in Jupyter and the others still run:
    they are linted, and the notebook's error names the first cell that fails and how many more."""
    save("py2.ipynb", notebook(PY2_CELLS))
    error = ("py2.ipynb: error: cell 2: syntax error at line 1, column 1: Missing parentheses in call to "
             "'print'. Did you mean print(...)? (1 more cell does not parse)\n")
    for _ in range(2):  # the second run is answered by the cache when there is one
        result = run("lint", *cache, "py2.ipynb")
        assert (result.exit_code, result.stderr) == (2, error)
        assert result.stdout.splitlines()[0].startswith(
            "py2.ipynb:cell 4:line 3:col 11: KT101 BatchNormalization applied after the 'relu' activation of Dense")
        records = json.loads(run("lint", *cache, "--output-format", "json", "py2.ipynb").stdout)
        assert [(r["code"], r["cell"], r["location"]["row"]) for r in records] == [("E902", 2, 1), ("KT101", 4, 3)]


def test_a_notebook_whose_cells_do_not_all_parse_is_not_fixed(project):
    path = save("py2.ipynb", notebook(PY2_CELLS))
    before = path.read_bytes()
    result = run("fix", "--apply", "--unsafe-fixes", "py2.ipynb")
    assert result.exit_code == 2 and result.stderr.startswith("py2.ipynb: error: cell 2: syntax error")
    assert path.read_bytes() == before


@pytest.mark.parametrize(("cells", "error"), [
    # Jupyter runs each cell on its own: a statement cannot go on into the next cell.
    (["model = keras.Sequential([", "keras.layers.Dense(1)])"],
     "cell 2: syntax error at line 1, column 26: '[' was never closed (1 more cell does not parse)"),
    (["doc = '''", "'''"], "cell 2: syntax error at line 1, column 7: unterminated triple-quoted string "
                           "literal (detected at line 1) (1 more cell does not parse)"),
    (["if True:\n    x = 1", "else:\n    x = 2"], "cell 3: syntax error at line 1, column 1: invalid syntax"),
    (["def f():\n    x = 1", "    return x\nf()"], "cell 3: syntax error at line 1, column 4: unexpected indent"),
])
def test_a_statement_split_over_two_cells_is_a_syntax_error(project, cells, error):
    save("split.ipynb", notebook([new_code_cell("from tensorflow import keras"), *map(new_code_cell, cells)]))
    result = run("lint", "split.ipynb")
    assert (result.exit_code, result.stderr) == (2, f"split.ipynb: error: {error}\n")


def test_top_level_await_is_valid_in_a_cell(project):
    save("async.ipynb", notebook([new_code_cell(
        "from tensorflow import keras\ndata = await load()\nmodel = keras.Sequential([keras.layers.Dense(1)])\n"
        "model.fit(data)"
    )]))
    assert findings("async.ipynb") == [("async.ipynb", 1, 4, 1, "KT301")]


# A cell indented as a whole (pasted from a function body): IPython removes the indentation common
# to its lines before it runs the cell.
INDENTED = [
    new_code_cell("  from tensorflow import keras\n  from tensorflow.keras.layers import Dense, BatchNormalization"),
    new_markdown_cell("The model"),
    new_code_cell("    model = keras.Sequential()\n    \n    model.add(Dense(64, activation='relu'))\n"
                  "    model.add(BatchNormalization())\n    %time x = 1\n    if True:\n"
                  "        model.compile(optimizer='sgd',\n                      loss='mse')"),
    new_code_cell("%%time\n\thistory = model.fit(x_train, y_train,\n\t                    epochs=3)\n"),
]


def test_a_cell_indented_as_a_whole_is_linted_as_ipython_runs_it(project):
    save("indented.ipynb", notebook(INDENTED))
    # Columns count in the cell as written, its indentation (a tab is one column) included.
    assert findings("--select", "ALL", "indented.ipynb") == [
        ("indented.ipynb", 3, 4, 15, "KT101"), ("indented.ipynb", 3, 7, 9, "KT402"),
        ("indented.ipynb", 4, 2, 12, "KT301"),
    ]
    result = run("lint", "--output-format", "json", "indented.ipynb")
    assert [(r["location"], r["end_location"]) for r in json.loads(result.stdout)][0] == (
        {"row": 4, "column": 15}, {"row": 4, "column": 35})
    dedented = [new_code_cell(textwrap.dedent(cell.source)) if cell.cell_type == "code" else cell
                for cell in INDENTED]
    save("dedented.ipynb", notebook(dedented))
    assert [code for *_, code in findings("--select", "ALL", "dedented.ipynb")] == ["KT101", "KT402", "KT301"]


def test_fixes_in_an_indented_cell_keep_its_indentation(project):
    nb = notebook(INDENTED)
    path = save("indented.ipynb", nb)
    result = run("fix", "--apply", "--unsafe-fixes", "indented.ipynb")
    assert (result.exit_code, result.stderr) == (0, "Fixed 4 findings in 1 file.\n")
    assert path.read_text() == nbformat.writes(with_sources(nb, {
        1: "  from tensorflow import keras\n  from tensorflow.keras.layers import Activation, Dense, BatchNormalization",
        3: "    model = keras.Sequential()\n    \n    model.add(Dense(64, use_bias=False))\n"
           "    model.add(BatchNormalization())\n    model.add(Activation('relu'))\n    %time x = 1\n    if True:\n"
           "        model.compile(optimizer=keras.optimizers.SGD(momentum=0.9),\n                      loss='mse')",
        4: "%%time\n\thistory = model.fit(x_train, y_train,\n\t                    epochs=3,\n"
           "\t                    validation_split=0.2)\n",
    })) + "\n"
    assert findings("indented.ipynb") == []


def test_an_import_a_fix_adds_to_an_indented_first_cell_is_indented_too(project):
    nb = notebook([
        new_code_cell("  import numpy as np\n  from keras.models import Sequential\n  from keras.layers import Dense"),
        new_code_cell("model = Sequential([Dense(1)])\nmodel.compile(optimizer='sgd', loss='mse')"),
    ])
    path = save("imports.ipynb", nb)
    assert run("fix", "--apply", "--unsafe-fixes", "imports.ipynb").exit_code == 0
    assert [cell.source for cell in nbformat.read(str(path), 4).cells] == [
        "  import numpy as np\n  from keras.models import Sequential\n  from keras.layers import Dense\n  import keras",
        "model = Sequential([Dense(1)])\nmodel.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss='mse')",
    ]


@pytest.mark.parametrize(("cell", "error"), [
    # a later line indented less than the first: the common indentation is the lesser one
    ("    model.fit(x, y)\n  model.save('m.h5')", "syntax error at line 1, column 4: unexpected indent"),
    ("    model.fit(x, y)\nmodel.save('m.h5')", "syntax error at line 1, column 4: unexpected indent"),
    ("  # train\n    model.fit(x, y)", "syntax error at line 2, column 4: unexpected indent"),
    ("    model.fit(x, y)\n      model.save('m.h5')", "syntax error at line 2, column 6: unexpected indent"),
    ("    model.fit(x, y,\nepochs=3)", "syntax error at line 1, column 4: unexpected indent"),
    # an error in an indented cell: its column as written
    ("    print 'fitted'", "syntax error at line 1, column 5: Missing parentheses in call to 'print'. "
                             "Did you mean print(...)?"),
    ("  x = 1\n  def build(:\n      pass", "syntax error at line 2, column 13: invalid syntax"),
])
def test_a_cell_ipython_cannot_run_after_removing_its_indentation_is_a_syntax_error(project, cell, error):
    save("near.ipynb", notebook([new_code_cell("from tensorflow import keras\nmodel = keras.Sequential()"),
                                 new_code_cell(cell)]))
    result = run("lint", "near.ipynb")
    assert (result.exit_code, result.stderr) == (2, f"near.ipynb: error: cell 2: {error}\n")
    transformer = pytest.importorskip("IPython.core.inputtransformer2").TransformerManager()
    with pytest.raises(SyntaxError):  # nor does IPython run it
        compile(transformer.transform_cell(cell), "<cell>", "exec")


@pytest.mark.parametrize("cell", [
    "  # train\n  model.fit(x, y)",
    "    # train\n  model.fit(x, y)\n  model.save('m.h5')",  # the comment is indented further
    "\n  \n    model.fit(x, y)\n\n    model.save('m.h5')\n  ",  # blank lines do not count
    "    %%capture\n    model.fit(x, y)",
    "%%capture\n    model.fit(x, y)",  # the body of a cell magic is run as a cell of its own
    "\tif True:\n\t\tmodel.fit(x, y)",
])
def test_a_cell_ipython_runs_after_removing_its_indentation_is_linted(project, cell):
    save("indented.ipynb", notebook([new_code_cell("from tensorflow import keras\nmodel = keras.Sequential()"),
                                     new_code_cell(cell)]))
    line = cell.split("model.fit")[0].count("\n") + 1
    column = len(cell.split("model.fit")[0].rsplit("\n", 1)[-1]) + 1
    assert findings("indented.ipynb") == [("indented.ipynb", 2, line, column, "KT301")]
    transformer = pytest.importorskip("IPython.core.inputtransformer2").TransformerManager()
    compile(transformer.transform_cell(cell), "<cell>", "exec")  # IPython runs it


ODD = [
    (b"", "not a notebook: invalid JSON at line 1, column 1: Expecting value"),
    (b'{"cells": [', "not a notebook: invalid JSON at line 1, column 12: Expecting value"),
    (b"[1, 2]", "not a notebook: the JSON is not an object"),
    (b'{"metadata": {}, "nbformat": 4}', 'not a notebook: no "cells" list'),
    (b'{"cells": {"0": {}}}', 'not a notebook: no "cells" list'),
    (b'{"cells": ["import keras"]}', "not a notebook: cell 1 is not a JSON object"),
    (b'{"cells": [{"cell_type": "code", "source": 42}]}', 'not a notebook: the "source" of cell 1 is not text'),
    (b'{"cells": [{"cell_type": "code", "source": ["a", null]}]}', 'not a notebook: the "source" of cell 1 is not text'),
    (b'{"nbformat": 3, "worksheets": [{"cells": []}]}',
     "nbformat 3 notebook: only nbformat 4 is read (upgrade it with `jupyter nbconvert --to notebook`)"),
    (b'{"cells": [], "nbformat": 4}\xff', "cannot decode as utf-8 at byte 28"),
    (b"\x00\x01", "not a notebook: invalid JSON at line 1, column 1: Expecting value"),
    (b"\xef\xbb\xbf[]", "not a notebook: the JSON is not an object"),
]


@pytest.mark.parametrize(("data", "error"), ODD)
def test_an_odd_notebook_is_one_error_line_and_the_run_goes_on(project, data, error):
    Path("odd.ipynb").write_bytes(data)
    save("z_good.ipynb", notebook(CELLS))
    for command in (["lint"], ["fix", "--apply", "--unsafe-fixes"]):
        result = run(*command, "odd.ipynb", "z_good.ipynb")
        assert result.exit_code == 2
        assert result.stderr.splitlines()[0] == f"odd.ipynb: error: {error}"
        assert "Traceback" not in result.output
    assert Path("odd.ipynb").read_bytes() == data
    assert "validation_split=0.2" in nbformat.read("z_good.ipynb", 4).cells[6].source  # fixed all the same


@pytest.mark.parametrize("nb", [
    new_notebook(),  # no cells at all
    notebook([new_markdown_cell("from keras import layers"), new_raw_cell("model.fit(x, y)")]),
    notebook([new_code_cell(""), new_code_cell("\n\n")]),
    notebook([new_code_cell("library(keras)\nmodel %>% fit(x, y)")], language_info={"name": "R"}),
    notebook([new_code_cell("model.fit(x, y)")], kernelspec={"name": "ir", "language": "R", "display_name": "R"}),
], ids=["empty", "no-code-cells", "blank-cells", "R-language-info", "R-kernelspec"])
def test_notebooks_without_python_code_pass(project, nb):
    save("nb.ipynb", nb)
    assert run("lint", "nb.ipynb").output == "All checks passed!\n"


def test_folders_are_searched_for_notebooks_but_not_their_checkpoints(project):
    save("src/train.ipynb", notebook(CELLS))
    save("src/.ipynb_checkpoints/train-checkpoint.ipynb", notebook(CELLS))
    save("src/notes.md.ipynb.txt", notebook(CELLS))
    assert {path for path, *_ in findings("src")} == {"src/train.ipynb"}


def test_a_notebook_from_stdin_is_linted_by_its_name(project):
    data = nbformat.writes(notebook(CELLS)).encode()
    result = CliRunner().invoke(cli, ["lint", "-", "--stdin-filename", "train.ipynb"], input=data)
    assert result.stdout.splitlines()[0] == f"train.ipynb:cell 5:line 2:col 11: KT101 {KT101}"


# ---- fixing ------------------------------------------------------------------------------------


def with_sources(nb: nbformat.NotebookNode, sources: dict[int, str]) -> nbformat.NotebookNode:
    """The notebook with some cells' sources replaced (cells by their 1-based number)."""
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    for number, source in sources.items():
        copy.cells[number - 1].source = source
    return copy


def rich_notebook() -> nbformat.NotebookNode:
    """CELLS with what fixing must leave alone: outputs (text, an image, an error), execution
    counts, cell ids, metadata and non-ASCII text."""
    nb = notebook(CELLS, kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
                  language_info={"name": "python", "version": "3.11.7"})
    nb.cells[1].execution_count = 1
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="Successfully installed … tensorflow\n")]
    nb.cells[4].metadata = {"tags": ["model"], "collapsed": False}
    nb.cells[6].execution_count = 7
    nb.cells[6].outputs = [
        new_output("stream", name="stdout", text="CPU times: user 1.2 s\nWall time: 0.9 s\n"),
        new_output("execute_result", data={"image/png": "iVBORw0KGgo=\n", "text/plain": "<Figure>"},
                   execution_count=7),
        new_output("error", ename="NameError", evalue="name 'x_train' is not defined", traceback=["..."]),
    ]
    nb.cells[0].source = "# MNIST — ein kleiner Klassifikator"
    return nb


FIXED_CELL_7 = (
    "%%time\nmodel.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss=\"mse\")\n"
    "history = model.fit(x_train, y_train,\n                    epochs=3,\n                    validation_split=0.2)"
)
DIFF = """\
--- train.ipynb:cell 7
+++ train.ipynb:cell 7
@@ -1,4 +1,5 @@
 %%time
-model.compile(optimizer="sgd", loss="mse")
+model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="mse")
 history = model.fit(x_train, y_train,
-                    epochs=3)
+                    epochs=3,
+                    validation_split=0.2)
"""


def test_fix_shows_a_diff_per_cell_and_writes_nothing(project):
    path = save("train.ipynb", rich_notebook())
    before = path.read_bytes()
    result = run("fix", "--unsafe-fixes", "train.ipynb")
    assert (result.exit_code, result.stdout) == (1, DIFF)
    assert result.stderr == "Would fix 2 findings in 1 file. 1 finding left.\n"
    assert path.read_bytes() == before


def test_apply_rewrites_only_the_changed_cell_and_keeps_everything_else(project):
    nb = rich_notebook()
    path = save("train.ipynb", nb)
    result = run("fix", "--apply", "--unsafe-fixes", "train.ipynb")
    assert (result.exit_code, result.stderr) == (0, "Fixed 2 findings in 1 file. 1 finding left.\n")
    # Byte for byte what Jupyter itself would write for the fixed notebook.
    assert path.read_text(encoding="utf-8") == nbformat.writes(with_sources(nb, {7: FIXED_CELL_7})) + "\n"
    nbformat.validate(nbformat.read(str(path), 4))
    again = run("fix", "--apply", "--unsafe-fixes", "train.ipynb")
    assert (again.exit_code, again.stderr) == (0, "No fixes available. 1 finding left.\n")
    assert findings("train.ipynb") == [("train.ipynb", 5, 2, 11, "KT101")]


def test_the_json_layout_of_the_file_is_kept(project):
    """Indent 2, keys in the writer's order (not sorted), sources as strings and as lists, escaped
    non-ASCII, no final newline: only the changed source value differs."""
    nb = {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {"title": "Caf\u00e9"},
        "cells": [
            {"id": "a1", "cell_type": "code", "source": ["from tensorflow import keras\n", "# caf\u00e9"],
             "outputs": [], "metadata": {}, "execution_count": None},
            {"id": "b2", "cell_type": "code", "source": "model = keras.Sequential([keras.layers.Dense(1)])\n"
             "model.fit(x, y)\n", "outputs": [], "metadata": {}, "execution_count": None},
            {"id": "c3", "cell_type": "code", "outputs": [], "metadata": {}, "execution_count": None,
             "source": ["model.compile(optimizer='sgd',\n", "              loss='mse')"]},
        ],
    }
    text = json.dumps(nb, indent=2)  # ensure_ascii: \u00e9
    Path("layout.ipynb").write_text(text)
    assert run("fix", "--apply", "--unsafe-fixes", "layout.ipynb").exit_code == 0
    nb["cells"][1]["source"] = "model = keras.Sequential([keras.layers.Dense(1)])\nmodel.fit(x, y, validation_split=0.2)\n"
    nb["cells"][2]["source"] = ["model.compile(optimizer=keras.optimizers.SGD(momentum=0.9),\n", "              loss='mse')"]
    assert Path("layout.ipynb").read_text() == json.dumps(nb, indent=2)


def test_a_compact_notebook_stays_compact(project):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": ["from tensorflow import keras\n", "model = keras.Sequential([keras.layers.Dense(1)])\n",
                                "model.fit(x, y)"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    Path("compact.ipynb").write_text(json.dumps(nb, ensure_ascii=False))
    assert run("fix", "--apply", "--unsafe-fixes", "compact.ipynb").exit_code == 0
    nb["cells"][0]["source"][2] = "model.fit(x, y, validation_split=0.2)"
    assert Path("compact.ipynb").read_text() == json.dumps(nb, ensure_ascii=False)


def test_magics_in_a_fixed_cell_are_kept(project):
    nb = notebook([
        new_code_cell("from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])"),
        new_code_cell("%env CUDA_VISIBLE_DEVICES=0\n!nvidia-smi\nfor lr in [0.1, 0.01]:\n"
                      "    %time model.compile(optimizer='adam', loss='mse')\n"
                      "    model.fit(x, y, epochs=5)\n    model.summary?"),
    ])
    path = save("magic.ipynb", nb)
    assert run("fix", "--apply", "--unsafe-fixes", "--select", "KT301", "magic.ipynb").exit_code == 0
    assert nbformat.read(str(path), 4).cells[1].source == (
        "%env CUDA_VISIBLE_DEVICES=0\n!nvidia-smi\nfor lr in [0.1, 0.01]:\n"
        "    %time model.compile(optimizer='adam', loss='mse')\n"
        "    model.fit(x, y, epochs=5, validation_split=0.2)\n    model.summary?"
    )


def test_an_import_a_fix_needs_goes_after_the_first_cell_magic(project):
    nb = notebook([
        new_code_cell("%%capture\nfrom keras.layers import Dense, BatchNormalization\nfrom keras import Sequential"),
        new_markdown_cell("The model"),
        new_code_cell("model = Sequential([Dense(8, activation='relu'), BatchNormalization()])"),
    ])
    path = save("imports.ipynb", nb)
    result = run("fix", "--apply", "--unsafe-fixes", "imports.ipynb")
    assert (result.exit_code, result.stderr) == (0, "Fixed 2 findings in 1 file.\n")
    assert path.read_text() == nbformat.writes(with_sources(nb, {
        1: "%%capture\nfrom keras.layers import Activation, Dense, BatchNormalization\nfrom keras import Sequential",
        3: "model = Sequential([Dense(8, use_bias=False), BatchNormalization(), Activation('relu')])",
    })) + "\n"


def test_a_fix_that_would_span_two_cells_is_not_made(project):
    """KT101 here edits the Dense in cell 2 and adds an Activation after the BatchNormalization in
    cell 3: no fix moves code between cells. In one cell, the same code is fixed."""
    split = notebook([
        new_code_cell("import keras\nfrom keras import layers\ninputs = keras.Input((8,))"),
        new_code_cell("x = layers.Dense(8, activation='relu')(inputs)"),
        new_code_cell("x = layers.BatchNormalization()(x)\nmodel = keras.Model(inputs, x)"),
    ])
    path = save("split.ipynb", split)
    before = path.read_bytes()
    result = run("fix", "--apply", "--unsafe-fixes", "split.ipynb")
    assert (result.exit_code, result.stderr) == (0, "No fixes available. 1 finding left.\n")
    assert path.read_bytes() == before
    result = run("fix", "split.ipynb")  # nor is it offered as an unsafe fix
    assert (result.exit_code, result.stderr) == (0, "No fixes available. 1 finding left.\n")
    assert fixes_offered("split.ipynb") == [("KT101", {"available": False, "applicability": None})]

    joined = notebook([split.cells[0], new_code_cell(split.cells[1].source + "\n" + split.cells[2].source)])
    path = save("joined.ipynb", joined)
    assert fixes_offered("joined.ipynb") == [("KT101", {"available": True, "applicability": "unsafe"})]
    result = run("fix", "--apply", "--unsafe-fixes", "joined.ipynb")
    assert (result.exit_code, result.stderr) == (0, "Fixed 2 findings in 1 file.\n")
    assert nbformat.read(str(path), 4).cells[1].source == (
        "x = layers.Dense(8, use_bias=False)(inputs)\nx = layers.BatchNormalization()(x)\n"
        "x = layers.Activation('relu')(x)\nmodel = keras.Model(inputs, x)"
    )


def test_swapping_add_calls_across_cells_is_not_made_but_within_one_cell_it_is(project):
    nb = notebook([
        new_code_cell("from tensorflow import keras\nmodel = keras.Sequential()\nmodel.add(keras.layers.Dense(8))\n"
                      "model.add(keras.layers.ReLU())"),
        new_code_cell("model.add(keras.layers.BatchNormalization())\nmodel.add(keras.layers.Dense(1))"),
        new_code_cell("head = keras.Sequential()\nhead.add(keras.layers.Dense(8))\nhead.add(keras.layers.ReLU())\n"
                      "head.add(keras.layers.BatchNormalization())"),
    ])
    path = save("adds.ipynb", nb)
    result = run("fix", "--apply", "--unsafe-fixes", "--select", "KT101", "adds.ipynb")
    assert (result.exit_code, result.stderr) == (0, "Fixed 1 finding in 1 file. 1 finding left.\n")
    assert path.read_text() == nbformat.writes(with_sources(nb, {
        3: "head = keras.Sequential()\nhead.add(keras.layers.Dense(8))\nhead.add(keras.layers.BatchNormalization())\n"
           "head.add(keras.layers.ReLU())",
    })) + "\n"


def test_a_fix_in_a_notebook_with_a_broken_cell_writes_nothing(project):
    path = save("broken.ipynb", notebook([*CELLS, new_code_cell("model.fit(x, y")]))
    before = path.read_bytes()
    result = run("fix", "--apply", "--unsafe-fixes", "broken.ipynb")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "broken.ipynb: error: cell 8: syntax error at line 1, column 10: '(' was never closed"
    )
    assert path.read_bytes() == before


def test_findings_after_fixes_that_add_lines_are_placed_in_the_cells_of_the_fixed_notebook(project):
    # KT101 adds a line to cell 1; the cells after it move down in the module that is fixed, and
    # the finding left in the last cell was placed with the cells as they were (past the end of
    # the last one: an internal error).
    path = save("train.ipynb", notebook([
        new_code_cell("from tensorflow import keras\nmodel = keras.Sequential()\n"
                      "model.add(keras.layers.Dense(8, activation='relu'))\n"
                      "model.add(keras.layers.BatchNormalization())"),
        new_markdown_cell("## Training"),
        new_code_cell("x = 1\nmodel.compile(optimizer=keras.optimizers.Adam(learning_rate=5.0), loss='mse')"),
    ]))
    result = fix_bytes(path.read_bytes(), "train.ipynb", [rule() for rule in ALL_RULES], unsafe=True)
    assert [(d.cell, d.line, d.code) for d in result.applied] == [(1, 4, "KT101"), (1, 3, "KT103")]
    assert [(d.cell, d.line, d.code) for d in result.remaining] == [(3, 2, "KT403")]
    result = run("fix", "--apply", "--unsafe-fixes", "train.ipynb")
    assert (result.exit_code, result.stderr) == (0, "Fixed 2 findings in 1 file. 1 finding left.\n")
    assert findings("train.ipynb") == [("train.ipynb", 3, 2, 25, "KT403")]


def test_cell_text_endings_are_kept(project):
    """Jupyter's cells have no line break after their last line; one that has keeps it."""
    nb = notebook([new_code_cell("from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n"
                                 "model.fit(x, y)\n\n"),
                   new_code_cell("model.fit(x, y)")])
    path = save("endings.ipynb", nb)
    assert run("fix", "--apply", "--unsafe-fixes", "endings.ipynb").exit_code == 0
    assert [cell.source for cell in nbformat.read(str(path), 4).cells] == [
        "from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n"
        "model.fit(x, y, validation_split=0.2)\n\n",
        "model.fit(x, y, validation_split=0.2)",
    ]


def test_a_byte_order_mark_is_kept(project):
    nb = notebook([new_code_cell("from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n"
                                 "model.fit(x, y)")])
    Path("bom.ipynb").write_bytes(b"\xef\xbb\xbf" + nbformat.writes(nb).encode())
    assert run("fix", "--apply", "--unsafe-fixes", "bom.ipynb").exit_code == 0
    fixed = with_sources(nb, {1: nb.cells[0].source.replace("(x, y)", "(x, y, validation_split=0.2)")})
    assert Path("bom.ipynb").read_bytes() == b"\xef\xbb\xbf" + nbformat.writes(fixed).encode()


def test_windows_line_endings_in_the_json_and_in_cells_are_kept(project):
    nb = {"cells": [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["from tensorflow import keras\r\n", "model = keras.Sequential([keras.layers.Dense(1)])\r\n",
                    "model.fit(x, y)\r\n", "model.evaluate(x, y)"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    Path("crlf.ipynb").write_bytes((json.dumps(nb, indent=1) + "\n").replace("\n", "\r\n").encode())
    assert run("fix", "--apply", "--unsafe-fixes", "crlf.ipynb").exit_code == 0
    nb["cells"][0]["source"][2] = "model.fit(x, y, validation_split=0.2)\r\n"
    assert Path("crlf.ipynb").read_bytes() == (json.dumps(nb, indent=1) + "\n").replace("\n", "\r\n").encode()


# ---- a notebook that cannot be linted, at its place in every format ----------------------------

BROKEN_CELLS = [
    new_markdown_cell("# Training"),
    new_code_cell("from tensorflow import keras\nmodel = keras.Sequential()"),
    new_code_cell("x = 1\n)"),  # cell 3, line 2, column 1
]
CELL_MESSAGE = "cell 3: syntax error at line 2, column 1: unmatched ')'"


def e902(path: str, message: str, row: int, column: int, cell: int | None) -> dict:
    return {
        "code": "E902", "name": "file-error", "message": message, "severity": "error", "path": path,
        "cell": cell, "location": {"row": row, "column": column}, "end_location": {"row": row, "column": column},
        "fix": {"available": False, "applicability": None},
    }


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["cached", "uncached"])
def test_a_syntax_error_in_a_cell_is_at_its_place_in_every_format(project, cache):
    save("broken.ipynb", notebook(BROKEN_CELLS))

    def lint(output_format: str) -> str:
        result = run("lint", *cache, "--output-format", output_format, "broken.ipynb")
        assert (result.exit_code, result.stderr) == (2, f"broken.ipynb: error: {CELL_MESSAGE}\n")
        return result.stdout

    for output_format in ("concise", "full"):
        assert lint(output_format) == "Found 0 errors; 1 file could not be linted.\n"
    assert json.loads(lint("json")) == [e902("broken.ipynb", CELL_MESSAGE, 2, 1, 3)]
    # the cell's lines are not the file's: the annotation is on the file, its message names the place
    assert lint("github") == f"::error title=kerastips (E902),file=broken.ipynb::broken.ipynb: error: {CELL_MESSAGE}\n"
    (result,) = json.loads(lint("sarif"))["runs"][0]["results"]
    assert (result["ruleId"], result["message"]["text"]) == ("E902", CELL_MESSAGE)
    assert result["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "broken.ipynb", "uriBaseId": "%SRCROOT%"}}}]


def test_a_syntax_error_in_an_indented_cell_is_at_its_column_as_written(project):
    save("near.ipynb", notebook([new_code_cell("from tensorflow import keras\nmodel = keras.Sequential()"),
                                 new_code_cell("  x = 1\n  def build(:\n      pass")]))
    result = run("lint", "--output-format", "json", "near.ipynb")
    message = "cell 2: syntax error at line 2, column 13: invalid syntax"
    assert result.stderr == f"near.ipynb: error: {message}\n"
    assert json.loads(result.stdout) == [e902("near.ipynb", message, 2, 13, 2)]


def test_a_cell_error_only_libcst_finds_is_at_its_place_in_the_cell(project, monkeypatch):
    # as if Python accepted what libcst refuses: the cell is found by parsing each on its own
    from kerastips import engine, notebook as notebook_module

    monkeypatch.setattr(engine, "syntax_error", lambda source, flags=0: None)
    monkeypatch.setattr(notebook_module, "syntax_error", lambda source, flags=0: None)
    save("late.ipynb", notebook([new_code_cell("from tensorflow import keras"), new_markdown_cell("m"),
                                 new_code_cell("  x = (\n      1 +* 2)")]))
    result = run("lint", "--no-cache", "--output-format", "json", "late.ipynb")
    (record,) = json.loads(result.stdout)
    assert record["message"].startswith("cell 3: syntax error at line 2, column 3: expected one of")
    assert (record["cell"], record["location"]) == (3, {"row": 2, "column": 3})


@pytest.mark.parametrize(("data", "message", "location"), [
    (b'{"cells": [\n  {"cell_type": }]}', "not a notebook: invalid JSON at line 2, column 17: Expecting value",
     {"row": 2, "column": 17}),  # in the file: its lines are the JSON's
    (b'{"cells": [],\n "nbformat": 4}\xff', "cannot decode as utf-8 at byte 29", {"row": 2, "column": 16}),
])
def test_a_notebook_that_is_not_json_is_located_in_the_file(project, data, message, location):
    Path("odd.ipynb").write_bytes(data)
    (record,) = json.loads(run("lint", "--output-format", "json", "odd.ipynb").stdout)
    assert (record["message"], record["cell"], record["location"]) == (message, None, location)
    assert run("lint", "--output-format", "github", "odd.ipynb").stdout == (
        f"::error title=kerastips (E902),file=odd.ipynb,line={location['row']},col={location['column']}::"
        f"odd.ipynb: error: {message}\n"
    )


def test_nul_bytes_in_a_cell_have_no_place(project):
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["import keras\n", "name = 'a\u0000b'\n"]}
    Path("nb.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (record,) = json.loads(run("lint", "--output-format", "json", "nb.ipynb").stdout)
    assert record == e902("nb.ipynb", "cell 1: syntax error: source code string cannot contain null bytes", 1, 1, None)
