"""Static shape propagation (kerastips.ir.shapes): exact shapes per layer kind, unknown stays
unknown, and mismatches only where the shapes are sure."""

from __future__ import annotations

import textwrap
import time

import libcst as cst
import pytest

from kerastips.ir.extract import extract
from kerastips.ir.shapes import Shapes, shapes_of

HEADER = "import keras\nimport tensorflow as tf\nfrom keras import layers\n"


def analyse(source: str) -> tuple[Shapes, dict]:
    source = HEADER + textwrap.dedent(source)
    kfile = extract(cst.parse_module(source), source)
    named = {}
    for node in kfile.nodes:
        name = node.args.value("name")
        if name is not None:
            named.setdefault(name.value, node)  # a loop's layer: its first instance
    return shapes_of(kfile), named


def outputs(source: str) -> dict:
    """name= of each named layer -> its output shape."""
    shapes, named = analyse(source)
    return {name: shapes.output(node) for name, node in named.items()}


def output(source: str, name: str = "out"):
    return outputs(source)[name]


# ---- where shapes come from ---------------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        ("x = keras.Input(shape=(28, 28, 1))\nout = layers.Flatten(name='out')(x)", (784,)),
        ("x = keras.Input((4,))\nout = layers.Dense(3, name='out')(x)", (3,)),
        ("x = keras.Input(batch_shape=(None, 5, 2))\nout = layers.Flatten(name='out')(x)", (10,)),
        ("x = tf.keras.layers.Input(shape=(None, 3))\nout = layers.Dense(8, name='out')(x)", (None, 8)),
        ("m = keras.Sequential([layers.InputLayer(input_shape=(6,)), layers.Dense(2, name='out')])", (2,)),
        ("m = keras.Sequential([layers.InputLayer(shape=(6, 2)), layers.Flatten(name='out')])", (12,)),
        ("m = keras.Sequential([keras.Input(shape=(7,)), layers.Dense(2, name='out')])", (2,)),
        ("m = keras.Sequential()\nm.add(keras.Input(shape=(7, 3)))\nm.add(layers.Flatten(name='out'))", (21,)),
        ("m = keras.Sequential([layers.Dense(5, input_shape=(3,), name='out')])", (5,)),
        ("m = keras.Sequential([layers.Flatten(batch_input_shape=(32, 4, 4), name='out')])", (16,)),
        ("m = keras.Sequential([layers.Dense(5, input_dim=3, name='first'), layers.Dense(1, name='out')])", (1,)),
        ("m = keras.Sequential([layers.Embedding(100, 8, input_length=12, name='out')])", (12, 8)),
    ],
)
def test_literal_input_shapes(source, expected):
    assert output(source) == expected


def test_input_shape_on_a_layer_that_has_inputs_is_ignored():
    assert output("""
        x = keras.Input((10,))
        out = layers.Dense(4, input_shape=(99,), name="out")(x)
    """) == (4,)


# ---- each layer kind ----------------------------------------------------------------------


def test_dense_replaces_the_last_axis():
    assert output("out = layers.Dense(16, name='out')(keras.Input((5, 7)))") == (5, 16)


