"""Model structure rules (KT1xx): the order and configuration of layers in the layer chain."""

from __future__ import annotations

import ast
from typing import Iterator

import libcst as cst

from kerastips.edits import Applicability, Edit, Fix, replace_keyword, with_argument, without_argument
from kerastips.ir.model import (
    UNKNOWN,
    Const,
    KerasFile,
    LayerNode,
    Ref,
    Seq,
    activation_name,
    is_layer_kind,
)
from kerastips.ir.names import (
    ACTIVATION_LAYERS,
    BATCHNORM_LAYERS,
    DROPOUT_LAYERS,
    LINEAR_WITH_ACTIVATION,
    NOISE_LAYERS,
    canonical,
)
from kerastips.rules.base import Finding, Invalid, Rule
from kerastips.rules.chain_edits import (
    append_after,
    direct_pair,
    insert_before,
    layer_call,
    move_after,
    remove_layer,
    swap,
)


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
            if not is_layer_kind(node, BATCHNORM_LAYERS) or frozen(node):
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
        # A frozen BatchNormalization (trainable=False) only applies its fixed statistics
        """
from tensorflow import keras
from tensorflow.keras import layers
model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
    layers.BatchNormalization(trainable=False),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
""",
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
    """The layer's `use_bias=` argument (Keras 1: `bias=`)."""
    return next((arg for arg in layer.call.args
                 if arg.keyword is not None and arg.keyword.value in ("use_bias", "bias")), None)


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
        # A frozen BatchNormalization learns no shift: the bias before it is the only one
        """
from tensorflow.keras import layers
x = layers.Conv2D(32, 3, padding="same")(x)
x = layers.BatchNormalization(trainable=False)(x)
x = layers.Activation("relu")(x)
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


def frozen(node: LayerNode) -> bool:
    """A layer made with `trainable=False`: a BatchNormalization then normalizes with its fixed
    statistics and learns no shift (a pretrained network's layer, kept as it is)."""
    trainable = node.args.value("trainable")
    return isinstance(trainable, Const) and trainable.value is False


def _normalizes_away_bias(node: LayerNode) -> bool:
    """A trainable BatchNormalization with a shift (center) over the last axis."""
    if not is_layer_kind(node, BATCHNORM_LAYERS) or frozen(node):
        return False
    center, axis = node.args.value("center", 3), node.args.value("axis", 0)
    if center is not None and not (isinstance(center, Const) and center.value is True):
        return False
    return axis is None or (isinstance(axis, Const) and axis.value in (-1, [-1]))


# ---- shared by KT104-KT108 -------------------------------------------------------------------

# Layers that compute an affine map of their input (a kernel, and usually a bias).
AFFINE_LAYERS = LINEAR_WITH_ACTIVATION - {"EinsumDense"}
# Affine layers whose composition without an activation is one affine map of the same kind. A
# depthwise convolution followed by a pointwise one is a separable convolution on purpose.
COLLAPSIBLE_LAYERS = AFFINE_LAYERS - {"DepthwiseConv1D", "DepthwiseConv2D"}
# Layers that add no non-linearity and keep each position's features apart (at inference).
PASS_THROUGH_LAYERS = BATCHNORM_LAYERS | NOISE_LAYERS | frozenset(
    {"ActivityRegularization", "Identity", "Rescaling", "Normalization",
     "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
     "UpSampling1D", "UpSampling2D", "UpSampling3D"}
)
RESHAPING_LAYERS = frozenset({"Flatten", "Reshape", "Permute", "RepeatVector"})
POOLING_LAYERS = frozenset(
    {"MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
     "AveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
     "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
     "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
     "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D"}
)

def _last_name(expression: cst.CSTNode) -> str:
    """`Dense` for `layers.Dense` or `Dense`; empty for anything else."""
    if isinstance(expression, cst.Attribute):
        return expression.attr.value
    return expression.value if isinstance(expression, cst.Name) else ""


def is_affine(node: LayerNode, group: frozenset = AFFINE_LAYERS) -> bool:
    return is_layer_kind(node, group)


def is_linear(node: LayerNode) -> bool:
    """An affine layer that provably applies no activation (none given, None or "linear")."""
    if not is_affine(node) or node.args.star or node.activation() is not None:
        return False
    # Convolutions take activation= positionally only after six other arguments.
    return node.short == "Dense" or "activation" in node.args.keywords or len(node.args.positional) <= 6


def width(node: LayerNode) -> int | None:
    """A literal `units`/`filters`."""
    value = node.args.value("filters" if node.short != "Dense" else "units", 0)
    if isinstance(value, Const) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None


def _last_dimension(shape) -> int | None:
    if isinstance(shape, Seq) and not shape.repeated and shape.items:
        last = shape.items[-1]
        if isinstance(last, Const) and isinstance(last.value, int) and not isinstance(last.value, bool):
            return last.value
    return None


def incoming_width(kfile: KerasFile, node: LayerNode) -> int | None:
    """The literal size of the last axis of what a layer reads, when the code shows it."""
    given = node.args.value("input_dim")
    if isinstance(given, Const) and isinstance(given.value, int):
        return given.value
    if node.args.value("input_shape") is not None:
        return _last_dimension(node.args.value("input_shape"))
    source, seen = node, set()
    while True:
        inputs = kfile.inputs_of(source)
        if len(inputs) != 1:
            return None
        source = next(iter(inputs))
        if id(source) in seen:
            return None
        seen.add(id(source))
        if source.kind == "input":
            return _last_dimension(source.args.value("shape", 0))
        if is_affine(source):
            return width(source)
        if not (is_layer_kind(source, PASS_THROUGH_LAYERS | ACTIVATION_LAYERS) or source.kind.startswith("op:")):
            return None


def reaches_only_outputs(kfile: KerasFile, node: LayerNode, through) -> bool:
    """Whether every path from `node` leads, through layers `through(layer)` accepts, to a
    model output (the node itself may be one)."""
    outputs = kfile.output_nodes
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current is not node and not through(current):
            return False
        following = kfile.outputs_of(current)
        if not following and id(current) not in outputs:
            return False
        stack.extend(following)
    return True


def describe(kfile: KerasFile, node: LayerNode) -> str:
    """How a message names a layer or op: `Activation('relu')`, `ReLU`, `tf.nn.relu`."""
    if node.kind.startswith("op:") and isinstance(node.call, cst.Call):
        return kfile.code(node.call.func)
    if node.short == "Activation":
        name = node.activation()
        return f"Activation('{name}')" if isinstance(name, str) else "Activation"
    return node.short


def shape_activation(node: LayerNode) -> bool:
    """A layer or op that applies an element-wise function (or none) and keeps the shape."""
    return node.kind.startswith("op:") or is_layer_kind(node, ACTIVATION_LAYERS)


def keeps_linearity(node: LayerNode) -> bool:
    """A layer a linear output may pass through and stay linear (KT104)."""
    if is_layer_kind(node, PASS_THROUGH_LAYERS | RESHAPING_LAYERS):
        return True
    return is_layer_kind(node, frozenset({"Activation"})) and not node.args.star and node.activation() is None


def collapsing_successors(kfile: KerasFile, node: LayerNode) -> list[tuple[LayerNode, tuple]] | None:
    """The affine layers a linear layer's output reaches with nothing non-linear on the way, each
    with the layers between; None unless that is all its output reaches (no model output, no
    merge, pooling, attention, activation or unknown code on any path)."""
    outputs = kfile.output_nodes
    found: list[tuple[LayerNode, tuple]] = []
    stack, seen = [(n, ()) for n in kfile.outputs_of(node)], {id(node)}
    if not stack:
        return None
    while stack:
        current, path = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if is_affine(current, COLLAPSIBLE_LAYERS):
            found.append((current, path))
            continue
        if id(current) in outputs:
            return None  # the linear output is itself a result (an encoder's code, a second output)
        following = kfile.outputs_of(current)
        if not keeps_linearity(current) or not following:
            return None
        stack.extend((n, path + (current,)) for n in following)
    return found


class MissingNonlinearity(Rule):
    """## What it does
    Checks for a Dense or convolution layer with no activation (none given, `None` or
    `"linear"`) whose output reaches another Dense/convolution layer with nothing non-linear in
    between: directly, or only through BatchNormalization, Dropout/noise layers, Flatten/Reshape,
    padding, cropping or upsampling. Reported at the first (the linear) layer.

    Not flagged:
    - an activation layer or function right after the layer (`Activation("relu")`, `ReLU()`,
      `tf.nn.relu(x)`, `keras.ops.gelu(x)`);
    - a pooling, attention, merge (`Add`, `Concatenate`...), normalization other than
      BatchNormalization, `Lambda` or unknown code on the way, e.g. a residual projection
      (`Conv2D(f, 1)` then BN then `Add`) or a ResNet branch;
    - a linear layer whose output is also a model output (an encoder's linear code);
    - a linear bottleneck after a non-linear layer: the layer is narrower than both what it reads
      and the layer it feeds (`Dense(128, "relu")`, `Dense(16)`, `Dense(128, "relu")`;
      MobileNetV2's projections), a low-rank factorization on purpose. A stack of linear layers
      is flagged whatever the widths. When the widths are not literal, only a linear layer
      feeding the model's output layer is flagged;
    - other factorizations that save weights: a linear 1x1 reduction before a larger kernel, a
      `k x 1` convolution followed by a `1 x k` one, a depthwise convolution followed by a
      pointwise one (a separable convolution);
    - an activation the linter cannot resolve (a variable, `**kwargs`), and unit tests.

    ## Why is this bad?
    The composition of two affine maps is one affine map: `W2 (W1 x + b1) + b2 = W x + b`. A
    hidden layer without a non-linearity adds parameters and compute but no capacity, so the
    model underfits like the shallower model it really is (model bias). The output layer itself
    may be linear (regression, logits), but the layer feeding it must not be.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Dense(64, input_shape=(20,)),
        layers.Dense(1, activation="sigmoid"),
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        layers.Dense(64, activation="relu", input_shape=(20,)),
        layers.Dense(1, activation="sigmoid"),
    ])
    ```

    ## References
    - Goodfellow, Bengio & Courville, "Deep Learning" (2016), section 6.3
    - Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks" (2018): linear
      bottlenecks on purpose
    """

    code = "KT104"
    name = "missing-nonlinearity"
    summary = "Two Dense/Conv layers with no non-linear activation between them"

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        outputs = kfile.output_nodes
        for node in kfile.nodes:
            if not is_linear(node) or not is_affine(node, COLLAPSIBLE_LAYERS) or id(node) in outputs:
                continue
            successors = collapsing_successors(kfile, node)
            if not successors or node.in_test:
                continue
            for successor, path in successors:
                if self.collapses(kfile, node, successor, path):
                    through = f" through {', '.join(p.short for p in path)}" if path else ""
                    yield Finding(
                        node.call,
                        f"{node.short} has no activation and feeds {successor.short}{through}: the two "
                        f"compute one linear map; give {node.short} an activation (e.g. activation=\"relu\")",
                        node.statement,
                    )
                    break

    @staticmethod
    def collapses(kfile: KerasFile, node: LayerNode, successor: LayerNode, path: tuple) -> bool:
        if any(is_layer_kind(p, RESHAPING_LAYERS) for p in path):
            return True  # Dense -> Reshape -> Conv2DTranspose: widths do not compare
        if input_linearity(kfile, node) == "linear":
            return True  # a stack of linear layers: no bottleneck makes sense of it
        first, second = width(node), width(successor)
        if first is None or second is None:
            # A bottleneck cannot be told apart: only a layer feeding the output layer.
            return reaches_only_outputs(kfile, successor, lambda n: shape_activation(n) or keeps_linearity(n))
        given = incoming_width(kfile, node)
        narrower = given is None or first < given
        if first < second and narrower:
            return False  # narrower than what it reads and what it feeds: a low-rank bottleneck
        if narrower and pointwise(node) is True and pointwise(successor) is not True:
            return False  # a 1x1 reduction before a wider kernel: a factorization that saves weights
        return not spatially_separable(node, successor)

    VALID = (
        # Hidden layers with activations; the output layer itself may be linear
        """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu", input_shape=(20,)),
    layers.Dense(32, activation="relu"),
    layers.Dense(1),
])
""",
        # The activation comes right after, as a layer, an op or a parametrised activation
        """
import tensorflow as tf
import keras
from keras import layers, ops

inputs = keras.Input((16,))
x = layers.Dense(64)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Activation("relu")(x)
x = layers.Dense(64)(x)
x = tf.nn.relu(x)
x = layers.Dense(32, activation="linear")(x)
x = layers.LeakyReLU(0.1)(x)
x = layers.Dense(32)(x)
x = ops.gelu(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
""",
        # Pooling between two convolutions
        """
from tensorflow.keras import Sequential, layers
model = Sequential([
    layers.Conv2D(32, 3, input_shape=(28, 28, 1)),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, activation="relu"),
])
""",
        # Attention between a linear projection and the next layer
        """
import keras
from keras import layers
tokens = keras.Input((16, 8))
x = layers.Dense(64)(tokens)
x = layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
x = layers.Dense(64, activation="gelu")(x)
""",
        # A residual projection: linear 1x1 conv, BN, then Add
        """
import keras
from keras import layers

def residual_block(x, filters):
    shortcut = layers.Conv2D(filters, 1)(x)
    shortcut = layers.BatchNormalization()(shortcut)
    y = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    y = layers.Conv2D(filters, 3, padding="same")(y)
    y = layers.Add()([shortcut, y])
    return layers.ReLU()(y)

inputs = keras.Input((32, 32, 3))
model = keras.Model(inputs, layers.Dense(10)(layers.GlobalAveragePooling2D()(residual_block(inputs, 16))))
""",
        # A linear bottleneck between non-linear layers (narrower than its input and its output)
        """
from keras import Sequential, layers
autoencoder = Sequential([
    layers.Dense(128, activation="relu", input_shape=(784,)),
    layers.Dense(16),
    layers.Dense(128, activation="relu"),
    layers.Dense(784, activation="sigmoid"),
])
""",
        # Factorizations that save weights: a linear 1x1 reduction before a 3x3 convolution, a
        # 7x1 convolution followed by a 1x7 one
        """
from tensorflow.keras import layers
def reduced(x):
    x = layers.Conv2D(256, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(64, 1)(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    y = layers.Conv2D(21, (7, 1), padding="same")(x)
    y = layers.Conv2D(21, (1, 7), padding="same")(y)
    return layers.Add()([x, y])
""",
        # A linear code that is also a model output (the encoder)
        """
import keras
from keras import layers
inputs = keras.Input((784,))
h = layers.Dense(128, activation="relu")(inputs)
code = layers.Dense(32)(h)
decoded = layers.Dense(784, activation="sigmoid")(layers.Dense(128, activation="relu")(code))
autoencoder = keras.Model(inputs, decoded)
encoder = keras.Model(inputs, code)
""",
        # Depthwise then pointwise: a separable convolution, on purpose
        """
from tensorflow.keras import layers
def separable(x, filters):
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2D(filters, 1, activation="relu")(x)
    return x
""",
        # The activation is a parameter the linter cannot resolve; **kwargs may carry it
        """
from tensorflow.keras import Sequential, layers
def build(act, **kwargs):
    return Sequential([layers.Dense(64, activation=act), layers.Dense(32, **kwargs), layers.Dense(1)])
""",
        # Embedding then Dense; LayerNormalization between two Dense layers; a Lambda between
        """
import tensorflow as tf
from tensorflow.keras import Sequential, layers
model = Sequential([
    layers.Embedding(1000, 64),
    layers.Dense(64),
    layers.LayerNormalization(),
    layers.Dense(64),
    layers.Lambda(lambda t: tf.math.maximum(t, 0.0)),
    layers.Dense(1),
])
""",
        # Widths that are not literal, and the next layer is not the output: could be a bottleneck
        """
from tensorflow.keras import layers
def block(x, expanded, projected):
    x = layers.Conv2D(expanded, 1, activation="relu")(x)
    x = layers.Conv2D(projected, 1)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2D(expanded, 1, activation="relu")(x)
    return x
""",
        # A unit test exercises the API, it does not train a model; nor do a test module's fixtures
        """
import keras
def test_stack():
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)])
    assert len(model.layers) == 2
""",
        """
import pytest
import keras
def get_mlp():
    return keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)])
""",
    )
    INVALID = (
        Invalid(  # Sequential list: the hidden layer feeding the output has no activation
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, input_shape=(20,)),
    layers.Dense(1, activation="sigmoid"),
])
""",
            (6,),
        ),
        Invalid(  # .add in a loop (the loop's layer feeds itself), aliases
            """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense as D, Dropout

