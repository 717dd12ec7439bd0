"""Optimizer and learning-rate rules (KT4xx)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from kerastips.ir.model import (
    CallbackValue,
    CompileCall,
    Const,
    Data,
    Hyperparameter,
    KerasFile,
    OptimizerValue,
    ScheduleValue,
    Seq,
    Value,
    model_nodes,
)
from kerastips.ir.names import (
    ADAPTIVE_OPTIMIZERS,
    ATTENTION_LAYERS,
    STRING_OPTIMIZERS,
    TRANSFORMER_BLOCKS,
)
from kerastips.edits import (
    Applicability,
    Edit,
    Fix,
    call,
    number,
    replace_argument_value,
    replace_keyword,
    with_argument,
    without_argument,
)
from kerastips.rules.base import Finding, Invalid, Option, Rule, Severity
from kerastips.rules.spelling import keras_name, schedule_callee

# Keras' default learning rates, the warmup target when the code gives none.
DEFAULT_RATES = {"SGD": 0.01, "Adagrad": 0.001, "Adadelta": 0.001, "Ftrl": 0.001}
# Optimizers whose default rate changed from standalone Keras 2 to tf.keras (Adadelta 1.0 -> 0.001):
# without a rate in the code, which one the script trains with is not known.
CHANGED_DEFAULT_RATES = frozenset({"Adadelta", "Adagrad", "Adamax", "Nadam"})


@dataclass(frozen=True)
class OptimizerUse:
    """The optimizer a compile() call trains with, as far as the code shows it."""

    name: str  # the optimizer class, e.g. "Adam"
    rate: Value | None  # its learning rate (None: the class default)
    node: cst.CSTNode  # where it is reported: the optimizer call, or compile() for a string
    statement: cst.CSTNode
    optimizer: OptimizerValue | None  # None for a string optimizer ("adam")
    string: cst.CSTNode | None  # the string's node, for a string optimizer

    @property
    def rate_argument(self) -> cst.Arg | None:
        if self.optimizer is None:
            return None
        position = _rate_position(self.optimizer)
        for index, arg in enumerate(self.optimizer.call.args):
            if (arg.keyword is not None and arg.keyword.value in ("learning_rate", "lr")) or (
                arg.keyword is None and index == position
            ):
                return arg
        return None


def resolve_optimizer(compile_call: CompileCall) -> OptimizerUse | None:
    """The optimizer of a compile call, or None when it cannot be told."""
    optimizer = compile_call.optimizer
    if isinstance(optimizer, Const) and isinstance(optimizer.value, str):
        name = STRING_OPTIMIZERS.get(optimizer.value.lower())
        if name is None:
            return None
        string = compile_call.args.get("optimizer", 0)[1]
        return OptimizerUse(name, None, compile_call.node, compile_call.context.statement, None, string)
    if isinstance(optimizer, OptimizerValue):
        if optimizer.short in _SELF_WARMING:
            return None
        rate = optimizer.args.value("learning_rate", _rate_position(optimizer)) or optimizer.args.value("lr")
        return OptimizerUse(optimizer.short, rate, optimizer.call, optimizer.statement, optimizer, None)
    return None


def _rate_position(optimizer: OptimizerValue) -> int:
    # tensorflow_addons' decoupled-weight-decay optimizers take weight_decay first.
    if optimizer.kind.startswith("tensorflow_addons.") and optimizer.short in ("AdamW", "SGDW"):
        return 1
    return 0


# Optimizers designed to need no warmup (RAdam rectifies the early variance itself).
_SELF_WARMING = frozenset({"RectifiedAdam"})


def constant_rate(rate: Value | None) -> bool:
    """A learning rate that stays the same through training: the optimizer's default, a number,
    or the number keras-tuner picks for a trial."""
    return rate is None or isinstance(rate, Hyperparameter) or (
        isinstance(rate, Const) and isinstance(rate.value, (int, float)))


def has_warmup(rate: Value | None) -> bool | None:
    """Whether a learning rate warms up: False for a constant, None when it cannot be told."""
    if constant_rate(rate):
        return False
    if isinstance(rate, ScheduleValue):
        return rate.warmup
    return None


def is_transformer(node) -> bool:
    if node.is_keras_layer:
        return node.short in ATTENTION_LAYERS
    return node.kind.startswith(("keras_nlp.", "keras_hub.")) and node.short in TRANSFORMER_BLOCKS


class MissingWarmup(Rule):
    """## What it does
    Checks for warmup-sensitive training set-ups that start at the full learning rate:

    - a model with attention or Transformer layers (`MultiHeadAttention`, keras_hub/keras_nlp
      Transformer encoders and decoders, also inside custom layers of the file) trained with an
      adaptive optimizer (Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Lion, ...);
    - a batch size of at least `batch-size-threshold` (fit's `batch_size` or the training
      dataset's `.batch(n)`), with any optimizer.

    Warmup is present when the learning rate is a schedule that warms up
    (`CosineDecay(..., warmup_steps>0)`, a schedule class whose name or body says warmup, a
    piecewise schedule that rises first) or a learning-rate callback sets it. A rate keras-tuner
    picks (`hp.Float`, `hp.Int`, `hp.Choice` among numbers) is a constant in each trial. When the
    learning rate comes from code the linter cannot read, it stays silent.

    ## Why is this bad?
    Early in training, the adaptive optimizers' second-moment estimates rest on a handful of
    gradients, and attention logits are unstable: a full learning rate then can push the model into
    a bad region it never leaves. With very large batches, the linear scaling rule only holds after
    a warmup phase (Goyal et al., 2017). Ramping the learning rate up over the first steps fixes
    both.

    ## Example
    ```python
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    ```

    ## Use instead
    ```python
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0, decay_steps=10_000, warmup_target=1e-3, warmup_steps=500
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy")
    ```

    ## Fix safety
    Unsafe: the fix changes training on purpose. It replaces the constant rate with a
    `CosineDecay` that warms up to it (`decay-steps` from the fit's epochs x steps per epoch when the
    code shows them, else the option's default). No fix is offered where a ReduceLROnPlateau
    callback trains the model: Keras cannot set a schedule's rate.

    ## References
    - Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour" (2017)
    - Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond" (2020)
    - [Keras: CosineDecay](https://keras.io/api/optimizers/learning_rate_schedules/cosine_decay/)
    """

    code = "KT401"
    name = "missing-warmup"
    summary = "Transformer or large-batch training without learning-rate warmup"
    fix_applicability = Applicability.UNSAFE
    options = {
        "batch-size-threshold": Option(1024, "Batch sizes from this size on need warmup."),
        "default-decay-steps": Option(
            10_000, "The fix's decay_steps when the code does not show epochs x steps per epoch."
        ),
        "warmup-fraction": Option(0.05, "The fix's warmup_steps, as a fraction of decay_steps."),
    }

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        threshold = self.config["batch-size-threshold"]
        for compile_call in kfile.compiles:
            resolved = resolve_optimizer(compile_call)
            if resolved is None or compile_call.context.in_test or superseded(kfile, compile_call):
                continue
            if has_warmup(resolved.rate) is not False:
                continue
            optimizer = resolved.name
            fits = kfile.fits_of(compile_call.model)
            if any(_sets_learning_rate(fit.args.value("callbacks", 5)) for fit in fits):
                continue
            reasons = []
            if optimizer in ADAPTIVE_OPTIMIZERS and any(map(is_transformer, model_nodes(compile_call.model))):
                reasons.append(f"an attention model trained with {optimizer}")
            batch = max((b for b in map(_batch_size, fits) if b is not None), default=None)
            if batch is not None and batch >= threshold:
                reasons.append(f"batch size {batch}")
            if reasons:
                yield Finding(
                    resolved.node,
                    f"{' and '.join(reasons)} starts at the full learning rate; warm it up, e.g. "
                    "keras.optimizers.schedules.CosineDecay(..., warmup_steps=...)",
                    resolved.statement,
                    self.warmup_fix(kfile, resolved, fits),
                )

    def warmup_fix(self, kfile: KerasFile, use: OptimizerUse, fits: list) -> Fix | None:
        """The constant learning rate LR becomes CosineDecay(initial_learning_rate=0.0,
        decay_steps=D, warmup_target=LR, warmup_steps=W); a string optimizer becomes an object."""
        if not constant_rate(use.rate):
            return None  # a schedule without warmup: which one to use instead is the user's call
        if use.optimizer is not None and use.optimizer.args.value("decay") is not None:
            return None  # KT404's fix turns decay= into a schedule first
        if any(_sets_learning_rate(fit.args.value("callbacks", 5), also=("ReduceLROnPlateau",)) for fit in fits):
            return None  # Keras refuses to set the rate of a schedule: the callback would fail
        decay = _total_steps(fits) or self.config["default-decay-steps"]
        warmup = max(1, round(decay * self.config["warmup-fraction"]))
        argument = use.rate_argument
        target = argument.value if argument is not None else number(DEFAULT_RATES.get(use.name, 0.001))
        callee, imports = schedule_callee(kfile, use.optimizer)
        schedule = call(callee, initial_learning_rate=number(0.0), decay_steps=number(decay),
                        warmup_target=target, warmup_steps=number(warmup))
        if use.optimizer is None:
            callee, more = keras_name(kfile, f"optimizers.{use.name}")
            optimizer = call(callee, learning_rate=schedule)
            imports += more
            edit = Edit(use.string, lambda u: optimizer, use.statement)
        elif argument is not None:
            keyword = "learning_rate" if argument.keyword is not None else None
            edit = Edit(use.node, lambda u: replace_argument_value(u, argument, schedule, keyword), use.statement)
        else:
            edit = Edit(use.node, lambda u: with_argument(u, "learning_rate", schedule), use.statement)
        return Fix(Applicability.UNSAFE, (edit,), imports)

    VALID = (
        # keras-tuner chooses among optimizers by name: which one is not known here
        """
import keras
from keras import layers

def build(hp):
    inputs = keras.Input(shape=(64, 32))
    x = layers.MultiHeadAttention(num_heads=4, key_dim=8)(inputs, inputs)
    model = keras.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(x)))
    model.compile(optimizer=hp.Choice("optimizer", ["adam", "sgd"]), loss="mse")
    return model
""",
        # Warmup through CosineDecay(warmup_steps=...)
        """
import keras
from keras import layers
inputs = keras.Input(shape=(64, 32))
x = layers.MultiHeadAttention(num_heads=4, key_dim=8)(inputs, inputs)
outputs = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x))
model = keras.Model(inputs, outputs)
schedule = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=10000, warmup_target=1e-3, warmup_steps=500)
model.compile(optimizer=keras.optimizers.AdamW(learning_rate=schedule), loss="sparse_categorical_crossentropy")
""",
        # A custom schedule that says warmup
        """