@pytest.mark.parametrize(
    "layer, expected",
    [
        ("layers.Conv2D(32, 3)", (26, 26, 32)),
        ("layers.Conv2D(32, (3, 5), padding='same')", (28, 28, 32)),
        ("layers.Conv2D(8, 3, strides=2)", (13, 13, 8)),
        ("layers.Conv2D(8, 3, strides=2, padding='same')", (14, 14, 8)),
        ("layers.Conv2D(8, 3, dilation_rate=2)", (24, 24, 8)),
        ("layers.Conv2D(filters=8, kernel_size=[5, 5], strides=(1, 2))", (24, 12, 8)),
        ("layers.SeparableConv2D(16, 3)", (26, 26, 16)),
        ("layers.DepthwiseConv2D(3, depth_multiplier=4)", (26, 26, 4)),
        ("layers.Conv2DTranspose(4, 3, strides=2)", (57, 57, 4)),
        ("layers.Conv2DTranspose(4, 3, strides=2, padding='same')", (56, 56, 4)),
        ("layers.MaxPooling2D()", (14, 14, 1)),
        ("layers.MaxPool2D(3)", (9, 9, 1)),
        ("layers.MaxPooling2D(pool_size=(2, 2), strides=1)", (27, 27, 1)),
        ("layers.AveragePooling2D(3, padding='same')", (10, 10, 1)),
        ("layers.GlobalAveragePooling2D()", (1,)),
        ("layers.GlobalMaxPooling2D(keepdims=True)", (1, 1, 1)),
        ("layers.UpSampling2D((2, 3))", (56, 84, 1)),
        ("layers.ZeroPadding2D(((1, 2), (3, 4)))", (31, 35, 1)),
        ("layers.ZeroPadding2D()", (30, 30, 1)),
        ("layers.Cropping2D(((2, 2), (4, 4)))", (24, 20, 1)),
        ("layers.Flatten()", (784,)),
        ("layers.Reshape((-1, 4))", (196, 4)),
        ("layers.Reshape((49, 16))", (49, 16)),
        ("layers.Permute((3, 1, 2))", (1, 28, 28)),
        ("layers.Dropout(0.5)", (28, 28, 1)),
        ("layers.SpatialDropout2D(0.1)", (28, 28, 1)),
        ("layers.BatchNormalization()", (28, 28, 1)),
        ("layers.Activation('relu')", (28, 28, 1)),
        ("layers.LeakyReLU(0.1)", (28, 28, 1)),
        ("layers.GaussianNoise(0.1)", (28, 28, 1)),
        ("layers.Rescaling(1 / 255)", (28, 28, 1)),
    ],
)
def test_image_layers(layer, expected):
    out = layer[:-1] + (", " if not layer.endswith("()") else "") + "name='out')"
    assert output(f"x = keras.Input((28, 28, 1))\nout = {out}(x)") == expected


@pytest.mark.parametrize(
    "layer, expected",
    [
        ("layers.Conv1D(16, 5)", (96, 16)),
        ("layers.Conv1D(16, 5, padding='causal', strides=2)", (50, 16)),
        ("layers.MaxPooling1D(4)", (25, 8)),
        ("layers.AveragePooling1D(pool_size=3, strides=2)", (49, 8)),
        ("layers.GlobalMaxPooling1D()", (8,)),
        ("layers.UpSampling1D(3)", (300, 8)),
        ("layers.Cropping1D((1, 2))", (97, 8)),
        ("layers.LSTM(32)", (32,)),
        ("layers.GRU(32, return_sequences=True)", (100, 32)),
        ("layers.Bidirectional(layers.LSTM(16))", (32,)),
        ("layers.Bidirectional(layers.LSTM(16, return_sequences=True), merge_mode='sum')", (100, 16)),
    ],
)
def test_sequence_layers(layer, expected):
    out = layer[:-1] + (", " if not layer.endswith("()") else "") + "name='out')"
    assert output(f"x = keras.Input((100, 8))\nout = {out}(x)") == expected


def test_three_dimensional_layers():
    found = outputs("""
        x = keras.Input((16, 32, 32, 3))
        a = layers.Conv3D(8, 3, name="conv")(x)
        b = layers.MaxPooling3D(name="pool")(a)
        c = layers.GlobalAveragePooling3D(name="global")(b)
    """)
    assert found == {"conv": (14, 30, 30, 8), "pool": (7, 15, 15, 8), "global": (8,)}


def test_embedding_repeat_vector_and_activation_ops():
    found = outputs("""
        x = keras.Input((20,))
        e = layers.Embedding(1000, 64, name="embedding")(x)
        r = layers.RepeatVector(3, name="repeat")(layers.Dense(4, name="dense")(x))
        a = tf.nn.relu(e)
        f = layers.Flatten(name="flat")(a)
    """)
    assert found == {"embedding": (20, 64), "dense": (4,), "repeat": (3, 4), "flat": (1280,)}


