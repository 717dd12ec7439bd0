"""The Keras IR on its own: name folding, data origins, layer graphs, and saying unknown."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from kerastips.ir.extract import extract, name_origin
from kerastips.ir.model import UNKNOWN, data_origin
from kerastips.ir.names import canonical


def ir(source: str):
    source = textwrap.dedent(source)
    return extract(cst.parse_module(source), source)


@pytest.mark.parametrize(
    "dotted, expected",
    [
        ("tensorflow.keras.layers.Dense", "keras.layers.Dense"),
        ("keras.layers.core.Dense", "keras.layers.Dense"),
        ("keras.src.layers.core.dense.Dense", "keras.layers.Dense"),
        ("tensorflow.compat.v1.keras.layers.BatchNormalization", "keras.layers.BatchNormalization"),
        ("keras.layers.normalization.batch_normalization.BatchNormalization", "keras.layers.BatchNormalization"),
        ("tensorflow.python.keras.layers.Conv2D", "keras.layers.Conv2D"),
        ("tf_keras.layers.Dense", "keras.layers.Dense"),
        ("keras.models.Sequential", "keras.Sequential"),
        ("keras.engine.sequential.Sequential", "keras.Sequential"),
        ("tensorflow.keras.models.Model", "keras.Model"),
        ("keras.layers.Input", "keras.Input"),
        ("tensorflow.optimizers.Adam", "keras.optimizers.Adam"),
        ("keras.optimizers.legacy.Adam", "keras.optimizers.Adam"),
        ("keras.optimizers.schedules.learning_rate_schedule.CosineDecay", "keras.optimizers.schedules.CosineDecay"),
        ("keras.utils.np_utils.to_categorical", "keras.utils.to_categorical"),
        ("tensorflow.nn.relu", "tensorflow.nn.relu"),
        ("torch.nn.BatchNorm1d", "torch.nn.BatchNorm1d"),
    ],
)
def test_every_spelling_folds_to_one_canonical_name(dotted, expected):
    assert canonical(dotted) == expected


@pytest.mark.parametrize(
    "imports, expression",
    [
        ("import tensorflow as tf", "tf.keras.layers.Dense"),
        ("from tensorflow import keras", "keras.layers.Dense"),
        ("from tensorflow.keras import layers", "layers.Dense"),
        ("from keras import layers as L", "L.Dense"),
        ("from tensorflow.keras.layers import Dense as D", "D"),
        ("from keras.layers import *", "Dense"),
        ("", "Dense"),  # an import-less snippet
    ],
)
def test_layers_are_recognized_through_every_import_style(imports, expression):
    kfile = ir(f"{imports}\nlayer = {expression}(4)\n")
    assert [node.kind for node in kfile.nodes] == ["keras.layers.Dense"]


def test_a_bare_name_defined_in_the_file_is_not_keras():
    kfile = ir("def Dense(n):\n    return n\nlayer = Dense(4)\n")
    assert kfile.nodes == []


@pytest.mark.parametrize(
    "name, origin",
    [("x_test", "test"), ("X_test", "test"), ("test_images", "test"), ("testX", "test"),
     ("test_ds", "test"), ("test_generator", "test"), ("xtest", "test"), ("x_val", "validation"),
     ("val_ds", "validation"), ("X_valid", "validation"), ("x_train", "train"),
     ("train_images", "train"), ("latest", None), ("contest_data", None), ("x", None),
     ("train_test_data", None)],
)
def test_variable_names_mark_their_split(name, origin):
    assert name_origin(name) == origin


def _origin_of(source: str, variable: str) -> str:
    kfile = ir(source + f"\nmodel = keras.Sequential()\nmodel.evaluate({variable})\n")
    return data_origin(kfile.evaluates[-1].x[0])


@pytest.mark.parametrize(
    "source, variable, origin",
    [
        ("(a, b), (c, d) = keras.datasets.mnist.load_data()", "c", "test"),
        ("(a, b), (c, d) = keras.datasets.mnist.load_data()", "a", "train"),
        ("(a, b), (c, d) = keras.datasets.mnist.load_data()\ne = c.reshape(-1, 784).astype('float32') / 255", "e", "test"),
        ("(a, b), (c, d) = keras.datasets.mnist.load_data()\ne = keras.utils.to_categorical(d, 10)", "e", "test"),
        ("(a, b), (c, d) = keras.datasets.mnist.load_data()\nds = tf.data.Dataset.from_tensor_slices((c, d)).batch(32)", "ds", "test"),
        ("(a, b), (c, d) = keras.datasets.mnist.load_data()\ne = c[:1000]", "e", "test"),
        ("(a, b), (c, d) = keras.datasets.mnist.load_data()\nx_val = a[:1000]", "x_val", "validation"),
        ("p, q, r, s = train_test_split(X, y)", "q", "test"),
        ("p, q, r, s = train_test_split(x_train, y_train)", "q", "validation"),
        ("ds = tfds.load('mnist', split='test')", "ds", "test"),
        ("a, b = tfds.load('mnist', split=['train[:80%]', 'train[80%:]'])", "b", "validation"),
        ("ds = keras.utils.image_dataset_from_directory('d', validation_split=0.2, subset='validation')", "ds", "validation"),
        ("gen = ImageDataGenerator(rescale=1/255).flow_from_directory('data/test')", "gen", "test"),
        ("d = load_my_data()", "d", "unknown"),
    ],
)
def test_data_origin_follows_the_code(source, variable, origin):
    prelude = ("import keras\nimport tensorflow as tf\nimport tensorflow_datasets as tfds\n"
               "from sklearn.model_selection import train_test_split\n"
               "from keras.preprocessing.image import ImageDataGenerator\n")
    assert _origin_of(prelude + source, variable) == origin


def test_kfold_indices_select_the_validation_fold():
    kfile = ir("""
        import keras
        from sklearn.model_selection import KFold
        for fold, (tr, te) in enumerate(KFold(5).split(X)):
            model = keras.Sequential()
            model.evaluate(X[te], y[te])
            model.evaluate(X[tr], y[tr])
    """)
    assert [data_origin(e.x[0]) for e in kfile.evaluates] == ["validation", "train"]


def _chain(kfile, model_index=0):
    model = kfile.models[model_index]
    return [node.short for node in model.nodes]


def test_add_in_a_loop_of_known_length_runs_each_iteration_edge():
    kfile = ir("""
        from tensorflow import keras
        model = keras.Sequential()
        for units in [64, 32, 16]:
            model.add(keras.layers.Dense(units, activation="relu"))
            model.add(keras.layers.BatchNormalization())
    """)
    dense1, bn1, dense2, bn2 = kfile.nodes  # two iterations analysed: enough for every edge
    assert dense2.call is dense1.call and bn2.call is bn1.call
    assert kfile.inputs_of(bn1) == {dense1}
    assert kfile.inputs_of(dense2) == {bn1}  # the second iteration follows the first's BN


def test_branches_join_instead_of_chaining():
    kfile = ir("""
        import keras
        model = keras.Sequential()
        if wide:
            model.add(keras.layers.Dense(256))
        else:
            model.add(keras.layers.Dense(32))
        model.add(keras.layers.BatchNormalization())
    """)
    wide, narrow, bn = kfile.nodes
    assert kfile.inputs_of(narrow) == set()
    assert kfile.inputs_of(bn) == {wide, narrow}


def test_a_known_condition_takes_one_branch_only():
    kfile = ir("""
        import keras
        def build(preact):
            x = keras.Input((4,))
            if preact:
                x = keras.layers.BatchNormalization()(x)
            return x
        build(False)
    """)
    assert [n.short for n in kfile.nodes] == ["input"]


def test_subclassed_model_layers_chain_through_call():
    kfile = ir("""
        import tensorflow as tf
        class Net(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.a = tf.keras.layers.Dense(8)
                self.b = tf.keras.layers.Dense(2)
            def call(self, x):
                return self.b(tf.nn.relu(self.a(x)))
        net = Net()
    """)
    a, b = [n for n in kfile.nodes if n.short == "Dense"]
    (relu,) = kfile.inputs_of(b)
    assert relu.kind == "op:relu" and kfile.inputs_of(relu) == {a}
    assert kfile.models[0].kind == "subclass" and {n.short for n in kfile.models[0].nodes} >= {"Dense"}


def test_constants_propagate_into_layer_arguments():
    kfile = ir("""
        from keras import layers
        ACT = "gelu"
        UNITS = 32 * 2
        layer = layers.Dense(UNITS, activation=ACT)
    """)
    (dense,) = kfile.nodes
    assert dense.activation() == "gelu"
    assert dense.args.value("units", 0).value == 64


def test_an_unresolvable_activation_is_unknown_not_linear():
    kfile = ir("""
        from keras import layers
        def block(act):
            return layers.Dense(4, activation=act)
    """)
    assert kfile.nodes[0].activation() is UNKNOWN


def test_fit_of_a_non_keras_object_is_not_recorded():
    kfile = ir("""
        import keras
        from sklearn.linear_model import LogisticRegression
        clf = LogisticRegression()
        clf.fit(X, y)
    """)
    assert kfile.fits == []


def _fit_x(source: str):
    kfile = ir(source)
    return kfile.fits[-1].x[0]


def test_load_data_images_are_raw_until_scaled():
    prelude = "from tensorflow import keras\n(x, y), (xt, yt) = keras.datasets.mnist.load_data()\nm = keras.Sequential()\n"
    raw = _fit_x(prelude + "x = x.reshape(-1, 784).astype('float32')\nm.fit(x, y)\n")
    assert (raw.image, raw.scaled) == (True, False)
    assert _fit_x(prelude + "x = x.astype('float32') / 255.0\nm.fit(x, y)\n").scaled is True
    assert _fit_x(prelude + "x = my_preprocessing(x)\nm.fit(x, y)\n").scaled is None


def test_one_hot_labels_are_marked():
    kfile = ir("import keras\ny = keras.utils.to_categorical(labels, 10)\nm = keras.Sequential()\nm.fit(x, y)\n")
    assert kfile.fits[0].args.value("y", 1).onehot is True


def test_preprocessing_and_splits_are_recorded_with_their_lineage():
    kfile = ir("""
        import pandas as pd
        from sklearn.preprocessing import StandardScaler
        from sklearn.model_selection import train_test_split
        X = pd.read_csv("data.csv").drop("label", axis=1).values
        X = StandardScaler().fit_transform(X)
        X_train, X_test = train_test_split(X, test_size=0.2)
    """)
    (fitted,), (split,) = kfile.preprocessings, kfile.splits
    assert fitted.method == "fit_transform" and fitted.data.roots & split.data[0].roots
    assert fitted.context.order < split.context.order


def test_tf1_layers_join_the_layer_graph_and_losses_are_recorded():
    kfile = ir("""
        import tensorflow as tf
        x = tf.placeholder(tf.float32, [None, 784])
        h = tf.layers.dense(x, 256, activation=tf.nn.relu)
        h = tf.layers.batch_normalization(h, training=True)
        logits = tf.compat.v1.layers.dense(h, 10)
        loss = tf.losses.softmax_cross_entropy(onehot_labels=y, logits=logits)
    """)
    dense, bn, out = kfile.nodes[0], kfile.nodes[1], kfile.nodes[2]
    assert (dense.short, dense.activation(), bn.short) == ("Dense", "relu", "BatchNormalization")
    assert kfile.inputs_of(bn) == {dense} and kfile.inputs_of(out) == {bn}
    (loss,) = kfile.losses
    assert loss.kind == "tensorflow.losses.softmax_cross_entropy"
    assert loss.args.value("logits").producers == frozenset({out})


def test_a_subclassed_model_knows_its_output_layer():
    kfile = ir("""
        import keras
        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.hidden = keras.layers.Dense(32, activation="relu")
                self.out = keras.layers.Dense(1, activation="sigmoid")
            def call(self, x):
                return self.out(self.hidden(x))
        model = Net()
    """)
    (output,) = kfile.models[0].tail
    assert (output.short, output.activation()) == ("Dense", "sigmoid")


def test_string_literals_read_without_compiling_are_what_python_reads():
    import ast
    import io
    import tokenize
    from pathlib import Path

    from kerastips.ir.extract import _plain_string

    root = Path(__file__).resolve().parent.parent
    literals = ["'a'", '""', "'''a\nb'''", "r'\\d+'", "R'\\''", "u'é'", "b'x'", "rb'x'", "'a\\nb'",
                "'''a\r\nb'''", "\"it's\""]
    for path in sorted(root.glob("samples/*.py")) + sorted(root.glob("kerastips/**/*.py")):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        literals += [token.string for token in tokens if token.type == tokenize.STRING]
    read = 0
    for literal in literals:
        value = _plain_string(literal)
        if value is not None:
            assert value == ast.literal_eval(literal), literal
            read += 1
    assert read > len(literals) / 2  # most are
    assert _plain_string("b'x'") is None and _plain_string("'a\\nb'") is None