import tensorflow as tf
class WarmupThenDecay(tf.keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak, warmup_steps):
        self.peak, self.warmup_steps = peak, warmup_steps
    def __call__(self, step):
        return self.peak * tf.minimum(1.0, step / self.warmup_steps)
inputs = tf.keras.Input(shape=(16, 8))
x = tf.keras.layers.MultiHeadAttention(2, 4)(inputs, inputs)
model = tf.keras.Model(inputs, x)
model.compile(optimizer=tf.keras.optimizers.Adam(WarmupThenDecay(1e-3, 1000)), loss="mse")
""",
        # No attention, ordinary batch size
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
model.fit(x_train, y_train, batch_size=256, epochs=10, validation_split=0.1)
""",
        # Attention trained with plain SGD: the adaptive-optimizer case does not apply
        """
from tensorflow import keras
inputs = keras.Input(shape=(10, 16))
x = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
model = keras.Model(inputs, x)
model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="mse")
""",
        # The learning rate comes from code the linter cannot read
        """
from tensorflow import keras
from official.nlp import optimization
inputs = keras.Input(shape=(10, 16))
x = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
model = keras.Model(inputs, x)
lr = get_learning_rate_schedule(config)
model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
""",
        # A learning-rate scheduler callback sets the rate per epoch
        """
import tensorflow as tf
inputs = tf.keras.Input(shape=(10, 16))
x = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
model = tf.keras.Model(inputs, x)
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, validation_split=0.1,
          callbacks=[tf.keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * min(1, (epoch + 1) / 5))])
""",
        # A large batch with a rising piecewise schedule (a step warmup)
        """
import keras
lr = keras.optimizers.schedules.PiecewiseConstantDecay([500, 20000], [0.01, 0.1, 0.01])
model = keras.Sequential([keras.layers.Dense(10)])
model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9), loss="mse")
model.fit(x_train, y_train, batch_size=4096, validation_split=0.1)
""",
        # tensorflow_addons' AdamW with a warmup schedule as its second argument; RectifiedAdam
        """
import tensorflow as tf
import tensorflow_addons as tfa
inputs = tf.keras.Input((16, 8))
model = tf.keras.Model(inputs, tf.keras.layers.MultiHeadAttention(2, 8)(inputs, inputs))
warm = tf.keras.optimizers.schedules.CosineDecay(0.0, 10000, warmup_target=1e-3, warmup_steps=500)
model.compile(optimizer=tfa.optimizers.AdamW(1e-4, warm), loss="mse")
model.compile(optimizer=tfa.optimizers.RectifiedAdam(1e-3), loss="mse")
""",
        # Evaluating with a large batch is not training with one
        """
import keras
model = keras.Sequential([keras.layers.Dense(10)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x_train, y_train, batch_size=64, validation_split=0.1)
model.evaluate(x_test, y_test, batch_size=4096)
""",
    )
    INVALID = (
        Invalid(  # no fix beside ReduceLROnPlateau: Keras refuses to set a schedule's rate
            """
import keras
from keras import layers
inputs = keras.Input(shape=(64,))
x = layers.Embedding(20000, 32)(inputs)
x = layers.MultiHeadAttention(num_heads=2, key_dim=32)(x, x)
model = keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x)))
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=30, validation_split=0.2,
          callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)])
""",
            (8,),
        ),
        Invalid(  # keras-tuner picks a constant learning rate for each trial
            """
import keras_tuner as kt
from keras import Input, Model, layers, optimizers

def build(hp):
    inputs = Input(shape=(200,))
    x = layers.Embedding(30522, 256)(inputs)
    x = layers.MultiHeadAttention(key_dim=64, num_heads=4)(x, x)
    outputs = layers.Dense(28, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
    model = Model(inputs, outputs)
    rate = hp.Choice("learning_rate", values=[1e-3, 3e-4, 1e-4])
    model.compile(optimizer=optimizers.Adam(learning_rate=rate), loss="binary_crossentropy")
    return model

tuner = kt.RandomSearch(build, objective="val_loss", max_trials=10)
tuner.search(x_train, y_train, epochs=10, validation_split=0.2)
""",
            (12,),
            fixed="""
import keras_tuner as kt
from keras import Input, Model, layers, optimizers

def build(hp):
    inputs = Input(shape=(200,))
    x = layers.Embedding(30522, 256)(inputs)
    x = layers.MultiHeadAttention(key_dim=64, num_heads=4)(x, x)
    outputs = layers.Dense(28, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
    model = Model(inputs, outputs)
    rate = hp.Choice("learning_rate", values=[1e-3, 3e-4, 1e-4])
    model.compile(optimizer=optimizers.Adam(learning_rate=optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=rate, warmup_steps=500)), loss="binary_crossentropy")
    return model

tuner = kt.RandomSearch(build, objective="val_loss", max_trials=10)
tuner.search(x_train, y_train, epochs=10, validation_split=0.2)
""",
        ),
        Invalid(  # functional Transformer block, Adam object
            """
import keras
from keras import layers

inputs = keras.Input(shape=(128,), dtype="int32")
x = layers.Embedding(20000, 64)(inputs)
attn = layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
x = layers.LayerNormalization()(x + attn)
outputs = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x))
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
              loss="sparse_categorical_crossentropy")
""",
            (11,),
            fixed="""
import keras
from keras import layers

inputs = keras.Input(shape=(128,), dtype="int32")
x = layers.Embedding(20000, 64)(inputs)
attn = layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
x = layers.LayerNormalization()(x + attn)
outputs = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x))
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=1e-3, warmup_steps=500)),
              loss="sparse_categorical_crossentropy")
""",
        ),
        Invalid(  # attention inside a custom layer class, string optimizer
            """
import tensorflow as tf
from tensorflow.keras import layers

class TransformerBlock(layers.Layer):
    def __init__(self, dim, heads):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)
        self.ffn = tf.keras.Sequential([layers.Dense(dim, activation="relu"), layers.Dense(dim)])
    def call(self, x):
        return self.ffn(self.att(x, x))

model = tf.keras.Sequential([layers.Embedding(1000, 32), TransformerBlock(32, 2),
                             layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy",
              metrics=["accuracy"])
""",
            (15,),
            fixed="""
import tensorflow as tf
from tensorflow.keras import layers

class TransformerBlock(layers.Layer):
    def __init__(self, dim, heads):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)
        self.ffn = tf.keras.Sequential([layers.Dense(dim, activation="relu"), layers.Dense(dim)])
    def call(self, x):
        return self.ffn(self.att(x, x))

model = tf.keras.Sequential([layers.Embedding(1000, 32), TransformerBlock(32, 2),
                             layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=tf.keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=0.001, warmup_steps=500)), loss="binary_crossentropy",
              metrics=["accuracy"])
""",
        ),
        Invalid(  # keras_hub Transformer blocks in an .add sequence, Nadam by name
            """
import keras
import keras_hub

model = keras.Sequential()
model.add(keras_hub.layers.TokenAndPositionEmbedding(vocabulary_size=5000, sequence_length=64, embedding_dim=32))
model.add(keras_hub.layers.TransformerEncoder(intermediate_dim=64, num_heads=2))
model.add(keras.layers.GlobalAveragePooling1D())
model.add(keras.layers.Dense(1, activation="sigmoid"))
model.compile("nadam", "binary_crossentropy")
""",
            (10,),
            fixed="""
import keras
import keras_hub

model = keras.Sequential()
model.add(keras_hub.layers.TokenAndPositionEmbedding(vocabulary_size=5000, sequence_length=64, embedding_dim=32))
model.add(keras_hub.layers.TransformerEncoder(intermediate_dim=64, num_heads=2))
model.add(keras.layers.GlobalAveragePooling1D())
model.add(keras.layers.Dense(1, activation="sigmoid"))
model.compile(keras.optimizers.Nadam(learning_rate=keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=0.001, warmup_steps=500)), "binary_crossentropy")
""",
        ),
        Invalid(  # tensorflow_addons' AdamW (weight_decay first), learning rate from a config dict
            """
import tensorflow as tf
import tensorflow_addons as tfa
config = dict(learning_rate=1e-3, weight_decay=1e-4)
inputs = tf.keras.Input((16, 8))
x = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
model = tf.keras.Model(inputs, x)
opt = tfa.optimizers.AdamW(config["weight_decay"], config["learning_rate"])
model.compile(optimizer=opt, loss="mse")
""",
            (8,),
            fixed="""
import tensorflow as tf
import tensorflow_addons as tfa
config = dict(learning_rate=1e-3, weight_decay=1e-4)
inputs = tf.keras.Input((16, 8))
x = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
model = tf.keras.Model(inputs, x)
opt = tfa.optimizers.AdamW(config["weight_decay"], tf.keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=config["learning_rate"], warmup_steps=500))
model.compile(optimizer=opt, loss="mse")
""",
        ),
        Invalid(  # a wrapper model that gets its attention sub-model through __init__
            """
import keras
from keras import layers

class ViT(keras.Model):
    def __init__(self):
        super().__init__()
        self.attention = layers.MultiHeadAttention(num_heads=4, key_dim=16)
    def call(self, x):
        return self.attention(x, x)

class ViTDistilled(ViT):
    def __init__(self):
        super().__init__()
        self.dist_head = layers.Dense(10)

class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.student, self.teacher = student, teacher

distiller = Distiller(student=ViTDistilled(), teacher=teacher_model)
distiller.compile(optimizer=keras.optimizers.AdamW(weight_decay=1e-4, learning_rate=1e-3), loss="mse")
""",
            (23,),
            fixed="""
import keras
from keras import layers

class ViT(keras.Model):
    def __init__(self):
        super().__init__()
        self.attention = layers.MultiHeadAttention(num_heads=4, key_dim=16)
    def call(self, x):
        return self.attention(x, x)

class ViTDistilled(ViT):
    def __init__(self):
        super().__init__()
        self.dist_head = layers.Dense(10)

class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.student, self.teacher = student, teacher

distiller = Distiller(student=ViTDistilled(), teacher=teacher_model)
distiller.compile(optimizer=keras.optimizers.AdamW(weight_decay=1e-4, learning_rate=keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=1e-3, warmup_steps=500)), loss="mse")
""",
        ),
        Invalid(  # large batch through fit(batch_size=...), constant propagated, SGD
            """
from tensorflow import keras
BATCH_SIZE = 2048
opt = keras.optimizers.SGD(learning_rate=0.8, momentum=0.9)
model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
model.compile(optimizer=opt, loss="mse")
model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=10, validation_split=0.1)
""",
            (4,),
            fixed="""
from tensorflow import keras
BATCH_SIZE = 2048
opt = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=0.8, warmup_steps=500), momentum=0.9)
model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
model.compile(optimizer=opt, loss="mse")
model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=10, validation_split=0.1)
""",
        ),
        Invalid(  # large batch through the tf.data pipeline, a model built by a helper
            """
import tensorflow as tf

def build():
    model = tf.keras.Sequential([tf.keras.layers.Dense(10)])
    model.compile(optimizer=tf.keras.optimizers.RMSprop(1e-3), loss="mse")
    return model

train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(4096)
model = build()
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
            (6,),
            fixed="""
import tensorflow as tf

def build():
    model = tf.keras.Sequential([tf.keras.layers.Dense(10)])
    model.compile(optimizer=tf.keras.optimizers.RMSprop(tf.keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=1e-3, warmup_steps=500)), loss="mse")
    return model

train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(4096)
model = build()
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
        ),
        Invalid(  # a subclassed model with attention; a schedule that never warms up
            """
import keras

class Encoder(keras.Model):
    def __init__(self):
        super().__init__()
        self.mha = keras.layers.MultiHeadAttention(num_heads=8, key_dim=64)
        self.out = keras.layers.Dense(10)
    def call(self, x):
        return self.out(self.mha(x, x))

lr = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=1000, decay_rate=0.9)
model = Encoder()
model.compile(optimizer=keras.optimizers.AdamW(lr), loss="mse")
""",
            (14,),
        ),
    )