model = Sequential()
for units in [128, 64]:
    model.add(D(units))
    model.add(Dropout(0.2))
model.add(D(10, activation="softmax"))
""",
            (7,),
        ),
        Invalid(  # .add in a helper function; the old module path
            """
from keras.models import Sequential
from keras.layers.core import Dense
from keras.layers.normalization import BatchNormalization

def add_block(model, units):
    model.add(Dense(units, activation="relu"))
    model.add(Dense(units // 2))
    model.add(BatchNormalization())

model = Sequential()
add_block(model, 256)
add_block(model, 64)
model.add(Dense(1))
""",
            (8,),
        ),
        Invalid(  # a stack of linear layers (every one of them collapses)
            """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

model = Sequential()
model.add(Dense(5, input_dim=1))
model.add(Dense(10))
model.add(Dense(3))
model.add(Dense(1))
""",
            (6, 7, 8),
        ),
        Invalid(  # functional chain through BatchNormalization, Dropout and a linear Activation
            """
import keras
from keras import layers

inputs = keras.Input(shape=(784,))
x = layers.Dense(256)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Dropout(0.5)(x)
x = layers.Activation("linear")(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
""",
            (6,),
        ),
        Invalid(  # nested calls, tf.compat.v1.keras
            """
import tensorflow as tf
L = tf.compat.v1.keras.layers
inputs = L.Input(shape=(28, 28, 1))
x = L.Conv2D(64, 3, activation="relu")(L.Conv2D(32, 3)(inputs))
""",
            (5,),
        ),
        Invalid(  # a 3x3 convolution into a 1x1 one as wide: one 3x3 convolution computes the same
            """
from tensorflow.keras import layers
def head(x):
    x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(64, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    return layers.Conv2D(64, 1, activation="relu")(x)
""",
            (5,),
        ),
        Invalid(  # a decoder: a linear Dense, reshaped, into a transposed convolution
            """
from tensorflow import keras
from tensorflow.keras import layers

latent = keras.Input(shape=(2,))
x = layers.Dense(7 * 7 * 64)(latent)
x = layers.Reshape((7, 7, 64))(x)
x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
decoder = keras.Model(latent, layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid")(x))
""",
            (6,),
        ),
        Invalid(  # subclassed model: reported where the layer is created
            """
import tensorflow as tf

class Regressor(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = tf.keras.layers.Dense(64)
        self.out = tf.keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))

model = Regressor()
""",
            (7,),
        ),
        Invalid(  # TF1 functional layers (an absl application is not a test)
            """
import tensorflow as tf
from absl import app
x = tf.placeholder(tf.float32, [None, 784])
y = tf.placeholder(tf.int64, [None])
hidden = tf.layers.dense(x, 256)
logits = tf.layers.dense(hidden, 10)
loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
""",
            (6,),
        ),
        Invalid(  # import-less snippet
            """
model = Sequential()
model.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D())
""",
            (3,),
        ),
    )

def kernel(node: LayerNode) -> tuple | None:
    """A layer's literal kernel size as a tuple ((1,) for Dense); None when not literal."""
    if node.short == "Dense":
        return (1,)
    value = node.args.value("kernel_size", 1)
    if isinstance(value, Const) and isinstance(value.value, int):
        return (value.value,)
    if isinstance(value, Seq) and value.items and all(isinstance(i, Const) and isinstance(i.value, int)
                                                        for i in value.items):
        return tuple(i.value for i in value.items)
    return None


def pointwise(node: LayerNode) -> bool | None:
    """Whether a layer mixes channels only (Dense, a 1x1 convolution); None when not literal."""
    size = kernel(node)
    return None if size is None else all(d == 1 for d in size)


def spatially_separable(first: LayerNode, second: LayerNode) -> bool:
    """A k x 1 convolution followed by a 1 x k one (or the other way round): a large kernel
    factorized on purpose (Inception, large-kernel segmentation blocks)."""
    a, b = kernel(first), kernel(second)
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        return False
    return (a[1] == 1 < a[0] and b[0] == 1 < b[1]) or (a[0] == 1 < a[1] and b[1] == 1 < b[0])


def input_linearity(kfile: KerasFile, node: LayerNode) -> str:
    """What a layer reads: "linear" (the model's raw input, or a linear layer's output),
    "nonlinear" (an activation's output) or "unknown"."""
    source, seen = node, set()
    while True:
        inputs = kfile.inputs_of(source)
        if not inputs:
            if source is node and (node.args.get("input_dim") or node.args.get("input_shape")):
                return "linear"
            return "linear" if source.kind == "input" else "unknown"
        if len(inputs) != 1:
            return "unknown"
        source = next(iter(inputs))
        if id(source) in seen:
            return "unknown"
        seen.add(id(source))
        if source.kind == "input":
            return "linear"
        if is_layer_kind(source, PASS_THROUGH_LAYERS | RESHAPING_LAYERS):
            continue
        activation = source.activation() if (is_affine(source) and not source.args.star) or \
            shape_activation(source) or source.short == "Activation" else UNKNOWN
        if activation is UNKNOWN:
            return "unknown"
        if activation is not None:
            return "nonlinear"
        if is_affine(source):
            return "linear" if is_linear(source) else "unknown"
        if source.short != "Activation":
            return "unknown"


_IDEMPOTENT = frozenset({"relu", "relu6"})  # f(f(x)) == f(x)
_IDENTITY_ON_POSITIVES = frozenset({"LeakyReLU", "ELU", "PReLU"})  # f(x) == x for x >= 0


def plain_activation(value) -> str | None:
    """The activation an `activation=` value or an activation layer/op applies, when it has no
    parameter that changes it (`"relu"`, `tf.nn.relu`, `ReLU()`, `Activation("relu")`)."""
    if isinstance(value, (Const, Ref)):
        name = activation_name(value)
        return name if isinstance(name, str) else None
    if not isinstance(value, LayerNode) or value.args.star:
        return None
    keywords = set(value.args.keywords) - {"name"}
    if value.kind.startswith("op:"):
        plain = len(value.args.positional) == 1 and not keywords
    elif value.short == "Activation" and value.is_keras_layer:
        plain = len(value.args.positional) + len(keywords & {"activation"}) == 1 and keywords <= {"activation"}
    elif value.short == "ReLU" and value.is_keras_layer:
        plain = not value.args.positional and not keywords
    else:
        return None
    name = value.activation()
    return name if plain and isinstance(name, str) else None


def given_activation(layer: LayerNode):
    return layer.args.value("activation", 1 if layer.short == "Dense" else None)


class DoubleActivation(Rule):
    """## What it does
    Checks for a Dense/convolution layer with a non-linear `activation=` whose output goes
    straight into an activation layer or function (`Activation`, `ReLU`, `LeakyReLU`, `Softmax`...,
    `tf.nn.relu(x)`, `keras.activations.*`, `keras.ops.*`). Reported at the activation layer (the
    second activation, the one the fix removes); for a subclassed model, where it is created.

    Not flagged: a layer with no activation or `"linear"` followed by an activation layer (the
    usual way to put BatchNormalization or a parametrised activation after a layer), an activation
    the linter cannot resolve, a Dropout or BatchNormalization between the two, and unit tests.

    ## Why is this bad?
    Two non-linearities in a row are almost always a mistake: the activation was added as a layer
    and the `activation=` argument was left in place (or the other way round). Some pairs change
    nothing but cost time (`relu` then `ReLU()`; `relu` then `LeakyReLU`/`ELU`/`PReLU`, which never
    see a negative input), others distort the output (`softmax` twice flattens the probabilities;
    `relu` then `softmax` computes a softmax of non-negative logits).

    ## Example
    ```python
    model = keras.Sequential([
        layers.Conv2D(32, 3, activation="relu"),
        layers.Activation("relu"),
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        layers.Conv2D(32, 3, activation="relu"),
    ])
    ```

    ## Fix safety
    The fix is offered only when the two activations are the same idempotent function with no
    parameters (`relu` or `relu6`, applied twice): it removes the activation layer or call, which
    computed nothing new, so it is safe. (Code that indexes `model.layers` by position sees one
    layer less.) For other pairs the linter cannot tell which of the two was meant: no fix.

    ## References
    - [Keras: Layer activation functions](https://keras.io/api/layers/activations/)
    """

    code = "KT105"
    name = "double-activation"
    summary = "A layer's non-linear activation followed directly by an activation layer"
    fix_applicability = Applicability.SAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for node in kfile.nodes:
            pair = self.doubled(kfile, node)
            if pair is None or node.in_test:
                continue
            layer, first, second = pair
            fix, name = None, describe(kfile, node)
            if first in _IDEMPOTENT and first == plain_activation(given_activation(layer)) == plain_activation(node):
                message = (f"{name} repeats the '{first}' activation {layer.short} already applies "
                           f"('{first}' twice is '{first}'); remove it")
                if all(self.redundant(kfile, instance) for instance in kfile.instances(node)):
                    edits = remove_layer(kfile, node)
                    fix = Fix(Applicability.SAFE, edits) if edits else None
            elif first == "relu" and node.short in _IDENTITY_ON_POSITIVES and node.is_keras_layer:
                message = (f"{node.short} after the 'relu' of {layer.short} does nothing: its input is never "
                           f"negative; drop activation='relu' from {layer.short} if {node.short} was meant")
            else:
                message = (f"{name} applied on top of the '{first}' activation of {layer.short}: two "
                           f"activations in a row; keep one (e.g. {layer.short}(..., activation=None) followed "
                           f"by {name})")
            yield Finding(node.call, message, node.statement, fix)

    @staticmethod
    def doubled(kfile: KerasFile, node: LayerNode) -> tuple[LayerNode, str, str] | None:
        """(the layer, its activation, the activation layer's) when `node` is an activation
        layer applied directly to a layer with a non-linear `activation=`."""
        if not is_activation_layer(node):
            return None
        inputs = kfile.inputs_of(node)
        if len(inputs) != 1:
            return None
        layer = next(iter(inputs))
        if not is_affine(layer) or layer.args.star:
            return None
        first = layer.activation()
        if first is None or first is UNKNOWN:
            return None
        return layer, first, node.activation()

    @staticmethod
    def redundant(kfile: KerasFile, node: LayerNode) -> bool:
        """Whether this run of the activation layer repeats an identical idempotent activation."""
        pair = DoubleActivation.doubled(kfile, node)
        if pair is None:
            return False
        name = plain_activation(node)
        return name in _IDEMPOTENT and plain_activation(given_activation(pair[0])) == name

    VALID = (
        # A linear layer followed by its activation layer: the usual way to write it
        """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, input_shape=(28, 28, 1)),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dense(64, activation="linear"),
    layers.LeakyReLU(0.1),
    layers.Dense(10, activation=None),
    layers.Softmax(),
])
""",
        # Something between the two activations
        """
import keras
from keras import layers
inputs = keras.Input((8,))
x = layers.Dense(16, activation="relu")(inputs)
x = layers.Dropout(0.5)(x)
x = layers.ReLU()(x)
""",
        # An activation the linter cannot resolve
        """
from tensorflow.keras import layers
def block(x, act):
    return layers.ReLU()(layers.Dense(16, activation=act)(x))
""",
        # A recurrent layer's internal activation is not an `activation=` given to it
        """
from keras import Sequential, layers
model = Sequential([layers.LSTM(32), layers.Activation("relu")])
""",
        # A unit test
        """
import keras
class ActivationTest:
    def test_double(self):
        keras.Sequential([keras.layers.Dense(2, activation="relu"), keras.layers.ReLU()])
""",
    )
    INVALID = (
        Invalid(  # Sequential list: the relu layer repeats the convolution's relu
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
    layers.Activation("relu"),  # redundant
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
""",
            (7,),
            fixed="""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
""",
        ),
        Invalid(  # the last element of a list
            """
from keras import Sequential, layers
model = Sequential([
    layers.Dense(64, activation="relu6"),  # hidden
    layers.Activation("relu6"),
])
""",
            (5,),
            fixed="""
from keras import Sequential, layers
model = Sequential([
    layers.Dense(64, activation="relu6"),  # hidden
])
""",
        ),
        Invalid(  # .add sequence in a loop; the comment above the removed line stays
            """
from keras.models import Sequential
from keras.layers import Dense, Activation, Dropout

model = Sequential()
for units in [128, 64]:
    model.add(Dense(units, activation='relu'))
    # non-linearity
    model.add(Activation('relu'))
    model.add(Dropout(0.3))
""",
            (9,),
            fixed="""
from keras.models import Sequential
from keras.layers import Dense, Activation, Dropout

model = Sequential()
for units in [128, 64]:
    model.add(Dense(units, activation='relu'))
    # non-linearity
    model.add(Dropout(0.3))
""",
        ),
        Invalid(  # functional chain with tf.nn.relu, and a ReLU layer in nested calls
            """
import tensorflow as tf
from tensorflow.keras import layers

inputs = tf.keras.Input((4,))
x = layers.Dense(8, activation=tf.nn.relu)(inputs)
x = tf.nn.relu(x)
y = layers.ReLU()(layers.Dense(8, activation="relu")(x))
""",
            (7, 8),
            fixed="""
import tensorflow as tf
from tensorflow.keras import layers

inputs = tf.keras.Input((4,))
x = layers.Dense(8, activation=tf.nn.relu)(inputs)
y = layers.Dense(8, activation="relu")(x)
""",
        ),
        Invalid(  # subclassed model: reported where the activation layer is created
            """
import keras

class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.fc = keras.layers.Dense(64, activation="relu")
        self.act = keras.layers.ReLU()
        self.out = keras.layers.Dense(10)

    def call(self, x):
        return self.out(self.act(self.fc(x)))
""",
            (8,),
            fixed="""
import keras

class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.fc = keras.layers.Dense(64, activation="relu")
        self.out = keras.layers.Dense(10)

    def call(self, x):
        return self.out(self.fc(x))
""",
        ),
        Invalid(  # TF1 functional layers
            """
import tensorflow as tf
x = tf.placeholder(tf.float32, [None, 784])
h = tf.layers.dense(x, 256, activation=tf.nn.relu)
h = tf.nn.relu(h)
logits = tf.layers.dense(h, 10)
""",
            (5,),
            fixed="""
import tensorflow as tf
x = tf.placeholder(tf.float32, [None, 784])
h = tf.layers.dense(x, 256, activation=tf.nn.relu)
logits = tf.layers.dense(h, 10)
""",
        ),
        Invalid(  # two different activations: which one was meant cannot be told, no fix
            """
import tensorflow as tf
from tensorflow.keras import Sequential, layers

model = Sequential([
    layers.Dense(64, activation="relu", input_shape=(20,)),
    layers.LeakyReLU(0.2),
    layers.Dense(10, activation="softmax"),
])
probabilities = tf.nn.softmax(model(tf.zeros((1, 20))))
""",
            (7, 10),
        ),
        Invalid(  # import-less snippet
            """
model = Sequential()
model.add(Dense(128, activation='sigmoid', input_dim=20))
model.add(Activation('softmax'))
""",
            (4,),
        ),
        Invalid(  # the old Convolution2D spelling (Keras 1 arguments)
            """
from keras.models import Sequential
from keras.layers import Convolution2D, Activation

model = Sequential()
model.add(Convolution2D(64, 3, 3, border_mode='same', activation='relu', input_shape=(3, 32, 32)))
model.add(Activation('relu'))
""",
            (7,),
            fixed="""
from keras.models import Sequential
from keras.layers import Convolution2D, Activation

model = Sequential()
model.add(Convolution2D(64, 3, 3, border_mode='same', activation='relu', input_shape=(3, 32, 32)))
""",
        ),
    )

# Layers whose output keeps two or three spatial axes (rank 4 or 5).
SPATIAL_LAYERS = frozenset(
    {"Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv2D", "DepthwiseConv2D",
     "LocallyConnected2D", "MaxPooling2D", "MaxPooling3D", "AveragePooling2D", "AveragePooling3D",
     "MaxPool2D", "MaxPool3D", "AvgPool2D", "AvgPool3D"}
)
UPSAMPLING_LAYERS = frozenset({"Conv2DTranspose", "Conv3DTranspose", "UpSampling2D", "UpSampling3D"})
# Layers that keep the rank of a feature map.
_RANK_KEEPING = BATCHNORM_LAYERS | NOISE_LAYERS | ACTIVATION_LAYERS | frozenset(
    {"ZeroPadding2D", "ZeroPadding3D", "Cropping2D", "Cropping3D", "UpSampling2D", "UpSampling3D",
     "LayerNormalization", "GroupNormalization", "Rescaling", "ActivityRegularization", "Identity"}
)
# Layers that work on each position of a feature map separately (a per-pixel head).
_PER_POSITION = BATCHNORM_LAYERS | NOISE_LAYERS | ACTIVATION_LAYERS | frozenset(
    {"Dense", "LayerNormalization", "ActivityRegularization", "Identity"}
)


def spatial_source(kfile: KerasFile, node: LayerNode) -> LayerNode | None:
    """The 2D/3D convolution or pooling whose feature map reaches `node` unflattened."""
    source, seen = node, set()
    while True:
        inputs = kfile.inputs_of(source)
        if len(inputs) != 1:
            return None
        source = next(iter(inputs))
        if id(source) in seen:
            return None
        seen.add(id(source))
        if is_layer_kind(source, SPATIAL_LAYERS):
            return source
        if not (is_layer_kind(source, _RANK_KEEPING) or source.kind.startswith("op:")):
            return None


def upsampled(kfile: KerasFile, node: LayerNode) -> bool:
    """Whether an upsampling layer feeds `node` (a decoder or a segmentation network)."""
    stack, seen = list(kfile.inputs_of(node)), set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if is_layer_kind(current, UPSAMPLING_LAYERS):
            return True
        stack.extend(kfile.inputs_of(current))
    return False


def downsampled(kfile: KerasFile, node: LayerNode) -> bool:
    """Whether a pooling layer or a strided convolution feeds `node`: a network that shrinks its
    feature maps is heading for one prediction per image, not one per pixel."""
    stack, seen = list(kfile.inputs_of(node)), set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if is_layer_kind(current, POOLING_LAYERS):
            return True
        if is_affine(current):
            strides = current.args.value("strides", 2)  # Keras 1's subsample= too
            if isinstance(strides, Const) and isinstance(strides.value, int) and strides.value > 1:
                return True
            if isinstance(strides, Seq) and any(isinstance(i, Const) and i.value not in (1, None) for i in strides.items):
                return True
        stack.extend(kfile.inputs_of(current))
    return False


def _per_position(node: LayerNode) -> bool:
    return is_layer_kind(node, _PER_POSITION) or node.kind.startswith("op:")


class MissingFlatten(Rule):
    """## What it does
    Checks for a Dense layer applied to the output of a 2D/3D convolution or pooling layer (a
    feature map of rank 4 or 5) with no `Flatten`, `Reshape` or global pooling in between, when
    the Dense's output reaches the model's output with its spatial axes still there (only
    per-position layers — more Dense layers, activations, Dropout, normalization — on the way).
    Reported at the Dense.

    Not flagged: `Conv1D`/1D pooling and recurrent outputs (a Dense per time step is common and
    intended), a Dense whose output is reshaped, pooled or fed to a convolution afterwards (a
    per-pixel projection on purpose), networks that never pool or stride before the Dense, or
    that upsample before it (image-to-image networks, decoders and segmentation heads keep
    spatial outputs on purpose), and unit tests.

    ## Why is this bad?
    On a tensor of rank > 2, Dense only mixes the last axis (the channels): it is a 1x1
    convolution applied at every pixel, not a classifier over the whole feature map. The model
    then outputs one prediction per pixel, `(batch, height, width, units)`, which either fails
    against the labels' shape or, worse, broadcasts against them and trains the wrong thing.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## Fix safety
    The fix inserts `Flatten()` right before the Dense: a new list element, a `model.add(...)`
    statement, `Dense(...)(Flatten()(x))` in functional code, `tf.layers.dense(tf.layers.flatten(x),
    ...)` in TF1 code, or a `self.<dense>_flatten` layer in a subclassed model. It changes the
    model's output shape and the Dense's weights, so it is unsafe. A `GlobalAveragePooling2D()`
    is the other common choice (fewer parameters).

    ## References
    - [Keras: Dense](https://keras.io/api/layers/core_layers/dense/) ("if the input to the layer
      has a rank greater than 2, Dense computes the dot product along the last axis")
    """

    code = "KT106"
    name = "missing-flatten"
    summary = "Dense applied to a 2D/3D feature map without Flatten or global pooling"
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for node in kfile.nodes:
            source = self.unflattened(kfile, node)
            if source is None or node.in_test:
                continue
            fix = None
            if all(self.unflattened(kfile, instance) is not None for instance in kfile.instances(node)):
                fix = self.insert_flatten(kfile, node)
            rank = 5 if "3D" in source.short else 4
            yield Finding(
                node.call,
                f"{node.short} applied to the rank-{rank} output of {source.short} without Flatten or "
                f"global pooling: it acts on the channels of each position and the model outputs a "
                f"feature map; insert Flatten() before it",
                node.statement,
                fix,
            )

    @staticmethod
    def unflattened(kfile: KerasFile, node: LayerNode) -> LayerNode | None:
        if not is_layer_kind(node, frozenset({"Dense"})):
            return None
        source = spatial_source(kfile, node)
        if source is None or upsampled(kfile, node) or not downsampled(kfile, node):
            return None  # no pooling or striding: possibly an image-to-image network, on purpose
        return source if reaches_only_outputs(kfile, node, _per_position) else None

    @staticmethod
    def insert_flatten(kfile: KerasFile, node: LayerNode) -> Fix | None:
        func = node.call.func
        if not node.uses:  # a TF1 layer function, made and applied in one call: tf.layers.dense(x, 10)
            if not isinstance(func, cst.Attribute) or func.attr.value != "dense":
                return None
            flatten = func.with_changes(attr=cst.Name("flatten"))
            return Fix(Applicability.UNSAFE, (Edit(node.call, lambda u: _wrap_first(u, flatten), node.statement),))
        layer, imports = layer_call(kfile, node, "Flatten")
        edits = insert_before(kfile, node, layer, "flatten")
        return Fix(Applicability.UNSAFE, edits, imports) if edits else None

    VALID = (
        # Flatten, or global pooling, between the feature maps and the classifier
        """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(16, 3, activation="relu")(inputs)
x = layers.GlobalAveragePooling2D()(x)
head = keras.Model(inputs, layers.Dense(10)(x))
""",
        # Conv1D and recurrent outputs: one prediction per time step is common and intended
        """
from keras import Sequential, layers
tagger = Sequential([
    layers.Embedding(5000, 64),
    layers.Conv1D(64, 5, padding="same", activation="relu"),
    layers.MaxPooling1D(1),
    layers.Dense(12, activation="softmax"),
])
""",
        # A per-pixel Dense that is flattened or convolved afterwards: a 1x1 projection on purpose
        """
import keras
from keras import layers
inputs = keras.Input((28, 28, 1))
x = layers.Conv2D(32, 5, activation="relu")(inputs)
x = layers.MaxPooling2D()(x)
x = layers.Dense(32, activation="relu")(x)
x = layers.Dropout(0.2)(x)
x = layers.Flatten()(x)
y = layers.Conv2D(16, 3, activation="relu")(inputs)
y = layers.Dense(16)(y)
y = layers.Conv2D(8, 3, activation="relu")(y)
y = layers.GlobalMaxPooling2D()(y)
model = keras.Model(inputs, [layers.Dense(26, activation="softmax")(x), y])
""",
        # Patches reshaped into tokens (a vision transformer)
        """
import keras
from keras import layers
inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(64, 4, strides=4)(inputs)
x = layers.Reshape((64, 64))(x)
model = keras.Model(inputs, layers.Dense(64)(x))
""",
        # No pooling or striding: an image-to-image network (a denoiser) with a per-pixel head
        """
from tensorflow.keras import Sequential, layers
denoiser = Sequential([
    layers.Conv2D(32, 3, padding="same", activation="relu", input_shape=(28, 28, 1)),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
""",
        # A decoder / segmentation head keeps its spatial output on purpose
        """
import keras
from keras import layers
inputs = keras.Input((64, 64, 3))
x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)
x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)
model = keras.Model(inputs, layers.Dense(4, activation="softmax")(x))
""",
        # Not the model's output as far as the linter can tell; a unit test
        """
import keras
from keras import layers
def features(x):
    return layers.Dense(8)(layers.Conv2D(8, 3)(x))
def test_per_pixel_dense():
    model = keras.Sequential([layers.Input((8, 8, 3)), layers.Conv2D(4, 3), layers.Dense(2)])
""",
    )
    INVALID = (
        Invalid(  # Sequential list
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
    layers.MaxPooling2D(),  # 13x13
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
""",
            (8,),
            fixed="""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
    layers.MaxPooling2D(),  # 13x13
    layers.Flatten(),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
""",
        ),
        Invalid(  # .add sequence with an activation layer between; a comment above the Dense
            """
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Activation, Dense

model = Sequential()
model.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))
model.add(MaxPooling2D())
model.add(Activation('relu'))

# classifier
model.add(Dense(128, activation='relu'))
model.add(Dense(10, activation='softmax'))
""",
            (11,),
            fixed="""
from keras.models import Sequential
from keras.layers import Flatten, Conv2D, MaxPooling2D, Activation, Dense

model = Sequential()
model.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))
model.add(MaxPooling2D())
model.add(Activation('relu'))

# classifier
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dense(10, activation='softmax'))
""",
        ),
        Invalid(  # .add in a helper function building the convolutional part
            """
import tensorflow as tf

def conv_block(model, filters):
    model.add(tf.keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
    model.add(tf.keras.layers.MaxPooling2D())

model = tf.keras.Sequential([tf.keras.layers.Input((32, 32, 3))])
conv_block(model, 32)
conv_block(model, 64)
model.add(tf.keras.layers.Dense(1, activation="sigmoid"))
""",
            (11,),
            fixed="""
import tensorflow as tf

def conv_block(model, filters):
    model.add(tf.keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
    model.add(tf.keras.layers.MaxPooling2D())

model = tf.keras.Sequential([tf.keras.layers.Input((32, 32, 3))])
conv_block(model, 32)
conv_block(model, 64)
model.add(tf.keras.layers.Flatten())
model.add(tf.keras.layers.Dense(1, activation="sigmoid"))
""",
        ),
        Invalid(  # functional chain through Dropout; a 3D convolution
            """
import keras
from keras import layers

inputs = keras.Input((16, 16, 16, 1))
x = layers.Conv3D(8, 3, strides=2, activation="relu")(inputs)
x = layers.Dropout(0.3)(x)
outputs = layers.Dense(2, activation="softmax")(x)
model = keras.Model(inputs, outputs)
""",
            (8,),
            fixed="""
import keras
from keras import layers

inputs = keras.Input((16, 16, 16, 1))
x = layers.Conv3D(8, 3, strides=2, activation="relu")(inputs)
x = layers.Dropout(0.3)(x)
outputs = layers.Dense(2, activation="softmax")(layers.Flatten()(x))
model = keras.Model(inputs, outputs)
""",
        ),
        Invalid(  # nested calls
            """
from tensorflow.keras import Input, Model, layers
inputs = Input((28, 28, 1))
model = Model(inputs, layers.Dense(10)(layers.AveragePooling2D()(layers.Conv2D(8, 3)(inputs))))
""",
            (4,),
            fixed="""
from tensorflow.keras import Input, Model, layers
inputs = Input((28, 28, 1))
model = Model(inputs, layers.Dense(10)(layers.Flatten()(layers.AveragePooling2D()(layers.Conv2D(8, 3)(inputs)))))
""",
        ),
        Invalid(  # subclassed model: the Flatten is created next to the Dense
            """
import tensorflow as tf

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(16, 3, activation="relu")
        self.pool = tf.keras.layers.MaxPool2D()
        self.fc = tf.keras.layers.Dense(10)

    def call(self, x):
        return self.fc(self.pool(self.conv(x)))

model = Net()
""",
            (9,),
            fixed="""
import tensorflow as tf

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(16, 3, activation="relu")
        self.pool = tf.keras.layers.MaxPool2D()
        self.fc_flatten = tf.keras.layers.Flatten()
        self.fc = tf.keras.layers.Dense(10)

    def call(self, x):
        return self.fc(self.fc_flatten(self.pool(self.conv(x))))

model = Net()
""",
        ),
        Invalid(  # TF1 functional layers
            """
import tensorflow as tf
images = tf.placeholder(tf.float32, [None, 28, 28, 1])
labels = tf.placeholder(tf.int64, [None])
conv = tf.layers.conv2d(images, 32, 5, activation=tf.nn.relu)
pool = tf.layers.max_pooling2d(conv, 2, 2)
logits = tf.layers.dense(pool, 10)
loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
""",
            (7,),
            fixed="""
import tensorflow as tf
images = tf.placeholder(tf.float32, [None, 28, 28, 1])
labels = tf.placeholder(tf.int64, [None])
conv = tf.layers.conv2d(images, 32, 5, activation=tf.nn.relu)
pool = tf.layers.max_pooling2d(conv, 2, 2)
logits = tf.layers.dense(tf.layers.flatten(pool), 10)
loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
""",
        ),
    )

def _wrap_first(application: cst.Call, func: cst.BaseExpression) -> cst.Call:
    """`f(x, ...)` -> `f(func(x), ...)` for the first argument (or `inputs=`)."""
    target = next((a for a in application.args if a.keyword is None or a.keyword.value == "inputs"), None)
    return application.with_changes(args=[
        a.with_changes(value=cst.Call(func, [cst.Arg(a.value)])) if a is target else a for a in application.args
    ])


# Dropout variants that drop or scale single units (SpatialDropout drops whole channels, which
# commutes with pooling).
_UNIT_DROPOUT = frozenset({"Dropout", "AlphaDropout", "GaussianDropout"})


class DropoutBeforePooling(Rule):
    """## What it does
    Checks for a Dropout layer (`Dropout`, `AlphaDropout`, `GaussianDropout`) whose output goes
    directly, and only, into a pooling layer (local or global, max or average). Reported at the
    Dropout.

    Not flagged: `SpatialDropout1D/2D/3D` (it drops whole channels, which commutes with pooling),
    a rate of 0, Dropout whose output also feeds something else (e.g. a U-Net skip connection),
    a layer between the two, and unit tests.

    ## Why is this bad?
    Pooling throws away most of what Dropout did: max pooling keeps the largest unit of each
    window, so a dropped unit rarely matters (another one wins) while the survivors are scaled up
    by `1 / (1 - rate)` during training only, which shifts the pooled activations between training
    and inference; average pooling blurs the dropped units into a small perturbation of the mean.
    Dropout after the pooling regularizes the features the next layer actually sees, and works on
    a smaller tensor: CONV -> activation -> POOL -> Dropout.

    ## Example
    ```python
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Dropout(0.25)(x)
    x = layers.MaxPooling2D()(x)
    ```

    ## Use instead
    ```python
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.25)(x)
    ```

    ## Fix safety
    The fix swaps the two layers (in every code style), keeping their arguments. It changes what
    the model computes during training, so it is unsafe. No fix when the Dropout has a
    `noise_shape` (it refers to the shape before pooling).

    ## References
    - Nikanjam, Ben Braiek, Morovati & Khomh, "Automatic Fault Detection for Deep Learning
      Programs Using Graph Transformations" (NeuraLint, TOSEM 2021), rule f018
    - Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from Overfitting" (2014)
    """

    code = "KT107"
    name = "dropout-before-pooling"
    summary = "Dropout applied directly before a pooling layer"
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for node in kfile.nodes:
            pooling = self.pooled(kfile, node)
            if pooling is None or node.in_test:
                continue
            fix = None
            if node.args.value("noise_shape", 1) is None and all(
                self.pooled(kfile, instance) is not None for instance in kfile.instances(node)
            ):
                edits = swap(kfile, node, pooling)
                fix = Fix(Applicability.UNSAFE, edits) if edits else None
            yield Finding(
                node.call,
                f"{node.short} directly before {pooling.short}: the pooling discards most of what it "
                f"drops; apply the dropout after the pooling",
                node.statement,
                fix,
            )

    @staticmethod
    def pooled(kfile: KerasFile, node: LayerNode) -> LayerNode | None:
        if not is_layer_kind(node, _UNIT_DROPOUT):
            return None
        rate = node.args.value("rate", 0)
        if isinstance(rate, Const) and not rate.value:
            return None
        if not node.uses and isinstance(node.call, cst.Call) and _last_name(node.call.func) == "dropout":
            training = node.args.value("training", 3)  # tf.layers.dropout drops only when training=
            if training is None or (isinstance(training, Const) and not training.value):
                return None
        following = kfile.outputs_of(node)
        pooling = next(iter(following)) if len(following) == 1 else None
        if pooling is None or not is_layer_kind(pooling, POOLING_LAYERS):
            return None
        return pooling if kfile.inputs_of(pooling) == {node} else None

    VALID = (
        # Dropout after the pooling
        """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(32, 32, 3)),
    layers.MaxPooling2D(),
    layers.Dropout(0.25),
    layers.Conv2D(64, 3, activation="relu"),
    layers.GlobalAveragePooling2D(),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
])
""",
        # SpatialDropout drops whole channels: it commutes with pooling
        """
from keras import Sequential, layers
model = Sequential([layers.Conv2D(16, 3), layers.SpatialDropout2D(0.2), layers.MaxPooling2D()])
""",
        # A rate of 0; a layer between
        """
from keras import Sequential, layers
model = Sequential([
    layers.Conv2D(16, 3, activation="relu"),
    layers.Dropout(0.0),
    layers.MaxPooling2D(),
    layers.Dropout(0.2),
    layers.BatchNormalization(),
    layers.MaxPooling2D(),
])
""",
        # The dropout also feeds a skip connection (U-Net)
        """
import keras
from keras import layers
inputs = keras.Input((64, 64, 1))
conv4 = layers.Conv2D(64, 3, activation="relu", padding="same")(inputs)
drop4 = layers.Dropout(0.5)(conv4)
pool4 = layers.MaxPooling2D(pool_size=(2, 2))(drop4)
up = layers.UpSampling2D()(layers.Conv2D(64, 3, activation="relu", padding="same")(pool4))
merged = layers.concatenate([drop4, up], axis=3)
""",
        # TF1's tf.layers.dropout drops nothing unless training= is set
        """
import tensorflow as tf
images = tf.placeholder(tf.float32, [None, 28, 28, 1])
conv = tf.layers.conv2d(images, 32, 5, activation=tf.nn.relu)
pool = tf.layers.max_pooling2d(tf.layers.dropout(conv, 0.25), 2, 2)
""",
        # A unit test
        """
import keras
def test_dropout_then_pool():
    keras.Sequential([keras.layers.Dropout(0.5), keras.layers.MaxPooling1D()])
""",
    )
    INVALID = (
        Invalid(  # Sequential list
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(32, 32, 3)),
    layers.Dropout(0.25),  # regularize
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
""",
            (7,),
            fixed="""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(32, 32, 3)),
    layers.MaxPooling2D(),
    layers.Dropout(0.25),  # regularize
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
""",
        ),
        Invalid(  # .add in a loop; GaussianDropout before global pooling
            """
from keras.models import Sequential
from keras.layers import Conv2D, Dropout, GaussianDropout, MaxPooling2D, GlobalAveragePooling2D

model = Sequential()
for filters in [32, 64]:
    model.add(Conv2D(filters, (3, 3), padding='same', activation='relu'))
    model.add(Dropout(0.25))
    model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Conv2D(128, (3, 3), activation='relu'))
model.add(GaussianDropout(0.1))
model.add(GlobalAveragePooling2D())
""",
            (8, 11),
            fixed="""
from keras.models import Sequential
from keras.layers import Conv2D, Dropout, GaussianDropout, MaxPooling2D, GlobalAveragePooling2D

model = Sequential()
for filters in [32, 64]:
    model.add(Conv2D(filters, (3, 3), padding='same', activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
model.add(Conv2D(128, (3, 3), activation='relu'))
model.add(GlobalAveragePooling2D())
model.add(GaussianDropout(0.1))
""",
        ),
        Invalid(  # functional chain in a helper block
            """
import tensorflow as tf
from tensorflow.keras import layers

def block(x, filters):
    x = layers.Conv1D(filters, 3, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.MaxPooling1D(2)(x)
    return x

inputs = tf.keras.Input((128, 8))
x = block(block(inputs, 16), 32)
""",
            (7,),
            fixed="""
import tensorflow as tf
from tensorflow.keras import layers

def block(x, filters):
    x = layers.Conv1D(filters, 3, activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Dropout(0.2)(x)
    return x

inputs = tf.keras.Input((128, 8))
x = block(block(inputs, 16), 32)
""",
        ),
        Invalid(  # nested calls
            """
from keras import Input, layers
inputs = Input((28, 28, 1))
pooled = layers.AveragePooling2D()(layers.Dropout(0.3)(layers.Conv2D(8, 3, activation="relu")(inputs)))
""",
            (4,),
            fixed="""
from keras import Input, layers
inputs = Input((28, 28, 1))
pooled = layers.Dropout(0.3)(layers.AveragePooling2D()(layers.Conv2D(8, 3, activation="relu")(inputs)))
""",
        ),
        Invalid(  # subclassed model: reported where the Dropout is created
            """
import keras

class Features(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(32, 3, activation="relu")
        self.drop = keras.layers.Dropout(0.25)
        self.pool = keras.layers.MaxPooling2D()

    def call(self, x, training=False):
        return self.pool(self.drop(self.conv(x), training=training))
""",
            (8,),
            fixed="""
import keras

class Features(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(32, 3, activation="relu")
        self.drop = keras.layers.Dropout(0.25)
        self.pool = keras.layers.MaxPooling2D()

    def call(self, x, training=False):
        return self.drop(self.pool(self.conv(x)), training=training)
""",
        ),
        Invalid(  # a noise_shape refers to the shape before pooling: no fix; TF1 layers in training mode
            """
import tensorflow as tf
from tensorflow.keras import Sequential, layers
model = Sequential([
    layers.Conv2D(16, 3, activation="relu"),
    layers.Dropout(0.5, noise_shape=(None, 1, 1, 16)),
    layers.MaxPooling2D(),
])
images = tf.placeholder(tf.float32, [None, 28, 28, 1])
conv = tf.layers.conv2d(images, 32, 5, activation=tf.nn.relu)
dropped = tf.layers.dropout(conv, rate=0.25, training=True)
pool = tf.layers.max_pooling2d(dropped, 2, 2)
""",
            (6, 11),
        ),
    )

_CONSTANT_INITIALIZERS = {
    "zeros": "zeros", "zero": "zeros", "zeros_initializer": "zeros",
    "ones": "ones", "one": "ones", "ones_initializer": "ones",
    "constant": "constant", "constant_initializer": "constant",
}
_INITIALIZER_MODULES = ("keras.initializers", "tensorflow", "tensorflow.compat.v1",
                        "tensorflow.compat.v1.initializers", "tensorflow.compat.v1.keras.initializers")


def resolve(kfile: KerasFile, expression: cst.BaseExpression) -> str | None:
    """The canonical dotted name an expression like `tf.keras.initializers.Zeros` spells."""
    if isinstance(expression, cst.Name):
        imported = kfile.imports.get(expression.value)
        return canonical(imported) if imported else None
    if isinstance(expression, cst.Attribute):
        base = resolve(kfile, expression.value)
        return canonical(f"{base}.{expression.attr.value}") if base else None
    return None


def _literal_number(node: cst.BaseExpression | None):
    if node is None:
        return 0
    try:
        value = ast.literal_eval(cst.Module([]).code_for_node(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def constant_initializer(kfile: KerasFile, layer: LayerNode, keyword: str, position: int | None) -> str | None:
    """How a layer's initializer argument is a constant: "'zeros'", "Constant(0.1)"..., or None."""
    given = layer.args.get(keyword, position)
    if given is None:
        return None
    value, node = given
    if isinstance(value, Const) and isinstance(value.value, str):
        kind = _CONSTANT_INITIALIZERS.get(value.value.lower())
        return f"'{value.value}'" if kind is not None and "_" not in value.value else None
    if not isinstance(node, cst.Call) or any(arg.star for arg in node.args):
        return None
    name = resolve(kfile, node.func)
    if name is None or name.rpartition(".")[0] not in _INITIALIZER_MODULES:
        return None
    kind = _CONSTANT_INITIALIZERS.get(name.rpartition(".")[2].lower())
    if kind is None:
        return None
    if kind == "constant":
        argument = next((a.value for a in node.args if a.keyword is None or a.keyword.value == "value"), None)
        if _literal_number(argument) is None:
            return None  # an array: a specific kernel (a fixed filter), not a symmetric start
    text = kfile.code(node)
    return text if len(text) <= 40 else f"{_last_name(node.func)}(...)"


_RECURRENT = frozenset({"LSTM", "GRU", "SimpleRNN", "ConvLSTM2D", "Bidirectional"})


def _feeds_a_layer(kfile: KerasFile, node: LayerNode) -> bool:
    """Whether every path from the layer reaches another weighted layer (Dense, convolution,
    recurrent) through layers that add no parameters of their own; False when its output is a
    model output, joins a merge (a zero-initialized residual branch) or meets unknown code."""
    outputs = kfile.output_nodes
    stack, seen = list(kfile.outputs_of(node)), {id(node)}
    if not stack or id(node) in outputs:
        return False
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if is_affine(current) or is_layer_kind(current, _RECURRENT):
            continue
        if id(current) in outputs:
            return False
        if not (is_layer_kind(current, PASS_THROUGH_LAYERS | RESHAPING_LAYERS | POOLING_LAYERS | ACTIVATION_LAYERS
                              | frozenset({"LayerNormalization", "GroupNormalization"}))
                or current.kind.startswith("op:")):
            return False
        following = kfile.outputs_of(current)
        if not following:
            return False
        stack.extend(following)
    return True



class ConstantInitializer(Rule):
    """## What it does
    Checks for a hidden Dense/convolution layer whose kernel is initialized to a constant:
    `kernel_initializer="zeros"`/`"ones"`/`"constant"`, `keras.initializers.Zeros()`/`Ones()`/
    `Constant(0.5)`, `tf.zeros_initializer()`, `tf.constant_initializer(0.1)` (and a separable
    convolution's `pointwise_initializer`). Reported at the layer.

    Not flagged, because a constant start is harmless or deliberate there:
    - the output layer, or any layer whose output is a model output: the loss gives each output
      unit a different gradient, and zero-initializing the last layer is a known trick;
    - a layer whose output joins an `Add`/`Concatenate`/... (a zero-initialized residual branch, as
      in ReZero or ControlNet's zero convolutions) or unknown code;
    - a single unit or filter (`Dense(1)`), a layer with `trainable=False` (a fixed operation),
      `Constant(array)` (a specific kernel, such as an edge filter), `bias_initializer`, a
      depthwise kernel (each channel reads its own input), and unit tests.

    ## Why is this bad?
    With the same weight everywhere, every unit of the layer computes the same output and gets
    the same gradient from a symmetric layer above: the layer starts with the capacity of a single
    unit and only noise from the layers above can pull the units apart. With zeros and a
    ReLU-family activation it is worse: the pre-activation is exactly 0, the gradient through the
    ReLU is 0, and the layer (and everything below it) never learns. Random initialization
    (Glorot, He) breaks the symmetry.

    ## Example
    ```python
    layers.Dense(64, activation="relu", kernel_initializer="zeros")
    ```

    ## Use instead
    ```python
    layers.Dense(64, activation="relu", kernel_initializer="he_normal")
    ```

    ## References
    - Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural networks"
      (2010)
    - He et al., "Delving Deep into Rectifiers" (2015)
    - Goodfellow, Bengio & Courville, "Deep Learning" (2016), section 8.4
    """

    code = "KT108"
    name = "constant-initializer"
    summary = "Hidden Dense/Conv kernel initialized to a constant (zeros, ones, Constant)"

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for node in kfile.nodes:
            if not is_affine(node, COLLAPSIBLE_LAYERS) or node.args.star:
                continue
            found = constant_initializer(kfile, node, "kernel_initializer", 3 if node.short == "Dense" else None)
            if found is None and node.short.startswith("SeparableConv"):
                found = constant_initializer(kfile, node, "pointwise_initializer", None)
            if found is None or width(node) == 1:
                continue
            trainable = node.args.value("trainable")
            if (trainable is not None and not (isinstance(trainable, Const) and trainable.value is True)) \
                    or not _feeds_a_layer(kfile, node) or node.in_test:
                continue
            yield Finding(
                node.call,
                f"the kernel of {node.short} is initialized to a constant ({found}): all its units start "
                f"identical; use a random initializer such as 'glorot_uniform' (the default) or 'he_normal'",
                node.statement,
            )

    VALID = (
        # Random initializers; constant biases
        """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu", kernel_initializer="he_normal", bias_initializer="zeros"),
    layers.Dense(10, activation="softmax"),
])
""",
        # The output layer: logistic regression, a zero-initialized head
        """
import tensorflow as tf
logreg = tf.keras.Sequential([
    tf.keras.layers.Dense(10, tf.nn.softmax, input_shape=(784,), kernel_initializer="zeros"),
])
inputs = tf.keras.Input((512,))
features = tf.keras.layers.Dense(128, activation="relu")(inputs)
head = tf.keras.Model(inputs, tf.keras.layers.Dense(50, kernel_initializer="zeros")(features))
""",
        # A zero-initialized residual branch (ReZero, zero convolutions)
        """
import keras
from keras import layers

def residual(x, filters):
    y = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    y = layers.Conv2D(filters, 3, padding="same", kernel_initializer="zeros")(y)
    return layers.Add()([x, y])

inputs = keras.Input((32, 32, 16))
model = keras.Model(inputs, layers.Dense(10)(layers.Flatten()(residual(inputs, 16))))
""",
        # One unit; a frozen layer (a fixed sum); a specific kernel (an edge filter)
        """
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers
inputs = tf.keras.Input((28, 28, 1))
edges = layers.Conv2D(2, 3, kernel_initializer=tf.keras.initializers.Constant(np.stack([np.eye(3)] * 2, -1)))(inputs)
total = layers.Dense(4, kernel_initializer="ones", use_bias=False, trainable=False)(layers.Flatten()(edges))
gate = layers.Dense(1, kernel_initializer="zeros")(total)
outputs = layers.Dense(1, activation="sigmoid")(layers.Dense(8, activation="relu")(gate))
model = tf.keras.Model(inputs, outputs)
""",
        # An initializer the linter cannot resolve; the output reaches unknown code
        """
from keras import layers
def block(x, init):
    x = layers.Dense(64, activation="relu", kernel_initializer=init)(x)
    y = layers.Dense(64, kernel_initializer="zeros")(x)
    return x + y
""",
        # A unit test
        """
import keras
def test_zeros_initializer():
    keras.Sequential([keras.layers.Dense(4, kernel_initializer="zeros"), keras.layers.Dense(1)])
""",
    )
    INVALID = (
        Invalid(  # Sequential list
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(128, activation="relu", kernel_initializer="zeros", input_shape=(20,)),
    layers.Dense(1, activation="sigmoid"),
])
""",
            (6,),
        ),
        Invalid(  # .add in a loop, an initializer object
            """
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense
from keras import initializers

model = Sequential()
for filters in [32, 64]:
    model.add(Conv2D(filters, 3, activation="relu", kernel_initializer=initializers.Ones()))
    model.add(MaxPooling2D())
model.add(Flatten())
model.add(Dense(10, activation="softmax"))
""",
            (8,),
        ),
        Invalid(  # functional chain; Constant with a scalar; the old Zeros spelling via tf.initializers
            """
import tensorflow as tf
from tensorflow.keras import layers

inputs = tf.keras.Input((32,))
x = layers.Dense(64, activation="tanh", kernel_initializer=tf.keras.initializers.Constant(0.5))(inputs)
x = layers.Dropout(0.2)(x)
x = layers.Dense(64, activation="relu", kernel_initializer=tf.initializers.zeros())(x)
outputs = layers.Dense(3, activation="softmax")(x)
model = tf.keras.Model(inputs, outputs)
""",
            (6, 8),
        ),
        Invalid(  # nested calls
            """
import keras
inputs = keras.Input((8,))
outputs = keras.layers.Dense(1)(keras.layers.Dense(16, kernel_initializer=keras.initializers.Zeros())(inputs))
""",
            (4,),
        ),
        Invalid(  # subclassed model: reported where the layer is created
            """
import tensorflow as tf

class MLP(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = tf.keras.layers.Dense(256, activation="relu", kernel_initializer="Zeros")
        self.out = tf.keras.layers.Dense(10)

    def call(self, x):
        return self.out(self.hidden(x))
""",
            (7,),
        ),
        Invalid(  # TF1 functional layers
            """
import tensorflow as tf
x = tf.placeholder(tf.float32, [None, 784])
hidden = tf.layers.dense(x, 256, tf.nn.relu, kernel_initializer=tf.zeros_initializer())
logits = tf.layers.dense(hidden, 10, kernel_initializer=tf.constant_initializer(0.1))
hidden2 = tf.layers.dense(x, 64, tf.nn.relu, True, tf.constant_initializer(0.1))
logits2 = tf.layers.dense(hidden2, 10)
""",
            (4, 6),
        ),
        Invalid(  # Keras 1's init= (kernel_initializer) spelling
            """
from keras.models import Sequential
from keras.layers import Dense
model = Sequential()
model.add(Dense(64, input_dim=8, init="zero", activation="relu"))
model.add(Dense(1, init="uniform", activation="sigmoid"))
""",
            (5,),
        ),
    )
