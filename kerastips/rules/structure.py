"""Model structure rules (KT1xx): the order and configuration of layers in the layer chain."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from kerastips.edits import Applicability, Edit, Fix, replace_keyword, with_argument, without_argument
from kerastips.ir.model import UNKNOWN, Const, KerasFile, LayerNode, is_layer_kind
from kerastips.ir.names import (
    ACTIVATION_LAYERS,
    BATCHNORM_LAYERS,
    DROPOUT_LAYERS,
    LINEAR_WITH_ACTIVATION,
    NOISE_LAYERS,
)
from kerastips.rules.base import Finding, Invalid, Rule
from kerastips.rules.chain_edits import append_after, direct_pair, layer_call, move_after, swap


def feeding_activations(kfile: KerasFile, node: LayerNode) -> list[tuple[LayerNode, str]] | None:
    """The non-linear activations whose output reaches `node`, directly or through noise layers
    (Dropout, GaussianNoise...). None unless every input provably is one."""
    found: list[tuple[LayerNode, str]] = []
    frontier, seen = list(kfile.inputs_of(node)), set()
    if not frontier:
        return None
    while frontier:
        source = frontier.pop()
        if id(source) in seen:
            continue
        seen.add(id(source))
        if is_layer_kind(source, NOISE_LAYERS):
            inputs = kfile.inputs_of(source)
            if not inputs:
                return None
            frontier.extend(inputs)
            continue
        activation = source.activation()
        if activation is None or activation is UNKNOWN:
            return None
        found.append((source, activation))
    return found


def activation_argument(layer: LayerNode) -> cst.Arg | None:
    """The `activation=` argument of a layer call (Dense's may be positional)."""
    for index, arg in enumerate(layer.call.args):
        if (arg.keyword is not None and arg.keyword.value == "activation") or (
            arg.keyword is None and index == 1 and layer.short == "Dense"
        ):
            return arg
    return None


def move_activation_after(kfile: KerasFile, layer: LayerNode, successor: LayerNode) -> Fix | None:
    """`Dense(64, activation="relu"), BN()` -> `Dense(64), BN(), Activation("relu")`, keeping the
    activation as written (a string, a function, a layer object)."""
    pair = direct_pair(kfile, layer, successor)
    argument = activation_argument(layer)
    if pair is None or argument is None:
        return None
    value = layer.args.value("activation", 1 if layer.short == "Dense" else None)
    if isinstance(value, LayerNode):  # activation=LeakyReLU(0.1): the layer object itself
        activation, imports = argument.value, ()
    else:
        activation, imports = layer_call(kfile, successor, "Activation", argument.value)
    edits = (Edit(layer.call, lambda u: without_argument(u, argument), layer.statement),
             *append_after(successor, pair[1], activation, "activation"))
    return Fix(Applicability.UNSAFE, edits, imports)


class BatchNormAfterActivation(Rule):
    """## What it does
    Checks for `BatchNormalization` applied to the output of a non-linear activation, directly or
    through Dropout/GaussianNoise layers only, in every code style: `Sequential([...])` lists,
    `.add()` sequences (also in loops and helper functions), functional chains, nested calls and
    subclassed models.

    ## Why is this bad?
    Batch normalization was designed to normalize the pre-activation output of a linear layer so
    that the activation sees a well-scaled input (Ioffe & Szegedy, 2015). Normalizing after the
    activation re-centres a distribution the non-linearity has already clipped or squashed, and the
    layer's bias is wasted. The conventional block is CONV/FC -> BatchNorm -> activation -> Dropout.

    Batch normalization on the model inputs, after a linear layer, or after `Add`/`Concatenate`
    of linear branches is not flagged. Recurrent layers are not flagged: their activation is
    internal and cannot be moved.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Dense(64, activation="relu"),
        layers.BatchNormalization(),
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        layers.Dense(64, use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
    ])
    ```

    ## References
    - Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
      Internal Covariate Shift" (2015)
    - [Keras: BatchNormalization](https://keras.io/api/layers/normalization_layers/batch_normalization/)
    """

    code = "KT101"
    name = "batchnorm-after-activation"
    summary = "BatchNormalization applied to the output of a non-linear activation"
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for node in kfile.nodes:
            if not is_layer_kind(node, BATCHNORM_LAYERS):
                continue
            sources = feeding_activations(kfile, node)
            if not sources:
                continue
            source, activation = sources[0]
            if source.short in LINEAR_WITH_ACTIVATION:
                advice = (f"normalize the linear output instead: {source.short} -> "
                          f"{node.short} -> Activation('{activation}')")
                where = f"the '{activation}' activation of {source.short}"
                fix = move_activation_after(kfile, source, node)
            else:
                where, advice = f"a '{activation}' activation", "move it before the activation"
                edits = swap(kfile, source, node)
                fix = Fix(Applicability.UNSAFE, edits) if edits else None
            yield Finding(node.call, f"{node.short} applied after {where}; {advice}", node.statement,
                          fix if len(sources) == 1 else None)

    VALID = (
        # The conventional order: linear layer, BN, then the activation.
        """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, use_bias=False),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dense(10, activation="softmax"),
])
""",
        # BN on the model input.
        """
import keras
inputs = keras.Input(shape=(32,))
x = keras.layers.BatchNormalization()(inputs)
x = keras.layers.Dense(10, activation="relu")(x)
""",
        # BN after the Add of two linear branches.
        """
from keras import layers
import keras
inputs = keras.Input(shape=(16, 16, 8))
a = layers.Conv2D(8, 3, padding="same")(inputs)
b = layers.Conv2D(8, 1, padding="same")(inputs)
x = layers.Add()([a, b])
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
""",
        # Explicitly linear activation.
        """
import tensorflow as tf
model = tf.keras.Sequential()
model.add(tf.keras.layers.Conv2D(32, 3, activation=None))
model.add(tf.keras.layers.BatchNormalization())
model.add(tf.keras.layers.Dense(16, activation="linear"))
model.add(tf.keras.layers.BatchNormalization())
""",
        # The activation comes from a variable the linter cannot resolve: stay silent.
        """
from tensorflow.keras import layers, Sequential
def build(act):
    return Sequential([layers.Dense(64, activation=act), layers.BatchNormalization()])
""",
        # Recurrent layers keep their activation internal.
        """
from tensorflow.keras import layers, Sequential
model = Sequential([layers.LSTM(32, return_sequences=True), layers.BatchNormalization()])
""",
        # A BatchNormalization defined in the file is not Keras'.
        """
class BatchNormalization:
    def __call__(self, x):
        return x
def Dense(units, activation=None):
    return lambda x: x
x = BatchNormalization()(Dense(10, activation="relu")(1.0))
""",
        # PyTorch is not Keras.
        """
import torch.nn as nn
model = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.BatchNorm1d(10))
""",
        # The activation is applied after BN in a helper block.
        """
from tensorflow.keras import layers
def conv_bn_relu(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)
""",
        # Dropout between a linear layer and BN does not make it an activation.
        """
from tensorflow.keras import layers, Sequential
model = Sequential([layers.Dense(64), layers.Dropout(0.2), layers.BatchNormalization(), layers.ReLU()])
""",
    )
    INVALID = (
        Invalid(  # Sequential list
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.BatchNormalization(),
    layers.Dense(10, activation="softmax"),
])
""",
            (7,),
            fixed="""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dense(10, activation="softmax"),
])
""",
        ),
        Invalid(  # .add sequence, tf.keras spelling, an activation layer
            """