def optimizer_uses(kfile: KerasFile):
    """Every optimizer the file trains with or creates, once: objects (wherever made) and string
    optimizers of compile() calls."""
    for optimizer in kfile.optimizers:
        if optimizer.short not in _SELF_WARMING and not optimizer.in_test:
            rate = optimizer.args.value("learning_rate", _rate_position(optimizer)) or optimizer.args.value("lr")
            yield OptimizerUse(optimizer.short, rate, optimizer.call, optimizer.statement, optimizer, None)
    for compile_call in kfile.compiles:
        use = resolve_optimizer(compile_call)
        if use is not None and use.optimizer is None and not compile_call.context.in_test \
                and not superseded(kfile, compile_call):
            yield use


def superseded(kfile: KerasFile, compile_call: CompileCall) -> bool:
    """A compile() that a later compile() of the same model replaces before any fit() of it: its
    optimizer never trains."""
    order = compile_call.context.order
    later = [c.context.order for c in kfile.compiles_of(compile_call.model) if c.context.order > order]
    return bool(later) and not any(order < fit.context.order < min(later)
                                   for fit in kfile.fits_of(compile_call.model))


class SgdWithoutMomentum(Rule):
    """## What it does
    Checks for SGD with no momentum: `SGD(...)` without `momentum` (it defaults to 0), with
    `momentum=0`, or the string optimizer `"sgd"` (unless a later `compile()` of the same model
    replaces it before any `fit()`).

    ## Why is this bad?
    Plain SGD stalls at critical points and crawls along plateaus and ravines, where the gradient
    is small or keeps changing sign. Momentum accumulates past gradients, so the update keeps moving
    through flat regions and damps oscillations; 0.9 is the usual value. Adaptive optimizers
    (Adam, RMSprop) have it built in.

    ## Example
    ```python
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    ```

    ## Use instead
    ```python
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="categorical_crossentropy")
    ```

    ## Fix safety
    The fix sets `momentum=0.9` (and turns `"sgd"` into an `SGD(momentum=0.9)` object). It
    changes how the model trains, so it is unsafe.

    ## References
    - Sutskever, Martens, Dahl & Hinton, "On the importance of initialization and momentum in deep
      learning" (ICML 2013)
    """

    code = "KT402"
    name = "sgd-without-momentum"
    summary = "SGD with no momentum"
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for use in optimizer_uses(kfile):
            if use.name != "SGD":
                continue
            if use.optimizer is None:
                callee, imports = keras_name(kfile, "optimizers.SGD")
                replacement = call(callee, momentum=number(0.9))
                edit = Edit(use.string, lambda u, r=replacement: r, use.statement)
            else:
                momentum = use.optimizer.args.get("momentum", 1)
                if momentum is not None and not (isinstance(momentum[0], Const) and momentum[0].value == 0):
                    continue  # momentum given (or not known): fine
                argument = next((a for a in use.optimizer.call.args if a.keyword and a.keyword.value == "momentum"), None)
                if argument is not None:
                    rewrite = lambda u, a=argument: replace_keyword(u, a, "momentum", number(0.9))  # noqa: E731
                elif momentum is not None:
                    continue  # a positional momentum of 0: rare enough to leave to the user
                else:
                    rewrite = lambda u: with_argument(u, "momentum", number(0.9))  # noqa: E731
                edit, imports = Edit(use.node, rewrite, use.statement), ()
            yield Finding(use.node, "SGD without momentum: set momentum=0.9 (or use an adaptive optimizer)",
                          use.statement, Fix(Applicability.UNSAFE, (edit,), imports))

    VALID = (
        """
from tensorflow import keras
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="mse")
""",
        # A compile replaced by another before any fit: its "sgd" never trains
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, epochs=5, validation_split=0.2)
""",
        # Positional momentum
        """