def test_merges():
    found = outputs("""
        x = keras.Input((8, 8, 3))
        a = layers.Conv2D(4, 3, padding="same", name="a")(x)
        b = layers.Conv2D(6, 1, name="b")(x)
        c = layers.Concatenate(name="concat")([a, b])
        d = layers.Add(name="add")([a, a])
        e = layers.Concatenate(axis=1, name="rows")([a, layers.Conv2D(4, 1)(x)])
        f = layers.Add(name="mismatched")([a, b])
    """)
    assert found["concat"] == (8, 8, 10)
    assert found["add"] == (8, 8, 4)
    assert found["rows"] == (16, 8, 4)
    assert found["mismatched"] is None


def test_channels_first_given_on_the_layers():
    found = outputs("""
        x = keras.Input((3, 32, 32))
        a = layers.Conv2D(16, 3, data_format="channels_first", name="conv")(x)
        b = layers.MaxPooling2D(2, data_format="channels_first", name="pool")(a)
        c = layers.GlobalAveragePooling2D(data_format="channels_first", name="global")(b)
    """)
    assert found == {"conv": (16, 30, 30), "pool": (16, 15, 15), "global": (16,)}


def test_a_long_chain_is_linear_and_needs_no_recursion():
    body = "x = keras.Input((8,))\n" + "x = layers.Dense(8)(x)\n" * 3000 + "out = layers.Dense(2, name='out')(x)\n"
    started = time.perf_counter()
    assert output(body) == (2,)
    assert time.perf_counter() - started < 10


# ---- unknown stays unknown ----------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        # not literal
        "x = keras.Input(shape=x_train.shape[1:])\nout = layers.Dense(3, name='out')(x)",
        "x = keras.Input((8,))\nout = layers.Dense(units, name='out')(x)",
        # a layer the analysis does not model, and what follows it
        "x = keras.Input((8,))\ny = layers.Lambda(lambda t: t * 2)(x)\nout = layers.Dense(3, name='out')(y)",
        "x = keras.Input((8,))\nout = layers.Dense(3, name='out')(tf.reshape(x, (-1, 4, 2)))",
        # no declared input at all (built on first call)
        "m = keras.Sequential([layers.Dense(4), layers.Dense(3, name='out')])",
        # if/else alternatives that disagree
        """
x = keras.Input((16, 16, 3))
if deep:
    x = layers.MaxPooling2D()(x)
out = layers.Flatten(name='out')(x)
""",
        # a loop: only some iterations are analysed, so what follows is not known
        """
x = keras.Input((64, 64, 3))
for filters in (16, 32, 64):
    x = layers.Conv2D(filters, 3, padding='same')(x)
    x = layers.MaxPooling2D()(x)
out = layers.Flatten(name='out')(x)
""",
        # a helper called in a loop
        """
def block(x, f):
    return layers.MaxPooling2D()(layers.Conv2D(f, 3, padding='same')(x))
x = keras.Input((64, 64, 3))
for f in [16, 32, 64]:
    x = block(x, f)
out = layers.Flatten(name='out')(x)
""",
        # layers made by a comprehension
        "m = keras.Sequential([layers.Dense(8, input_shape=(4,)) for _ in range(3)])\n"
        "m.add(layers.Reshape((2, 4), name='out'))",
        """
def hidden(units):
    return layers.Dense(units)
m = keras.Sequential([keras.Input((4,)), *[hidden(u) for u in (16, 8, 4)]])
m.add(layers.Reshape((2, 2), name='out'))
""",
        # the file may set channels_first globally
        "keras.backend.set_image_data_format('channels_first')\n"
        "out = layers.Conv2D(8, 3, name='out')(keras.Input((3, 32, 32)))",
        # Keras 1 arguments, and Keras 1's Conv2D(filters, rows, cols)
        "out = layers.Conv2D(8, 3, 3, name='out')(keras.Input((28, 28, 1)))",
        "out = layers.MaxPooling2D((2, 2), border_mode='same', name='out')(keras.Input((28, 28, 1)))",
        # a subclassed model's input arrives at call time
        """
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(4, name='out')
    def call(self, x):
        return self.dense(x)
""",
        # Conv2D on a rank-2 input is not a shape this analysis guesses
        "out = layers.Conv2D(8, 3, name='out')(keras.Input((28, 28)))",
    ],
)
def test_unknown_stays_unknown(source):
    assert output(source) is None