import tensorflow as tf

model = tf.keras.models.Sequential()
model.add(tf.keras.layers.Conv2D(32, (3, 3), input_shape=(28, 28, 1)))
model.add(tf.keras.layers.Activation("relu"))
model.add(tf.keras.layers.BatchNormalization())
""",
            (7,),
            fixed="""
import tensorflow as tf

model = tf.keras.models.Sequential()
model.add(tf.keras.layers.Conv2D(32, (3, 3), input_shape=(28, 28, 1)))
model.add(tf.keras.layers.BatchNormalization())
model.add(tf.keras.layers.Activation("relu"))
""",
        ),
        Invalid(  # .add inside a loop, aliases and constant propagation
            """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, BatchNormalization as BN

ACT = "elu"
model = Sequential()
for units in [128, 64]:
    model.add(Dense(units, activation=ACT))
    model.add(BN())
""",
            (9,),
            fixed="""
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Activation, Dense, BatchNormalization as BN

ACT = "elu"
model = Sequential()
for units in [128, 64]:
    model.add(Dense(units))
    model.add(BN())
    model.add(Activation(ACT))
""",
        ),
        Invalid(  # .add in a helper function
            """
from keras.models import Sequential
from keras.layers import Dense, BatchNormalization, Dropout

def add_block(model, units):
    model.add(Dense(units, activation="relu"))
    model.add(Dropout(0.3))
    model.add(BatchNormalization())