import keras
opt = keras.optimizers.SGD(0.1, 0.9, nesterov=True)
""",
        # Momentum from a variable
        """
import keras
def make(momentum):
    return keras.optimizers.SGD(momentum=momentum)
""",
        # Not SGD
        """
import keras
model.compile(optimizer="adam", loss="mse")
""",
        # A unit test of the optimizer, not a training set-up
        """
import keras
class SGDTest(testing.TestCase):
    def test_single_step(self):
        optimizer = keras.optimizers.SGD(learning_rate=0.5)
""",
    )
    INVALID = (
        Invalid(
            """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
""",
            (4,),
            fixed="""
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="mse")
""",
        ),
        Invalid(  # a model compiled again after training: each compile trains
            """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, y, epochs=5, validation_split=0.2)
model.compile(optimizer="sgd", loss="mse")
model.fit(x, y, epochs=5, validation_split=0.2)
""",
            (4, 6),
            fixed="""
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="mse")
model.fit(x, y, epochs=5, validation_split=0.2)
model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="mse")
model.fit(x, y, epochs=5, validation_split=0.2)
""",
        ),
        Invalid(  # an SGD object, imported by name, used in a custom training loop
            """
from tensorflow.keras.optimizers import SGD
optimizer = SGD(learning_rate=0.05)
""",
            (3,),
            fixed="""