def test_loop_layers_have_known_inputs_on_their_first_iteration_only():
    shapes, named = analyse("""
        x = keras.Input((8, 8, 3))
        for f in (4, 8):
            x = layers.Conv2D(f, 3, name="conv")(x)
    """)
    conv = named["conv"]
    assert shapes.input(conv) == (8, 8, 3)
    assert shapes.output(conv) is None


# ---- mismatches ---------------------------------------------------------------------------


def mismatches(source: str) -> list:
    shapes, _ = analyse(source)
    return [(m.node.short, m.kind) for m in shapes.mismatches]


def test_window_larger_than_the_feature_map():
    found = mismatches("""
        x = keras.Input((6, 6, 1))
        x = layers.MaxPooling2D(4)(x)
        x = layers.Conv2D(8, 2)(x)
        x = layers.Dense(3)(x)
    """)
    assert found == [("Conv2D", "window")]


def test_a_window_as_large_as_the_map_or_padded_same_fits():
    assert mismatches("""
        x = keras.Input((5, 5, 1))
        a = layers.Conv2D(8, 5)(x)
        b = layers.MaxPooling2D(9, padding="same")(x)
        c = layers.Conv1D(4, 3, dilation_rate=2)(keras.Input((5, 2)))
    """) == []


def test_reshape_that_changes_the_number_of_elements():
    assert mismatches("""
        x = keras.Input((28, 28))
        a = layers.Reshape((28, 27))(x)
        b = layers.Reshape((-1, 5))(x)
        c = layers.Reshape((-1, 7))(x)
    """) == [("Reshape", "reshape"), ("Reshape", "reshape")]


def test_only_the_first_mismatch_of_a_chain_is_reported():
    found = mismatches("""
        x = keras.Input((4,))
        x = layers.Reshape((3, 3))(x)
        x = layers.Reshape((5, 5))(x)
    """)
    assert found == [("Reshape", "reshape")]


def test_no_mismatch_after_a_loop_or_with_an_unsure_data_format():
    assert mismatches("""
        x = keras.Input((32, 32, 3))
        for _ in range(4):
            x = layers.MaxPooling2D()(x)
        y = layers.Reshape((3, 3, 3))(x)
    """) == []
    assert mismatches("""
        if keras.backend.image_data_format() == "channels_first":
            pass
        x = layers.Conv2D(8, 3)(keras.Input((1, 28, 28)))
    """) == []


def test_mismatch_message_has_the_shapes():
    shapes, _ = analyse("x = layers.MaxPooling2D(3)(keras.Input((2, 5, 4)))")
    (mismatch,) = shapes.mismatches
    assert "pool_size 3x3 is larger than the 2x5 feature map" in mismatch.message
    assert "(2, 5, 4)" in mismatch.message


def test_a_channels_first_looking_input_gets_a_hint_and_an_inner_map_does_not():
    shapes, _ = analyse("""
        x = layers.Conv2D(8, 3)(keras.Input((1, 28, 28)))
        y = layers.MaxPooling2D()(layers.Conv2D(64, 8)(keras.Input((8, 8, 3))))
    """)
    first, second = (m.message for m in shapes.mismatches)
    assert "looks channels-first: reorder it to (28, 28, 1)" in first
    assert "channels-first" not in second