model = Sequential()
add_block(model, 256)
add_block(model, 128)
""",
            (8,),
        ),
        Invalid(  # functional chain with tf.nn.relu applied on the tensor
            """
import tensorflow as tf
from tensorflow import keras

inputs = keras.Input(shape=(784,))
x = keras.layers.Dense(256)(inputs)
x = tf.nn.relu(x)
x = keras.layers.BatchNormalization()(x)
outputs = keras.layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
""",
            (8,),
            fixed="""
import tensorflow as tf
from tensorflow import keras

inputs = keras.Input(shape=(784,))
x = keras.layers.Dense(256)(inputs)
x = keras.layers.BatchNormalization()(x)
x = tf.nn.relu(x)
outputs = keras.layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
""",
        ),
        Invalid(  # nested calls, old module path
            """
from keras.layers.core import Dense
from keras.layers.normalization import BatchNormalization
from keras.layers import Input

inp = Input(shape=(20,))
out = BatchNormalization()(Dense(32, activation="tanh")(inp))
""",
            (7,),
            fixed="""
from keras.layers.core import Dense
from keras.layers.normalization import BatchNormalization
from keras.layers import Activation, Input

inp = Input(shape=(20,))
out = BatchNormalization()(Dense(32)(inp))
out = Activation("tanh")(out)
""",
        ),
        Invalid(  # helper block function in the functional API
            """
import keras
from keras import layers

def block(x, units):
    x = layers.Dense(units, activation="relu")(x)
    return x

def norm(x):
    return layers.BatchNormalization()(x)

inputs = keras.Input(shape=(64,))
x = norm(block(inputs, 32))
""",
            (10,),
        ),
        Invalid(  # subclassed model: reported where the layer is created
            """
import tensorflow as tf

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(16, 3, activation="relu")
        self.bn = tf.keras.layers.BatchNormalization()
        self.head = tf.keras.layers.Dense(10)

    def call(self, inputs, training=False):
        x = self.bn(self.conv(inputs), training=training)
        return self.head(x)
""",
            (8,),
            fixed="""
import tensorflow as tf

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(16, 3)
        self.bn = tf.keras.layers.BatchNormalization()
        self.bn_activation = tf.keras.layers.Activation("relu")
        self.head = tf.keras.layers.Dense(10)

    def call(self, inputs, training=False):
        x = self.bn_activation(self.bn(self.conv(inputs), training=training))
        return self.head(x)
""",
        ),
        Invalid(  # import-less snippet with bare names
            """
model = Sequential()
model.add(Dense(64, activation='relu', input_dim=20))
model.add(BatchNormalization())
model.add(Dense(1, activation='sigmoid'))
""",
            (4,),
            fixed="""
model = Sequential()
model.add(Dense(64, input_dim=20))
model.add(BatchNormalization())
model.add(Activation('relu'))
model.add(Dense(1, activation='sigmoid'))
""",
        ),
        Invalid(  # two findings in one statement: fixed over two rounds
            """
from tensorflow.keras import Sequential, layers