from tensorflow.keras.optimizers import SGD
optimizer = SGD(learning_rate=0.05, momentum=0.9)
""",
        ),
        Invalid(  # momentum=0 spelled out, tf.keras
            """
import tensorflow as tf
opt = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.0, nesterov=False)
""",
            (3,),
            fixed="""
import tensorflow as tf
opt = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=False)
""",
        ),
    )


class LearningRateOutOfRange(Rule):
    """## What it does
    Checks for a literal learning rate outside the range that works for its optimizer: above
    `adaptive-max` (0.01) for Adam, AdamW, Adamax, Nadam, RMSprop and Lion; above `sgd-max` (1.0)
    for SGD; below `min` (1e-6) for any of them.

    ## Why is this bad?
    Adaptive optimizers divide by a running gradient scale, so their steps are already about the
    size of the learning rate: far above 1e-3 they diverge or oscillate, far below they barely
    move. SGD steps scale with the gradient and tolerate larger rates, but above 1 training
    usually explodes. Adagrad, Adadelta and Ftrl are left out: their usual rates differ widely.

    ## Example
    ```python
    optimizer = keras.optimizers.Adam(learning_rate=0.1)
    ```

    ## Use instead
    ```python
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    ```

    ## References
    - Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015), default step size 1e-3
    - Bengio, "Practical recommendations for gradient-based training of deep architectures" (2012)
    """

    code = "KT403"
    name = "learning-rate-out-of-range"
    summary = "Literal learning rate outside the sane range of its optimizer"
    options = {
        "adaptive-max": Option(0.01, "Largest learning rate for Adam-like optimizers."),
        "sgd-max": Option(1.0, "Largest learning rate for SGD."),
        "min": Option(1e-6, "Smallest learning rate for any optimizer."),
    }

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for use in optimizer_uses(kfile):
            rate = use.rate
            if not (isinstance(rate, Const) and isinstance(rate.value, (int, float))) or isinstance(rate.value, bool):
                continue
            if use.name == "SGD":
                high = self.config["sgd-max"]
            elif use.name in _ADAM_LIKE:
                high = self.config["adaptive-max"]
            else:
                continue
            if rate.value > high or 0 < rate.value < self.config["min"] or rate.value <= 0:
                bound = f"above {high:g}" if rate.value > high else f"below {self.config['min']:g}"
                yield Finding(
                    use.node,
                    f"learning rate {rate.value:g} for {use.name} is {bound}: it will "
                    + ("diverge or oscillate" if rate.value > high else "barely train"),
                    use.statement,
                )

    VALID = (
        """