model = Sequential([
    layers.Dense(128, activation="relu"),  # hidden 1
    layers.BatchNormalization(),
    layers.Dense(64, activation=layers.LeakyReLU(0.1)),  # hidden 2
    layers.BatchNormalization(),
    layers.Dense(1),
])
""",
            (6, 8),
            fixed="""
from tensorflow.keras import Sequential, layers

model = Sequential([
    layers.Dense(128),  # hidden 1
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dense(64),  # hidden 2
    layers.BatchNormalization(),
    layers.LeakyReLU(0.1),
    layers.Dense(1),
])
""",
        ),
        Invalid(  # a helper block holding both layers; nested activation-layer calls
            """
import tensorflow as tf
from tensorflow.keras import layers

def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = layers.BatchNormalization()(x)
    return x

inputs = tf.keras.Input((32, 32, 3))
x = conv_block(conv_block(inputs, 32), 64)
x = layers.BatchNormalization()(layers.ReLU()(layers.Conv2D(64, 3)(x)))
""",
            (7, 12),
            fixed="""
import tensorflow as tf
from tensorflow.keras import layers

def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return x

inputs = tf.keras.Input((32, 32, 3))
x = conv_block(conv_block(inputs, 32), 64)
x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(64, 3)(x)))
""",
        ),
        Invalid(  # a subclassed model applying an activation layer before BN
            """
from keras import layers, Model