import keras
a = keras.optimizers.Adam(3e-4)
b = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
c = keras.optimizers.Adagrad(learning_rate=0.1)
d = keras.optimizers.Adam(learning_rate=0.01)
""",
        # Not literal
        """
import keras
def build(lr):
    return keras.optimizers.Adam(lr)
""",
        # A unit test of the optimizer
        """
import keras
def test_adam_large_step():
    optimizer = keras.optimizers.Adam(learning_rate=1.0)
""",
    )
    INVALID = (
        Invalid(
            """
from tensorflow import keras
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mse")
""",
            (3,),
        ),
        Invalid(  # a constant, SGD too large, RMSprop too small
            """
import tensorflow as tf
LR = 5.0
sgd = tf.keras.optimizers.SGD(LR, momentum=0.9)
rms = tf.keras.optimizers.RMSprop(learning_rate=1e-8)
""",
            (4, 5),
        ),
    )


def _legacy_decay(use: OptimizerUse) -> bool:
    """Keras 2's `decay=` argument, unless it is zero: the rate decays as lr / (1 + decay * step)."""
    decay = use.optimizer.args.value("decay") if use.optimizer is not None else None
    return decay is not None and not (isinstance(decay, Const) and decay.value == 0)


class NoLearningRateDecay(Rule):
    """## What it does
    Checks for long training runs (at least `epochs-threshold` epochs, 100 by default) at a
    constant learning rate: no schedule, no ReduceLROnPlateau or LearningRateScheduler callback.

    ## Why is this bad?
    Late in training, a constant learning rate keeps the parameters bouncing around a minimum
    instead of settling into it: the loss plateaus at the noise floor of the step size. Decaying the
    rate (a schedule such as CosineDecay, or ReduceLROnPlateau on the validation loss) lets the
    final epochs refine the solution.

    ## Example
    ```python
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(x, y, epochs=300, validation_split=0.2)
    ```

    ## Use instead
    ```python
    model.fit(x, y, epochs=300, validation_split=0.2,
              callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=10)])
    ```

    ## References
    - Smith, "Cyclical Learning Rates for Training Neural Networks" (2017)
    - [Keras: ReduceLROnPlateau](https://keras.io/api/callbacks/reduce_lr_on_plateau/)
    """

    code = "KT405"
    name = "no-lr-decay"
    summary = "Long training at a constant learning rate"
    options = {"epochs-threshold": Option(100, "Runs of this many epochs or more need a decay.")}

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for fit in kfile.fits:
            epochs = fit.args.value("epochs", 3)
            if not (isinstance(epochs, Const) and isinstance(epochs.value, int)) or \
                    epochs.value < self.config["epochs-threshold"] or fit.model is None or fit.context.in_test:
                continue
            compiles = [c for c in kfile.compiles_of(fit.model) if c.context.order < fit.context.order]
            uses = [resolve_optimizer(c) for c in compiles[-1:]]
            if not uses or uses[0] is None or not constant_rate(uses[0].rate):
                continue  # a schedule, or an optimizer the linter cannot read
            if _legacy_decay(uses[0]) or _sets_learning_rate(fit.args.value("callbacks", 5),
                                                               also=("ReduceLROnPlateau",)):
                continue
            yield Finding(
                fit.node,
                f"{epochs.value} epochs at a constant learning rate: decay it (a schedule, or "
                "ReduceLROnPlateau)",
                fit.context.statement,
            )

    VALID = (
        """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=200, validation_split=0.2,
          callbacks=[keras.callbacks.ReduceLROnPlateau(patience=5)])
""",
        # A schedule
        """
import keras
schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=1000, decay_rate=0.96)
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
model.fit(x, y, epochs=500)
""",
        # Short training
        """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=30)
""",
        # Callbacks the linter cannot see
        """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=300, callbacks=make_callbacks())
""",
        # Keras 2's decay= argument decays the rate at every step
        """
from keras.models import Sequential
from keras.layers import Dense
from keras.optimizers import SGD
model = Sequential([Dense(64, input_dim=8, activation="relu"), Dense(1, activation="sigmoid")])
model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.1, decay=1e-3, momentum=0.9))
model.fit(X, Y, epochs=200, batch_size=32, validation_split=0.2)
""",
    )
    INVALID = (
        Invalid(
            """
from tensorflow import keras
EPOCHS = 150
model = keras.Sequential([keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
history = model.fit(x_train, y_train, epochs=EPOCHS, validation_split=0.2,
                    callbacks=[keras.callbacks.EarlyStopping(patience=20)])
""",
            (6,),
        ),
        Invalid(  # a model built in a helper, string optimizer
            """
import keras
def build():
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile("rmsprop", "mse")
    return model
build().fit(x, y, epochs=1000, batch_size=32)
""",
            (7,),
        ),
        Invalid(  # Keras 1's nb_epoch= spelling
            """
from keras.models import Sequential
from keras.layers import Dense
model = Sequential([Dense(12, input_dim=8, activation="relu"), Dense(1, activation="sigmoid")])
model.compile(loss="binary_crossentropy", optimizer="adam")
model.fit(X, Y, nb_epoch=150, batch_size=10, validation_split=0.2)
""",
            (6,),
        ),
    )


class DeprecatedOptimizerArgument(Rule):
    """## What it does
    Checks for the `lr=` and `decay=` arguments of Keras optimizers.

    ## Why is this bad?
    `lr` was renamed `learning_rate` in TensorFlow 2, and the per-step `decay` argument was
    replaced by learning-rate schedules. Keras 3 (and `tf.keras` since TensorFlow 2.11) rejects
    both: the script stops with "Argument(s) not recognized" before training starts.

    ## Example
    ```python
    optimizer = keras.optimizers.SGD(lr=0.01, decay=1e-6, momentum=0.9)
    ```

    ## Use instead
    ```python
    optimizer = keras.optimizers.SGD(
        learning_rate=keras.optimizers.schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6),
        momentum=0.9,
    )
    ```

    ## Fix safety
    `lr=` becomes `learning_rate=`; `decay=d` becomes an `InverseTimeDecay(lr, decay_steps=1,
    decay_rate=d)` schedule, the formula the old argument applied (lr / (1 + d * step)). Both keep
    training the same: the fix is safe. No fix is offered for `decay=` where a ReduceLROnPlateau
    callback (or one the linter cannot see) trains the model, since Keras cannot set a schedule's
    rate, nor for Adadelta, Adagrad, Adamax and Nadam without a rate: their default changed between
    standalone Keras 2 and tf.keras, and which one the script runs on is not known.

    ## References
    - [Keras 3 migration: optimizers](https://keras.io/guides/migrating_to_keras_3/)
    - [Keras: InverseTimeDecay](https://keras.io/api/optimizers/learning_rate_schedules/inverse_time_decay/)
    """

    code = "KT404"
    name = "deprecated-optimizer-argument"
    summary = "Optimizer argument lr= or decay=, rejected by Keras 3"
    severity = Severity.ERROR
    fix_applicability = Applicability.SAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for optimizer in kfile.optimizers:
            found = {arg.keyword.value: arg for arg in optimizer.call.args
                     if arg.keyword is not None and arg.keyword.value in ("lr", "decay", "learning_rate")}
            if "lr" not in found and "decay" not in found:
                continue
            given = [f"{key}=" for key in ("lr", "decay") if key in found]
            yield Finding(
                optimizer.call,
                f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} rejected by Keras 3: "
                + ("use learning_rate=" if "decay" not in found else
                   "use learning_rate= with an InverseTimeDecay schedule"),
                optimizer.statement,
                self.modern_arguments(kfile, optimizer, found),
            )

    def modern_arguments(self, kfile: KerasFile, optimizer: OptimizerValue, found: dict) -> Fix | None:
        rate, decay = found.get("lr"), found.get("decay")
        if rate is not None and "learning_rate" in found:
            return None  # both spellings given: which one the user meant is theirs to say
        if decay is None:
            rewrite = lambda u: replace_keyword(u, rate, "learning_rate", rate.value)  # noqa: E731
            return Fix(Applicability.SAFE, (Edit(optimizer.call, rewrite, optimizer.statement),))
        given = optimizer.args.get("learning_rate", _rate_position(optimizer)) or optimizer.args.get("lr")
        if given is not None and not (isinstance(given[0], Const) and isinstance(given[0].value, (int, float))):
            return None  # decay on top of a schedule: no one-line equivalent
        if given is None and optimizer.short in CHANGED_DEFAULT_RATES:
            return None  # which default rate the script trains with depends on its Keras version
        if any(_sets_learning_rate(fit.args.value("callbacks", 5), also=("ReduceLROnPlateau",))
               for fit in _fits_with(kfile, optimizer)):
            return None  # Keras refuses to set the rate of a schedule: the callback would fail
        initial = given[1] if given is not None else number(DEFAULT_RATES.get(optimizer.short, 0.001))
        callee, imports = schedule_callee(kfile, optimizer, "InverseTimeDecay")
        schedule = call(callee, initial, decay_steps=number(1), decay_rate=decay.value)
        # The learning rate (positional or not; without one, decay) becomes the schedule, in place.
        index = next((i for i, arg in enumerate(optimizer.call.args) if given is not None and arg.value is given[1]),
                     list(optimizer.call.args).index(decay))

        def rewrite(updated: cst.Call) -> cst.Call:
            args = list(updated.args)
            old = args[index]
            args[index] = old.with_changes(value=schedule) if old.keyword is None else old.with_changes(
                keyword=cst.Name("learning_rate"), value=schedule)
            updated = updated.with_changes(args=args)
            return updated if old.deep_equals(decay) else without_argument(updated, decay)
        return Fix(Applicability.SAFE, (Edit(optimizer.call, rewrite, optimizer.statement),), imports)

    VALID = (
        """
from tensorflow import keras
optimizer = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
""",
        # Another library's optimizer may take lr=
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.01)
""",
        # A schedule passed as learning_rate
        """