class Block(Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(32, 3)
        self.act = layers.ReLU()
        self.norm = layers.BatchNormalization()

    def call(self, x, training=False):
        return self.norm(self.act(self.conv(x)), training=training)
""",
            (9,),
            fixed="""
from keras import layers, Model

class Block(Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(32, 3)
        self.act = layers.ReLU()
        self.norm = layers.BatchNormalization()

    def call(self, x, training=False):
        return self.act(self.norm(self.conv(x), training=training))
""",
        ),
        Invalid(  # several star imports
            """
from keras.layers import *
from keras.models import *

def discriminator():
    model = Sequential()
    model.add(Conv2D(64, 3, strides=2, padding="same"))
    model.add(LeakyReLU(0.2))
    model.add(BatchNormalization(momentum=0.8))
    return model
""",
            (9,),
            fixed="""
from keras.layers import *
from keras.models import *

def discriminator():
    model = Sequential()
    model.add(Conv2D(64, 3, strides=2, padding="same"))
    model.add(BatchNormalization(momentum=0.8))
    model.add(LeakyReLU(0.2))
    return model
""",
        ),
        Invalid(  # LeakyReLU layer followed by BN, via tf.compat.v1.keras
            """
import tensorflow as tf
L = tf.compat.v1.keras.layers
inputs = L.Input(shape=(8,))
x = L.Dense(8)(inputs)
x = L.LeakyReLU(0.1)(x)
x = L.BatchNormalization()(x)
""",
            (7,),
            fixed="""
import tensorflow as tf
L = tf.compat.v1.keras.layers
inputs = L.Input(shape=(8,))
x = L.Dense(8)(inputs)
x = L.BatchNormalization()(x)
x = L.LeakyReLU(0.1)(x)
""",
        ),
    )


def is_activation_layer(node: LayerNode) -> bool:
    """A layer or op whose only job is a non-linearity (`ReLU()`, `Activation("relu")`, `tf.nn.relu`)."""
    is_layer = node.kind.startswith("op:") or is_layer_kind(node, ACTIVATION_LAYERS)
    return is_layer and node.activation() not in (None, UNKNOWN)


def only_output(kfile: KerasFile, node: LayerNode) -> LayerNode | None:
    outputs = kfile.outputs_of(node)
    return next(iter(outputs)) if len(outputs) == 1 else None


class DropoutBeforeBatchNorm(Rule):
    """## What it does
    Checks for Dropout (with a rate above 0) whose output feeds BatchNormalization, directly or
    through an activation.

    ## Why is this bad?
    Dropout scales the surviving activations up during training and not at inference, so the
    variance BatchNormalization estimates while training is not the one it sees at test time: the
    "variance shift" that makes the two disagree (Li et al., 2019). Dropout belongs after the
    normalization and the activation: CONV/FC -> BatchNorm -> activation -> Dropout.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Dense(64),
        layers.Dropout(0.5),
        layers.BatchNormalization(),
        layers.Activation("relu"),
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        layers.Dense(64),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Dropout(0.5),
    ])
    ```

    ## Fix safety
    The fix moves the Dropout after the BatchNormalization and the activation that follows it. It
    changes what the model computes during training, so it is unsafe.

    ## References
    - Li, Chen, Hu & Yang, "Understanding the Disharmony between Dropout and Batch Normalization
      by Variance Shift" (CVPR 2019)
    """

    code = "KT102"
    name = "dropout-before-batchnorm"
    summary = "Dropout feeding BatchNormalization"
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for node in kfile.nodes:
            if not is_layer_kind(node, DROPOUT_LAYERS):
                continue
            rate = node.args.value("rate", 0)
            if not (isinstance(rate, Const) and isinstance(rate.value, (int, float)) and rate.value > 0):
                continue
            following = only_output(kfile, node)
            if following is not None and is_activation_layer(following):
                following = only_output(kfile, following)
            if following is None or not is_layer_kind(following, BATCHNORM_LAYERS):
                continue
            anchor = following
            after = only_output(kfile, following)
            if after is not None and is_activation_layer(after) and kfile.inputs_of(after) == {following}:
                anchor = after
            edits = move_after(kfile, node, anchor)
            yield Finding(
                node.call,
                f"{node.short} feeds {following.short}: the variance it shifts in training misleads "
                f"the normalization; move it after the {following.short}"
                + (" and its activation" if anchor is not following else ""),
                node.statement,
                Fix(Applicability.UNSAFE, edits) if edits else None,
            )

    VALID = (
        """
from tensorflow.keras import Sequential, layers
model = Sequential([
    layers.Dense(64, use_bias=False),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
])
""",
        # Dropout before a Dense: the next BN normalizes the Dense's output, not the dropout's
        """
import keras
inputs = keras.Input((32,))
x = keras.layers.Dropout(0.2)(inputs)
x = keras.layers.Dense(64)(x)
x = keras.layers.BatchNormalization()(x)
""",
        # A rate of 0 is no dropout
        """
from keras import layers, Sequential
model = Sequential([layers.Dense(8), layers.Dropout(0.0), layers.BatchNormalization()])
""",
        # The rate is not known
        """
from keras import layers, Sequential
def build(rate):
    return Sequential([layers.Dense(8), layers.Dropout(rate), layers.BatchNormalization()])
""",
    )
    INVALID = (
        Invalid(  # Sequential list, through an activation
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(128),
    layers.Dropout(0.3),  # regularize
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dense(10, activation="softmax"),
])
""",
            (7,),
            fixed="""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(128),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dropout(0.3),  # regularize
    layers.Dense(10, activation="softmax"),
])
""",
        ),
        Invalid(  # .add sequence
            """
import tensorflow as tf
model = tf.keras.Sequential()
model.add(tf.keras.layers.Conv2D(32, 3, use_bias=False))
model.add(tf.keras.layers.SpatialDropout2D(0.1))
model.add(tf.keras.layers.BatchNormalization())
model.add(tf.keras.layers.ReLU())
model.add(tf.keras.layers.Flatten())
""",
            (5,),
            fixed="""
import tensorflow as tf
model = tf.keras.Sequential()
model.add(tf.keras.layers.Conv2D(32, 3, use_bias=False))
model.add(tf.keras.layers.BatchNormalization())
model.add(tf.keras.layers.ReLU())
model.add(tf.keras.layers.SpatialDropout2D(0.1))
model.add(tf.keras.layers.Flatten())
""",
        ),
        Invalid(  # functional chain in a helper block
            """
from keras import layers

def block(x, units):
    x = layers.Dense(units, use_bias=False)(x)
    x = layers.Dropout(0.5)(x)
    x = layers.BatchNormalization()(x)
    return x
""",
            (6,),
            fixed="""
from keras import layers

def block(x, units):
    x = layers.Dense(units, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x)
    return x
""",
        ),
        Invalid(  # nested calls
            """
from keras import Input, layers
inputs = Input((16,))
outputs = layers.BatchNormalization()(layers.Dropout(0.25)(layers.Dense(16)(inputs)))
""",
            (4,),
            fixed="""
from keras import Input, layers
inputs = Input((16,))
outputs = layers.Dropout(0.25)(layers.BatchNormalization()(layers.Dense(16)(inputs)))
""",
        ),
        Invalid(  # subclassed model
            """
import keras

class Head(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(64, use_bias=False)
        self.drop = keras.layers.Dropout(0.4)
        self.norm = keras.layers.BatchNormalization()

    def call(self, x, training=False):
        return self.norm(self.drop(self.dense(x), training=training), training=training)
""",
            (8,),
            fixed="""
import keras

class Head(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(64, use_bias=False)
        self.drop = keras.layers.Dropout(0.4)
        self.norm = keras.layers.BatchNormalization()

    def call(self, x, training=False):
        return self.drop(self.norm(self.dense(x), training=training), training=training)
""",
        ),
    )


def bias_argument(layer: LayerNode):
    return next((arg for arg in layer.call.args if arg.keyword is not None and arg.keyword.value == "use_bias"), None)


class BiasBeforeBatchNorm(Rule):
    """## What it does
    Checks for a Dense or convolution layer with a bias (`use_bias` not False) and no activation
    whose output goes straight into BatchNormalization.

    Not flagged when the BatchNormalization has no shift (`center=False`), normalizes an explicit
    axis other than the last, or when the layer's output also feeds something else.

    ## Why is this bad?
    BatchNormalization subtracts the batch mean, which removes any constant the previous layer
    added, then adds its own learned shift (beta). The layer's bias is a parameter that can never
    change the output: wasted memory and compute, and a useless gradient.

    ## Example
    ```python
    x = layers.Conv2D(64, 3)(x)
    x = layers.BatchNormalization()(x)
    ```

    ## Use instead
    ```python
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    ```

    ## Fix safety
    The fix sets `use_bias=False`. BatchNormalization's own shift takes the bias's role, so the
    model computes the same functions: the fix is safe. (Weights saved before the fix no longer
    load into the fixed model by position.)

    ## References
    - Ioffe & Szegedy, "Batch Normalization" (2015), section 3.2
    """

    code = "KT103"
    name = "bias-before-batchnorm"
    summary = "Dense/Conv bias made redundant by the BatchNormalization that follows"
    fix_applicability = Applicability.SAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for node in kfile.nodes:
            if not is_layer_kind(node, LINEAR_WITH_ACTIVATION) or node.short == "EinsumDense":
                continue
            if node.activation() is not None or len(node.args.positional) > 2:
                continue  # an activation makes the bias matter; many positional arguments: unsure
            if not all(
                kfile.outputs_of(instance) and all(map(_normalizes_away_bias, kfile.outputs_of(instance)))
                for instance in kfile.instances(node)  # a helper's layer: in every call of it
            ):
                continue
            given = node.args.value("use_bias")
            if given is not None and not (isinstance(given, Const) and given.value is True):
                continue
            argument = bias_argument(node)
            if argument is not None:
                rewrite = lambda u, a=argument: replace_keyword(u, a, "use_bias", cst.Name("False"))  # noqa: E731
            else:
                rewrite = lambda u: with_argument(u, "use_bias", cst.Name("False"))  # noqa: E731
            yield Finding(
                node.call,
                f"the bias of {node.short} is cancelled by the BatchNormalization that follows; "
                "set use_bias=False",
                node.statement,
                Fix(Applicability.SAFE, (Edit(node.call, rewrite, node.statement),)),
            )

    VALID = (
        """
from tensorflow.keras import layers
x = layers.Conv2D(64, 3, use_bias=False)(x)
x = layers.BatchNormalization()(x)
""",
        # An activation between: the bias shifts what the activation sees
        """
from keras import Sequential, layers
model = Sequential([layers.Dense(32, activation="relu"), layers.BatchNormalization()])
""",
        # BatchNormalization without its own shift
        """
from keras import Sequential, layers
model = Sequential([layers.Dense(32), layers.BatchNormalization(center=False)])
""",
        # The output also feeds a residual connection
        """
import keras
inputs = keras.Input((8, 8, 16))
y = keras.layers.Conv2D(16, 3, padding="same")(inputs)
z = keras.layers.BatchNormalization()(y)
out = keras.layers.Add()([y, z])
""",
        # A helper's convolution feeds BatchNormalization in one call and another Conv2D in the next
        """
import keras
def conv(x, bn):
    x = keras.layers.Conv2D(16, 3, padding="same")(x)
    if bn:
        x = keras.layers.BatchNormalization()(x)
    return x
inputs = keras.Input((32, 32, 3))
x = conv(conv(inputs, bn=True), bn=False)
x = keras.layers.Conv2D(8, 1)(x)
""",
        # Normalizing the channels of a channels-first convolution on another axis
        """
from keras import Sequential, layers
model = Sequential([layers.Conv2D(8, 3), layers.BatchNormalization(axis=1)])
""",
    )
    INVALID = (
        Invalid(  # Sequential list
            """
from tensorflow import keras
model = keras.Sequential([
    keras.layers.Dense(64),  # hidden
    keras.layers.BatchNormalization(),
    keras.layers.Activation("relu"),
])
""",
            (4,),
            fixed="""
from tensorflow import keras
model = keras.Sequential([
    keras.layers.Dense(64, use_bias=False),  # hidden
    keras.layers.BatchNormalization(),
    keras.layers.Activation("relu"),
])
""",
        ),
        Invalid(  # .add sequence, explicit use_bias=True
            """
from keras.models import Sequential
from keras.layers import Conv2D, BatchNormalization, Activation
model = Sequential()
model.add(Conv2D(32, (3, 3), padding="same", use_bias=True))
model.add(BatchNormalization())
model.add(Activation("relu"))
""",
            (5,),
            fixed="""
from keras.models import Sequential
from keras.layers import Conv2D, BatchNormalization, Activation
model = Sequential()
model.add(Conv2D(32, (3, 3), padding="same", use_bias=False))
model.add(BatchNormalization())
model.add(Activation("relu"))
""",
        ),
        Invalid(  # functional helper block
            """
from tensorflow.keras import layers
def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)
""",
            (4,),
            fixed="""
from tensorflow.keras import layers
def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)
""",
        ),
        Invalid(  # nested calls and a subclassed model
            """
import tensorflow as tf
class Stem(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(32, 3, strides=2)
        self.bn = tf.keras.layers.BatchNormalization()
    def call(self, x):
        return tf.nn.relu(self.bn(self.conv(x)))

y = tf.keras.layers.BatchNormalization()(tf.keras.layers.Dense(10)(tf.keras.Input((4,))))
""",
            (6, 11),
            fixed="""
import tensorflow as tf
class Stem(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(32, 3, strides=2, use_bias=False)
        self.bn = tf.keras.layers.BatchNormalization()
    def call(self, x):
        return tf.nn.relu(self.bn(self.conv(x)))

y = tf.keras.layers.BatchNormalization()(tf.keras.layers.Dense(10, use_bias=False)(tf.keras.Input((4,))))
""",
        ),
    )


def _normalizes_away_bias(node: LayerNode) -> bool:
    """A BatchNormalization with a shift (center) over the last axis."""
    if not is_layer_kind(node, BATCHNORM_LAYERS):
        return False
    center, axis = node.args.value("center", 3), node.args.value("axis", 0)
    if center is not None and not (isinstance(center, Const) and center.value is True):
        return False
    return axis is None or (isinstance(axis, Const) and axis.value in (-1, [-1]))