import keras
schedule = keras.optimizers.schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6)
optimizer = keras.optimizers.SGD(learning_rate=schedule)
""",
    )
    INVALID = (
        Invalid(  # no safe fix: ReduceLROnPlateau cannot set a schedule's rate; Adadelta's default
            # rate depends on the Keras version
            """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(lr=0.1, decay=1e-4), loss="mse")
model.fit(x, y, epochs=50, validation_split=0.2, callbacks=[keras.callbacks.ReduceLROnPlateau(patience=3)])
slow = keras.optimizers.Adadelta(decay=1e-4)
""",
            (4, 6),
        ),
        Invalid(  # a positional rate becomes the schedule in place
            """
import keras
step = keras.optimizers.SGD(0.01, decay=1e-6, momentum=0.9)
""",
            (3,),
            fixed="""
import keras
step = keras.optimizers.SGD(keras.optimizers.schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6), momentum=0.9)
""",
        ),
        Invalid(
            """
from tensorflow import keras
model.compile(optimizer=keras.optimizers.Adam(lr=1e-3), loss="mse")
""",
            (3,),
            fixed="""
from tensorflow import keras
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
""",
        ),
        Invalid(  # the classic Keras 2 SGD
            """
from keras.optimizers import SGD
sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss="categorical_crossentropy", optimizer=sgd)
""",
            (3,),
            fixed="""
from keras.optimizers import SGD
from keras.optimizers.schedules import InverseTimeDecay

sgd = SGD(learning_rate=InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6), momentum=0.9, nesterov=True)
model.compile(loss="categorical_crossentropy", optimizer=sgd)
""",
        ),
        Invalid(  # tf.keras spelling, decay alone
            """
import tensorflow as tf
opt = tf.keras.optimizers.RMSprop(
    learning_rate=0.001,
    decay=1e-5,
)
""",
            (3,),
            fixed="""
import tensorflow as tf
opt = tf.keras.optimizers.RMSprop(
    learning_rate=tf.keras.optimizers.schedules.InverseTimeDecay(0.001, decay_steps=1, decay_rate=1e-5),
)
""",
        ),
        Invalid(  # both lr and learning_rate: reported, the choice left to the user
            """
import keras
opt = keras.optimizers.Adam(lr=0.01, learning_rate=0.001)
""",
            (3,),
        ),
    )


_ADAM_LIKE = frozenset({"Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Lion", "LAMB", "Lamb"})


def _fits_with(kfile: KerasFile, optimizer: OptimizerValue) -> list:
    """The fit() calls of the models compiled with this optimizer object."""
    return [fit for compiled in kfile.compiles if compiled.optimizer is optimizer
            for fit in kfile.fits_of(compiled.model)]


def _sets_learning_rate(callbacks: Value | None, also: tuple = ()) -> bool:
    """A callback that sets the learning rate (or one of the `also` kinds, or callbacks the
    linter cannot see: any of them may)."""
    if callbacks is None or (isinstance(callbacks, Const) and callbacks.value is None):
        return False
    if not isinstance(callbacks, Seq):
        return True
    return any(not isinstance(cb, CallbackValue) or cb.touches_lr or cb.kind.rsplit(".", 1)[-1] in also
               for cb in callbacks.items)


def _batch_size(fit) -> int | None:
    given = fit.args.value("batch_size", 2)
    if isinstance(given, Const) and isinstance(given.value, int) and not isinstance(given.value, bool):
        return given.value
    x = fit.args.value("x", 0)
    return x.batch if isinstance(x, Data) else None


def _total_steps(fits: list) -> int | None:
    """epochs x steps_per_epoch of a fit() that states both literally."""
    for fit in fits:
        epochs, steps = fit.args.value("epochs", 3), fit.args.value("steps_per_epoch")
        if isinstance(epochs, Const) and isinstance(steps, Const) and all(
            isinstance(v.value, int) and not isinstance(v.value, bool) and v.value > 0 for v in (epochs, steps)
        ):
            return epochs.value * steps.value
    return None


