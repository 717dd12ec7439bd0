"""Data, validation and leakage rules (KT3xx): what the model is trained, validated and
selected on."""

from __future__ import annotations

import bisect
import re
from typing import Iterator

import libcst as cst

from kerastips.ir.model import (
    TEST,
    TRAIN,
    UNKNOWN_ORIGIN,
    VALIDATION,
    CallbackValue,
    Const,
    EvaluateCall,
    FitCall,
    KerasFile,
    LayerNode,
    ModelValue,
    Preprocessing,
    Score,
    Seq,
    Split,
    data_origin,
    model_nodes,
)
from kerastips.edits import (
    Applicability,
    Edit,
    Fix,
    number,
    replace_keyword,
    with_argument,
    without_argument,
)
from kerastips.ir.extract import name_origin
from kerastips.ir.model import Data
from kerastips.rules.base import Finding, Invalid, Option, Rule, Severity

_DECISION_CALLBACKS = ("EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "BackupAndRestore")


def held_out_evaluation(kfile: KerasFile, fit: FitCall) -> bool:
    """A later evaluate() of the same model on data that is neither its training data nor the
    test set (a K-fold validation fold, x_val, data the IR cannot place)."""
    trained_on = kfile.code(fit.x[1]) if fit.x and fit.x[1] is not None else None
    for evaluation in kfile.evaluates_of(fit.model):
        if evaluation.context.order < fit.context.order:
            continue
        x = evaluation.x
        if x is None or (x[1] is not None and kfile.code(x[1]) == trained_on):
            continue
        origin = data_origin(x[0])
        if origin == VALIDATION or (evaluation.method.startswith("evaluate") and origin not in (TEST, TRAIN)):
            return True
    return False


def trains_on_arrays(fit: FitCall) -> bool:
    """Whether fit() gets arrays, the only input validation_split works with: x is known to be an
    array, or labels are passed separately (Keras refuses y with a dataset or generator)."""
    if fit.method != "fit" or fit.x is None:
        return False
    x = fit.x[0]
    if isinstance(x, Data) and x.kind in ("dataset", "generator"):
        return False
    return (isinstance(x, Data) and x.kind == "array") or fit.args.get("y", 1) is not None


def add_validation_split(fit: FitCall) -> Fix | None:
    """`validation_split=0.2` for array input (replacing a `validation_split=0` that is there)."""
    if not trains_on_arrays(fit):
        return None
    given = _keyword_argument(fit, "validation_split")
    if given is not None:
        rewrite = lambda u: replace_keyword(u, given, "validation_split", number(0.2))  # noqa: E731
    else:
        rewrite = lambda u: with_argument(u, "validation_split", number(0.2))  # noqa: E731
    return Fix(Applicability.UNSAFE, (Edit(fit.node, rewrite, fit.context.statement),))


def validation_split_instead(fit: FitCall) -> Fix | None:
    """`validation_data=(x_test, y_test)` -> `validation_split=0.2`, for array input. A
    `validation_split` already there (Keras ignores it beside validation_data) takes over, set to
    0.2 when it is zero."""
    argument = _keyword_argument(fit, "validation_data")
    if argument is None or not trains_on_arrays(fit):
        return None
    split = _keyword_argument(fit, "validation_split")
    if fit.args.get("validation_split", 6) is None:
        rewrite = lambda u: replace_keyword(u, argument, "validation_split", number(0.2))  # noqa: E731
    elif fit.validation_split is not None:
        rewrite = lambda u: without_argument(u, argument)  # noqa: E731
    elif split is not None:
        rewrite = lambda u: without_argument(  # noqa: E731
            replace_keyword(u, split, "validation_split", number(0.2)), argument)
    else:
        return None
    return Fix(Applicability.UNSAFE, (Edit(fit.node, rewrite, fit.context.statement),))


def _keyword_argument(fit: FitCall, keyword: str) -> cst.Arg | None:
    return next((a for a in fit.node.args if a.keyword is not None and a.keyword.value == keyword), None)


def update_step(kfile: KerasFile, fit: FitCall) -> bool:
    """A fit() that is one step of a larger loop rather than a training run: one epoch (Keras'
    default) of a model compiled outside the loop around it, silent (verbose=0), or on labels
    predicted by a model (a Q-learning replay, a GAN's discriminator, a text generator trained
    between samples). A model compiled afresh in the loop (a search, K folds) trains in full."""
    epochs = fit.args.value("epochs", 3 if fit.method == "fit" else 2)
    if epochs is not None and not (isinstance(epochs, Const) and epochs.value == 1):
        return False
    verbose = fit.args.value("verbose", 4 if fit.method == "fit" else 3)
    if (isinstance(verbose, Const) and verbose.value == 0) or isinstance(fit.args.value("y", 1), Score):
        return True
    loop = fit.context.loops[-1] if fit.context.loops else None
    return loop is not None and not any(loop in compiled.context.loops
                                        for compiled in kfile.compiles_of(fit.model))


def _custom_training(model: ModelValue) -> bool:
    """A Model subclass with its own train_step and no test_step (a GAN, a VAE): validation would
    run Keras' default test_step, which does not measure what its training optimizes."""
    methods = model.cls.methods if model.cls is not None else {}
    return "train_step" in methods and "test_step" not in methods


def validated_runs(kfile: KerasFile) -> list[FitCall]:
    return [fit for fit in kfile.fits if fit.validated or (fit.model and held_out_evaluation(kfile, fit))]


class MissingValidation(Rule):
    """## What it does
    Checks for training runs with no validation signal: a `fit()` with neither
    `validation_split` nor `validation_data`, and no held-out `evaluate()` of the same model
    afterwards.

    A K-fold loop that evaluates each fold's model on its validation fold counts as validated. An
    `evaluate()` on the test set does not: that is the final test, not validation. A final
    retrain on all the training data, after a validated run of the same model (the same builder
    function, the same model object, or a keras-tuner search) in the same file, is not flagged.
    Nor is a `fit()` that is a step of a larger loop rather than a training run of its own: one
    epoch of a model compiled outside the loop around it, with `verbose=0`, or on labels a model
    predicted (a Q-learning replay, a text generator trained between samples), the fit of a
    model that is also a part of another model (a GAN's discriminator), and that of a Model
    subclass with its own `train_step` but no `test_step` (validation would not measure what it
    trains).

    ## Why is this bad?
    Without a validation set you cannot tell a model that is still underfitting (high bias) from
    one that is overfitting, nor when to stop training or which hyperparameters work. The training
    loss keeps falling while the model memorizes; only held-out data shows it.

    ## Example
    ```python
    model.fit(x_train, y_train, epochs=20)
    model.evaluate(x_test, y_test)
    ```

    ## Use instead
    ```python
    model.fit(x_train, y_train, epochs=20, validation_split=0.2)
    model.evaluate(x_test, y_test)
    ```

    ## References
    - [Keras: Model.fit](https://keras.io/api/models/model_training_apis/#fit-method)
    - [Keras: training & evaluation with the built-in methods](https://keras.io/guides/training_with_built_in_methods/)
    """

    code = "KT301"
    name = "missing-validation"
    summary = "fit() with no validation data and no held-out evaluation"
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        validated = validated_runs(kfile)
        first_validated: dict = {}  # model key (None: no model) -> order of its first validated run
        for run in validated:
            key = run.model.key if run.model else None
            first_validated[key] = min(run.context.order, first_validated.get(key, run.context.order))
        validated_ids = {id(run) for run in validated}
        for fit in kfile.fits:
            if fit.model is None or fit.args.star or fit.context.in_test or id(fit) in validated_ids:
                continue
            if update_step(kfile, fit) or fit.model.component or _custom_training(fit.model):
                continue  # not a training run of its own, or one that validation would not measure
            order = fit.context.order
            if first_validated.get(fit.model.key, order) < order or (
                fit.model.kind == "tuner" and first_validated.get(None, order) < order
            ):
                continue  # the final retrain of a model validated earlier in the file
            x = fit.x[0] if fit.x else None
            kind = getattr(x, "kind", "unknown")
            advice = (
                "carve a validation dataset and pass it as validation_data"
                if kind in ("dataset", "generator")
                else "add validation_split=0.2 or validation_data=(x_val, y_val)"
            )
            yield Finding(fit.node, f"{fit.method}() without validation data: {advice}",
                          fit.context.statement, add_validation_split(fit))

    VALID = (
        """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=5, validation_split=0.1)
model.evaluate(x_test, y_test)
""",
        # tf.data input with a validation dataset
        """
import tensorflow as tf
train_ds = tf.keras.utils.image_dataset_from_directory("data", validation_split=0.2, subset="training", seed=1)
val_ds = tf.keras.utils.image_dataset_from_directory("data", validation_split=0.2, subset="validation", seed=1)
model = tf.keras.Sequential([tf.keras.layers.Rescaling(1 / 255), tf.keras.layers.Flatten(), tf.keras.layers.Dense(5)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(train_ds, validation_data=val_ds, epochs=10)
""",
        # K-fold: each fold's model is evaluated on its validation fold
        """
import numpy as np
from sklearn.model_selection import KFold
from tensorflow import keras

def build_model():
    model = keras.Sequential([keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model

X, y = np.random.rand(100, 4), np.random.rand(100)
scores = []
for train_idx, val_idx in KFold(n_splits=5).split(X):
    model = build_model()
    model.fit(X[train_idx], y[train_idx], epochs=10)
    scores.append(model.evaluate(X[val_idx], y[val_idx]))
print(np.mean(scores))
""",
        # Final retrain on all training data after a validated run of the same builder
        """
from tensorflow import keras

def make_model():
    model = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model

(x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data()
history = make_model().fit(x_train, y_train, epochs=200, validation_split=0.2)
best_epochs = 80
final = make_model()
final.fit(x_train, y_train, epochs=best_epochs)
final.evaluate(x_test, y_test)
""",
        # Held-out evaluation on a validation split made with train_test_split
        """
from sklearn.model_selection import train_test_split
import keras
x_tr, x_val, y_tr, y_val = train_test_split(x_train, y_train, test_size=0.2)
model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x_tr, y_tr, epochs=10)
model.evaluate(x_val, y_val)
""",
        # scikit-learn's fit is not Keras'
        """
from sklearn.linear_model import LogisticRegression
clf = LogisticRegression()
clf.fit(X_train, y_train)
""",
        # Arguments forwarded through **kwargs may carry the validation data
        """
from tensorflow import keras
def train(model: keras.Model, x, y, **fit_kwargs):
    model.compile(optimizer="adam", loss="mse")
    return model.fit(x, y, **fit_kwargs)
""",
        # keras-tuner search validated, then the best model retrained on everything
        """
import keras_tuner as kt
tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=10)
tuner.search(x_train, y_train, epochs=10, validation_split=0.2)
best_hp = tuner.get_best_hyperparameters(1)[0]
model = tuner.hypermodel.build(best_hp)
model.fit(x_train, y_train, epochs=10)
""",
        # A Q-learning replay: one silent epoch on targets the network predicted itself
        """
import random
import numpy as np
from keras.models import Sequential
from keras.layers import Dense

class DQNAgent:
    def __init__(self, state_size, action_size):
        self.model = Sequential([Dense(24, input_dim=state_size, activation="relu"),
                                 Dense(action_size, activation="linear")])
        self.model.compile(loss="mse", optimizer="adam")

    def replay(self, memory, batch_size):
        states, targets = [], []
        for state, action, reward, next_state, done in random.sample(memory, batch_size):
            target = self.model.predict(state)
            target[0][action] = reward if done else reward + 0.95 * np.amax(self.model.predict(next_state)[0])
            states.append(state)
            targets.append(target)
        self.model.fit(np.vstack(states), np.vstack(targets), epochs=1, verbose=0)
""",
        # A GAN: the discriminator is also part of the stacked model
        """
from keras.models import Model, Sequential
from keras.layers import Dense, Input
generator = Sequential([Dense(256, activation="relu", input_dim=100), Dense(784, activation="tanh")])
discriminator = Sequential([Dense(256, activation="relu", input_dim=784), Dense(1, activation="sigmoid")])
discriminator.compile(loss="binary_crossentropy", optimizer="adam")
noise = Input(shape=(100,))
gan = Model(noise, discriminator(generator(noise)))
gan.compile(loss="binary_crossentropy", optimizer="adam")
discriminator.fit(x_pretrain, y_pretrain, epochs=1, batch_size=128)
""",
        # Text generation: one epoch at a time, sampling text between them
        """
import keras
model = keras.Sequential([keras.layers.LSTM(128), keras.layers.Dense(len(chars), activation="softmax")])
model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
for iteration in range(60):
    model.fit(x, y, batch_size=128, epochs=1)
    print(sample(model, seed_text))
""",
        # A GAN subclass with its own train_step: Keras' default test_step cannot validate it
        """
import keras

class GAN(keras.Model):
    def __init__(self, discriminator, generator):
        super().__init__()
        self.discriminator, self.generator = discriminator, generator

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    def train_step(self, real_images):
        return {"d_loss": 0.0, "g_loss": 0.0}

gan = GAN(discriminator=discriminator, generator=generator)
gan.compile(d_optimizer=keras.optimizers.Adam(3e-4), g_optimizer=keras.optimizers.Adam(3e-4),
            loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
gan.fit(dataset, epochs=30)
""",
        # Validation from a generator function of the file (calling it returns a generator)
        """
from keras.models import Sequential
from keras.layers import Dense

def batches(samples, batch_size=32):
    while True:
        for start in range(0, len(samples), batch_size):
            yield samples[start:start + batch_size]

model = Sequential([Dense(1, input_shape=(4,))])
model.compile(loss="mse", optimizer="adam")
model.fit_generator(batches(train_samples), steps_per_epoch=100, epochs=5,
                    validation_data=batches(validation_samples), validation_steps=20)
""",
    )
    INVALID = (
        Invalid(  # evaluate() on the test set is the final test, not validation
            """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=5)
model.evaluate(x_test, y_test)
""",
            (6,),
            fixed="""
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=5, validation_split=0.2)
model.evaluate(x_test, y_test)
""",
        ),
        Invalid(  # functional model, a tf.data pipeline, fit inside a helper
            """
import tensorflow as tf
import keras

def train(model, dataset):
    model.fit(dataset, epochs=3)

inputs = keras.Input(shape=(4,))
outputs = keras.layers.Dense(1)(inputs)
model = keras.Model(inputs, outputs)
model.compile(optimizer="sgd", loss="mse")
ds = tf.data.Dataset.from_tensor_slices((features, labels)).batch(32)
train(model, ds)
""",
            (6,),
        ),
        Invalid(  # a subclassed model, fit_generator, evaluated on its own training data only
            """
import tensorflow as tf

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.out = tf.keras.layers.Dense(1)
    def call(self, x):
        return self.out(x)

net = Net()
net.compile(optimizer="adam", loss="mse")
net.fit_generator(train_gen, epochs=10)
net.evaluate(train_gen)
""",
            (13,),
        ),
        Invalid(  # one epoch (Keras' default) outside any loop is a training run; so is the
            # fit of a model that holds another (only the inner one is a component)
            """
import keras
encoder = keras.Sequential([keras.layers.Dense(32, activation="relu")])
model = keras.Sequential([encoder, keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, batch_size=32)
model.fit(x_train, y_train, epochs=1)
""",
            (6, 7),
            fixed="""
import keras
encoder = keras.Sequential([keras.layers.Dense(32, activation="relu")])
model = keras.Sequential([encoder, keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, batch_size=32, validation_split=0.2)
model.fit(x_train, y_train, epochs=1, validation_split=0.2)
""",
        ),
        Invalid(  # a model compiled afresh in each round of a loop trains in full, one epoch or not
            """
import keras
for units in (32, 64, 128):
    candidate = keras.Sequential([keras.layers.Dense(units, activation="relu"), keras.layers.Dense(10)])
    candidate.compile(optimizer="adam", loss="mse")
    candidate.fit(x_train, y_train, epochs=1)
""",
            (6,),
            fixed="""
import keras
for units in (32, 64, 128):
    candidate = keras.Sequential([keras.layers.Dense(units, activation="relu"), keras.layers.Dense(10)])
    candidate.compile(optimizer="adam", loss="mse")
    candidate.fit(x_train, y_train, epochs=1, validation_split=0.2)
""",
        ),
        Invalid(  # a custom train_step with its own test_step can be validated
            """
import keras

class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.student, self.teacher = student, teacher

    def train_step(self, data):
        return {"loss": 0.0}

    def test_step(self, data):
        return {"loss": 0.0}

distiller = Distiller(student=student, teacher=teacher)
distiller.compile(optimizer="adam", loss="mse")
distiller.fit(x_train, y_train, epochs=3)
""",
            (17,),
            fixed="""
import keras

class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.student, self.teacher = student, teacher

    def train_step(self, data):
        return {"loss": 0.0}

    def test_step(self, data):
        return {"loss": 0.0}

distiller = Distiller(student=student, teacher=teacher)
distiller.compile(optimizer="adam", loss="mse")
distiller.fit(x_train, y_train, epochs=3, validation_split=0.2)
""",
        ),
        Invalid(  # a generator function's batches: no validation_split for a generator, so no fix
            """
import keras

def batches(x, y, batch_size=32):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]

model = keras.Sequential([keras.layers.Dense(1)])
model.compile(loss="mse", optimizer="adam")
model.fit(batches(x_train, y_train), steps_per_epoch=100, epochs=5)
""",
            (11,),
        ),
        Invalid(  # validation_split=0 is no validation; a model compiled in a function
            """
from tensorflow.keras.models import load_model

def finetune(model, x_train, y_train):
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x_train, y_train, batch_size=64, epochs=3, validation_split=0.0)

finetune(load_model("base.h5"), x_train, y_train)
""",
            (6,),
            fixed="""
from tensorflow.keras.models import load_model

def finetune(model, x_train, y_train):
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x_train, y_train, batch_size=64, epochs=3, validation_split=0.2)

finetune(load_model("base.h5"), x_train, y_train)
""",
        ),
        Invalid(  # bare-name snippet
            """
model = Sequential()
model.add(Dense(12, input_dim=8, activation='relu'))
model.add(Dense(1, activation='sigmoid'))
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(X, y, epochs=150, batch_size=10)
""",
            (6,),
            fixed="""
model = Sequential()
model.add(Dense(12, input_dim=8, activation='relu'))
model.add(Dense(1, activation='sigmoid'))
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(X, y, epochs=150, batch_size=10, validation_split=0.2)
""",
        ),
    )


def _test_part(node: cst.CSTNode | None, value) -> cst.CSTNode | None:
    """The sub-expression holding the test data (`x_test` in `(x_test, y_test)`)."""
    if isinstance(value, Seq) and isinstance(node, cst.Tuple) and len(node.elements) == len(value.items):
        for element, item in zip(node.elements, value.items):
            if data_origin(item) == TEST:
                return element.value
    return node


def _selection_candidates(kfile: KerasFile) -> list[EvaluateCall]:
    """Test-set scores compared or ranked to choose among models or configurations."""
    chosen = [e for e in kfile.evaluates
              if e.selected and e.x and not e.context.in_test and data_origin(e.x[0]) == TEST]
    models = {id(e.model) for e in chosen}
    return [e for e in chosen if e.context.loops or e.context.in_callback or len(models) > 1]


def _test_monitors(fit: FitCall) -> Iterator[tuple[str, cst.CSTNode]]:
    """Decision callbacks of a fit() that monitor a metric named as computed on test data."""
    callbacks = fit.args.value("callbacks", None if fit.method == "search" else 5)
    for callback in callbacks.items if isinstance(callbacks, Seq) else []:
        if not isinstance(callback, CallbackValue):
            continue
        short = callback.kind.rsplit(".", 1)[-1]
        monitor = callback.args.get("monitor", 0 if short != "ModelCheckpoint" else 1)
        if short in _DECISION_CALLBACKS and monitor and isinstance(monitor[0], Const) and \
                isinstance(monitor[0].value, str) and name_origin(monitor[0].value) == TEST:
            yield short, monitor[1]


def _follows_validation(callback: CallbackValue) -> bool:
    """A callback that acts on a validation metric: EarlyStopping, ReduceLROnPlateau, or a
    ModelCheckpoint that keeps the best epoch (save_best_only=True), monitoring `val_*`."""
    short = callback.kind.rsplit(".", 1)[-1]
    if not (callback.keeps_best or short in ("EarlyStopping", "ReduceLROnPlateau")):
        return False
    monitor = callback.args.value("monitor", 1 if short == "ModelCheckpoint" else 0)
    return not (isinstance(monitor, Const) and isinstance(monitor.value, str) and not monitor.value.startswith("val_"))


class TestSetTuning(Rule):
    """## What it does
    Checks for test data used to make training or model-selection decisions:

    - test data passed as `validation_data` (to `fit()` or a keras-tuner `search()`), where it
      drives the `val_*` metrics that EarlyStopping, ModelCheckpoint(save_best_only),
      ReduceLROnPlateau and tuner objectives act on;
    - several models or hyperparameter settings each scored with `evaluate()`/`predict()` on test
      data, and the scores compared or ranked to pick one (a loop over configurations, or an
      epoch loop keeping the best checkpoint);
    - early stopping or checkpointing driven by a metric computed on test data: a callback that
      monitors a `test_*` metric, or a custom callback that evaluates on the test set and compares.

    Test data is the test part of a split: the second pair of `load_data()`, the test outputs of
    `train_test_split`, `tfds.load(split="test")`, a directory named test, or a variable named so
    (`x_test`, `test_ds`, ...), and anything derived from it. Validation data (`x_val`,
    `validation_split`) is not test data, nor is a validation slice carved out of the test set
    (`x_val = x_test[:5000]`: its rows are not the ones finally tested). One final `evaluate()` on
    the test set is the right use. Code inside unit tests (`test_*` functions, `TestCase` classes)
    exercises the API rather than training a model, and is not flagged.

    ## Why is this bad?
    Once the test set has chosen the model, its score is no longer an unbiased estimate of
    performance on new data: you have fitted the selection to it. Do not select models on the
    public test set; split the training set into training and validation sets, select on
    validation, and evaluate the chosen model once on the test set.

    ## Example
    ```python
    model.fit(x_train, y_train, epochs=50, validation_data=(x_test, y_test),
              callbacks=[keras.callbacks.EarlyStopping(patience=5)])
    ```

    ## Use instead
    ```python
    model.fit(x_train, y_train, epochs=50, validation_split=0.2,
              callbacks=[keras.callbacks.EarlyStopping(patience=5)])
    model.evaluate(x_test, y_test)
    ```

    ## References
    - Hastie, Tibshirani & Friedman, "The Elements of Statistical Learning", 7.2 (model selection
      vs. assessment)
    - [scikit-learn: cross-validation](https://scikit-learn.org/stable/modules/cross_validation.html)
    """

    code = "KT302"
    name = "test-set-tuning"
    summary = "Test data used for validation or model selection"
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for fit in kfile.fits:
            given = fit.validation_data
            if given is None or fit.context.in_test or data_origin(given[0]) != TEST:
                continue
            callbacks = fit.args.value("callbacks", None if fit.method == "search" else 5)
            driven = sorted({
                cb.kind.rsplit(".", 1)[-1] for cb in (callbacks.items if isinstance(callbacks, Seq) else [])
                if isinstance(cb, CallbackValue) and _follows_validation(cb)
            })
            what = "the tuner's objective" if fit.method == "search" else (
                f"{', '.join(driven)}" if driven else "the val_* metrics")
            yield Finding(
                _test_part(given[1], given[0]),
                f"test data passed as validation_data drives {what}; validate on a split of the "
                "training data (validation_split=0.2) and keep the test set for one final evaluate()",
                fit.context.statement,
                validation_split_instead(fit),
            )
        for fit in kfile.fits:
            if fit.context.in_test:
                continue
            for callback, monitor in _test_monitors(fit):
                yield Finding(
                    monitor,
                    f"{callback} monitors a metric computed on test data; monitor a validation "
                    "metric (val_loss) instead",
                    fit.context.statement,
                )
        for evaluation in _selection_candidates(kfile):
            yield Finding(
                evaluation.x[1],
                f"models are compared by {evaluation.method}() on test data to pick one; select on "
                "a validation split and evaluate only the chosen model on the test set",
                evaluation.context.statement,
            )

    VALID = (
        # One helper carves both hold-outs; its local name says "test" for either
        """
import tensorflow as tf

def split_off(dataset, fraction):
    size = int(fraction * dataset.cardinality().numpy())
    test_dataset = dataset.take(size)
    train_dataset = dataset.skip(size)
    return test_dataset, train_dataset

test_dataset, train_dataset = split_off(dataset, 0.1)
validation_dataset, train_dataset = split_off(train_dataset, 0.1)
model = tf.keras.Sequential([tf.keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(train_dataset, validation_data=validation_dataset, epochs=20,
          callbacks=[tf.keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
model.evaluate(test_dataset)
""",
        # A validation set carved out of the test set, tested on the rest
        """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_val, x_test = x_test[:5000], x_test[5000:]
y_val, y_test = y_test[:5000], y_test[5000:]
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train / 255, y_train, epochs=5, validation_data=(x_val / 255, y_val))
model.evaluate(x_test / 255, y_test)
""",
        """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_val, y_val = x_train[-10000:], y_train[-10000:]
x_train, y_train = x_train[:-10000], y_train[:-10000]
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=5, validation_data=(x_val, y_val),
          callbacks=[keras.callbacks.EarlyStopping(patience=2)])
test_loss = model.evaluate(x_test, y_test)
""",
        # Validation carved from the training split with train_test_split
        """
from sklearn.model_selection import train_test_split
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
X_tr, X_val, y_tr, y_val = train_test_split(X_train, y_train, test_size=0.2)
model.compile(optimizer="adam", loss="mse")
model.fit(X_tr, y_tr, validation_data=(X_val, y_val), epochs=10)
""",
        # Configurations compared on validation data; the winner tested once
        """
from tensorflow import keras
best, best_acc = None, 0.0
for lr in [1e-2, 1e-3, 1e-4]:
    model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, validation_split=0.2)
    _, acc = model.evaluate(x_val, y_val)
    if acc > best_acc:
        best, best_acc = model, acc
best.evaluate(x_test, y_test)
""",
        # Test scores only reported, never used to choose
        """
from tensorflow import keras
results = []
for seed in range(3):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x_train, y_train, validation_split=0.1, epochs=5)
    results.append(model.evaluate(x_test, y_test))
print(sum(results) / len(results))
""",
        # A validation half carved out of the official test set: the other half stays unseen
        """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_val, y_val = x_test[:5000], y_test[:5000]
x_test, y_test = x_test[5000:], y_test[5000:]
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=5)
model.evaluate(x_test, y_test)
""",
        # A unit-test helper, reached only from test functions
        """
from tensorflow import keras
def _check(optimizer):
    model = keras.Sequential([keras.layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(X_train, y_train, validation_data=(X_test, y_test))
def test_adam():
    _check("adam")
""",
        # Logging the test score per epoch, without acting on it; monitoring val_loss
        """
from tensorflow import keras
class TestLogger(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print("test loss", self.model.evaluate(x_test, y_test, verbose=0))
model.fit(x_train, y_train, validation_split=0.2, epochs=30,
          callbacks=[TestLogger(), keras.callbacks.ModelCheckpoint("m.keras", monitor="val_loss", save_best_only=True)])
""",
        # A K-fold loop that compares scores of validation folds
        """
from sklearn.model_selection import StratifiedKFold
best = 0
for tr, va in StratifiedKFold(5).split(X, y):
    model = build()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(X[tr], y[tr], epochs=5)
    score = model.evaluate(X[va], y[va])
    if score > best:
        best = score
""",
    )
    INVALID = (
        Invalid(
            """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=50,
          validation_data=(x_test, y_test),
          callbacks=[keras.callbacks.EarlyStopping(patience=3)])
""",
            (7,),
            fixed="""
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=50,
          validation_split=0.2,
          callbacks=[keras.callbacks.EarlyStopping(patience=3)])
""",
        ),
        Invalid(  # a validation_split beside validation_data (Keras ignores it) takes over
            """
from keras.models import Sequential
from keras.layers import Dense
from keras.callbacks import EarlyStopping
from sklearn.model_selection import train_test_split
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2)
model = Sequential([Dense(16, activation="relu", input_shape=(8,)), Dense(1, activation="sigmoid")])
model.compile(loss="binary_crossentropy", optimizer="adam")
model.fit(x_train, y_train, epochs=20, validation_split=0.25, validation_data=(x_test, y_test),
          callbacks=[EarlyStopping(monitor="val_loss", patience=3)])
model.fit(x_train, y_train, epochs=20, validation_data=(x_test, y_test), validation_split=0.0)
""",
            (9, 11),
            fixed="""
from keras.models import Sequential
from keras.layers import Dense
from keras.callbacks import EarlyStopping
from sklearn.model_selection import train_test_split
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2)
model = Sequential([Dense(16, activation="relu", input_shape=(8,)), Dense(1, activation="sigmoid")])
model.compile(loss="binary_crossentropy", optimizer="adam")
model.fit(x_train, y_train, epochs=20, validation_split=0.25,
          callbacks=[EarlyStopping(monitor="val_loss", patience=3)])
model.fit(x_train, y_train, epochs=20, validation_split=0.2)
""",
        ),
        Invalid(  # test data derived by scaling and one-hot encoding; tf.data wrapping
            """
import tensorflow as tf
from tensorflow.keras.utils import to_categorical
(train_images, train_labels), (test_images, test_labels) = tf.keras.datasets.mnist.load_data()
test_images = test_images.reshape(-1, 784).astype("float32") / 255
test_labels = to_categorical(test_labels)
test_ds = tf.data.Dataset.from_tensor_slices((test_images, test_labels)).batch(64)
model = tf.keras.Sequential([tf.keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.fit(train_images, train_labels, validation_data=test_ds, epochs=10)
""",
            (10,),
            fixed="""
import tensorflow as tf
from tensorflow.keras.utils import to_categorical
(train_images, train_labels), (test_images, test_labels) = tf.keras.datasets.mnist.load_data()
test_images = test_images.reshape(-1, 784).astype("float32") / 255
test_labels = to_categorical(test_labels)
test_ds = tf.data.Dataset.from_tensor_slices((test_images, test_labels)).batch(64)
model = tf.keras.Sequential([tf.keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.fit(train_images, train_labels, validation_split=0.2, epochs=10)
""",
        ),
        Invalid(  # train_test_split's test outputs, in a helper; a keras-tuner search
            """
from sklearn.model_selection import train_test_split
import keras_tuner as kt

X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25)

def tune(tuner):
    tuner.search(X_tr, y_tr, epochs=10, validation_data=(X_te, y_te))

tune(kt.Hyperband(build_model, objective="val_loss"))
""",
            (8,),
        ),
        Invalid(  # a hyperparameter loop picking the best configuration by test accuracy
            """
from tensorflow import keras
results = {}
for units in [32, 64, 128]:
    model = keras.Sequential([keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, validation_split=0.1)
    results[units] = model.evaluate(x_test, y_test)[1]
best_units = max(results, key=results.get)
""",
            (9,),
        ),
        Invalid(  # the best epoch kept by test accuracy, with predict() and a metric
            """
from sklearn.metrics import accuracy_score
best_acc = 0.0
for epoch in range(20):
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(X_train, y_train, epochs=1, validation_split=0.1)
    acc = accuracy_score(y_test, model.predict(X_test) > 0.5)
    if acc > best_acc:
        best_acc = acc
        model.save("best.keras")
""",
            (7,),
        ),
        Invalid(  # a custom callback logs test accuracy and EarlyStopping monitors it
            """
import tensorflow as tf

class TestAccuracy(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs["test_accuracy"] = self.model.evaluate(x_test, y_test, verbose=0)[1]

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=100, validation_split=0.1,
          callbacks=[TestAccuracy(),
                     tf.keras.callbacks.EarlyStopping(monitor="test_accuracy", patience=5)])
""",
            (11,),
        ),
        Invalid(  # a callback keeping the weights with the best test score
            """
from tensorflow import keras

class KeepBestOnTest(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.best = float("inf")
    def on_epoch_end(self, epoch, logs=None):
        loss = self.model.evaluate(X_test, Y_test, verbose=0)
        if loss < self.best:
            self.best = loss
            self.best_weights = self.model.get_weights()
""",
            (9,),
        ),
        Invalid(  # a subclassed model validated on a generator over the test directory
            """
import tensorflow as tf

class Classifier(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.flatten = tf.keras.layers.Flatten()
        self.out = tf.keras.layers.Dense(3, activation="softmax")
    def call(self, x):
        return self.out(self.flatten(x))

gen = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255)
train_flow = gen.flow_from_directory("dataset/train", target_size=(64, 64))
holdout = gen.flow_from_directory("dataset/test", target_size=(64, 64))
clf = Classifier()
clf.compile(optimizer="adam", loss="categorical_crossentropy")
clf.fit(train_flow, epochs=20, validation_data=holdout)
""",
            (17,),
        ),
        Invalid(  # load_data's test pair renamed: the data is still the test set
            """
from tensorflow import keras
(x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(num_words=20000)
x_val = keras.utils.pad_sequences(x_val, maxlen=200)
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
""",
            (6,),
            fixed="""
from tensorflow import keras
(x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(num_words=20000)
x_val = keras.utils.pad_sequences(x_val, maxlen=200)
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x_train, y_train, batch_size=32, epochs=2, validation_split=0.2)
""",
        ),
        Invalid(  # a dataset read from the test directory, whatever its variable is called
            """
import tensorflow as tf
train_ds = tf.keras.utils.image_dataset_from_directory("pets/train", image_size=(160, 160))
val_ds = tf.keras.utils.image_dataset_from_directory("pets/test", image_size=(160, 160))
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(train_ds, validation_data=val_ds, epochs=3)
""",
            (6,),
        ),
        Invalid(  # a bare-name keras-tuner snippet
            """
tuner = RandomSearch(build_model, objective="val_loss", max_trials=5)
tuner.search(X_train, y_train, epochs=5, validation_data=(X_test, y_test))
""",
            (3,),
        ),
        Invalid(  # tensorflow_datasets' test split used for validation
            """
import tensorflow_datasets as tfds
import tensorflow as tf
ds_train, ds_test = tfds.load("mnist", split=["train", "test"], as_supervised=True)
model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(ds_train.batch(128), epochs=6, validation_data=ds_test.batch(128))
""",
            (7,),
        ),
    )


# ---- KT303-KT307: what the training data is, and what is done to it ---------------------------


def _brief(kfile: KerasFile, node: cst.CSTNode | None, limit: int = 40) -> str:
    """The source of an expression on one line, shortened for a message."""
    if node is None:
        return "the data"
    text = " ".join(kfile.code(node).split())
    return f"`{text}`" if len(text) <= limit else f"`{text[:limit - 3]}...`"


def _inputs_part(value, node: cst.CSTNode | None):
    """The inputs of an `(x, y)` pair (`x_val` in `validation_data=(x_val, y_val)`), with their node
    when the pair is written out; anything else (a dataset, a generator) as it is."""
    if isinstance(value, Seq) and not value.repeated and value.items:
        if isinstance(node, (cst.Tuple, cst.List)) and len(node.elements) == len(value.items):
            return value.items[0], node.elements[0].value
        return value.items[0], None
    return value, node


def _plain_reference(node: cst.CSTNode) -> bool:
    """Names, attributes and subscripts of them: two equal spellings in one call are one value
    (a call such as `np.random.rand(8, 3)` written twice is not)."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Subscript) and any(
            isinstance(s.slice, cst.Index) and not isinstance(s.slice.value, (cst.Name, cst.Integer, cst.SimpleString))
            for s in node.slice
        ):
            return False
        node = node.value
    return isinstance(node, cst.Name)


def _same_expression(kfile: KerasFile, a: cst.CSTNode, b: cst.CSTNode) -> bool:
    return _plain_reference(a) and _plain_reference(b) and \
        "".join(kfile.code(a).split()) == "".join(kfile.code(b).split())


def _held_out_test_data(kfile: KerasFile) -> list[Data]:
    """The test set as the file tests or validates on it, when its split is known from the code's
    structure (load_data's second pair, a test directory): that lineage is the test rows alone."""
    found = [e.x[0] for e in kfile.evaluates if e.x]
    found += [_inputs_part(*fit.validation_data)[0] for fit in kfile.fits if fit.validation_data]
    return [d for d in found if isinstance(d, Data) and d.origin == TEST and d.strong]


def _trains_on_test(x, held_out: dict) -> bool:
    """The training inputs are test data, or were built from the whole test set (concatenated to
    the training data, then renamed or sliced so that the name no longer says test). `held_out`
    is _by_a_root of the test sets."""
    if data_origin(x) == TEST:
        return True
    return isinstance(x, Data) and any(
        t.roots < x.roots for root in (*x.roots, None) for t in held_out.get(root, ())
    )


def _by_a_root(data: list[Data]) -> dict:
    """Data sets by one of their lineage roots (None: by none): data built from all of a set's
    roots holds that one, so only the sets filed under its own roots need a look."""
    filed: dict = {}
    for each in data:
        filed.setdefault(next(iter(each.roots), None), []).append(each)
    return filed


def _validates_on_training_data(kfile: KerasFile, fit: FitCall) -> bool:
    """validation_data's inputs are fit's own inputs: the same value, the same spelling, or the
    arrays that fit's `datagen.flow(x, y)` draws from."""
    if fit.validation_data is None or fit.x is None:
        return False
    val, val_node = _inputs_part(*fit.validation_data)
    x, x_node = fit.x
    if isinstance(x, Data) and val is x:
        return True
    if val_node is None or x_node is None:
        return False
    if _same_expression(kfile, val_node, x_node):
        return True
    if isinstance(x_node, cst.Call) and isinstance(x_node.func, cst.Attribute) \
            and x_node.func.attr.value == "flow" and x_node.args and x_node.args[0].keyword is None:
        return _same_expression(kfile, val_node, x_node.args[0].value)
    return False


class TrainTestOverlap(Rule):
    """## What it does
    Checks for training runs whose data overlaps the data they are judged on:

    - `fit()` (or a keras-tuner `search()`) trained on test data: `fit(x_test, y_test)`, or
      training inputs built from the test set (`np.concatenate([x_train, x_test])`, also when the
      result is renamed `x_train` or sliced afterwards);
    - `validation_data` that is the training data itself (`fit(x_train, y_train,
      validation_data=(x_train, y_train))`, or the arrays a `datagen.flow(x_train, ...)` draws from).

    Test data is the test part of a split: the second pair of `load_data()`, the test outputs of
    `train_test_split`, `tfds.load(split="test")`, a directory named test, or a variable named so
    (`x_test`, `test_ds`, ...), and anything derived from it. Data merged and then split again
    (`X = np.concatenate([x_train, x_test])` followed by `train_test_split(X)`) is a fresh split,
    not test data. Validation slices of the training data (`x_train[-5000:]` next to
    `x_train[:-5000]`) are held out, not the training data itself. Code inside unit tests
    (`test_*` functions, `TestCase` classes) is not flagged.

    ## Why is this bad?
    The test set estimates how the model does on data it has never seen; once the model has been
    trained on it, the test score only says how well it memorized. Validating on the training
    data has the same flaw one step earlier: the `val_*` metrics track the training loss, so
    they never show overfitting, and EarlyStopping or checkpoints driven by them pick the most
    overfitted epoch. Split the training set into training and validation sets, and keep the test
    set for one final evaluation.

    ## Example
    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    model.fit(x_train, y_train, validation_data=(x_train, y_train), epochs=10)
    model.fit(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]), epochs=10)
    ```

    ## Use instead
    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    model.fit(x_train, y_train, validation_split=0.2, epochs=10)
    model.evaluate(x_test, y_test)
    ```

    ## Fix safety
    Validation on the training data is replaced with `validation_split=0.2` when `x` is an
    array. The model then trains on 80% of the data and reports other metrics: the fix is
    unsafe. Training on test data gets no fix: which rows to drop is the author's decision.

    ## References
    - Course notes on training deep networks: split the training set into training and validation
      sets; the public test set is only for the final score
    - Hastie, Tibshirani & Friedman, "The Elements of Statistical Learning", 7.2 (model selection
      vs. assessment)
    - [Keras: Model.fit](https://keras.io/api/models/model_training_apis/#fit-method)
    """

    code = "KT303"
    name = "train-test-overlap"
    summary = "Training on test data, or validating on the training data itself"
    severity = Severity.ERROR
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        held_out = _by_a_root(_held_out_test_data(kfile))
        for fit in kfile.fits:
            if fit.context.in_test or fit.x is None:
                continue
            x, node = fit.x
            if _trains_on_test(x, held_out):
                yield Finding(
                    fit.node,
                    f"{fit.method}() trains on test data ({_brief(kfile, node)}): its test score no "
                    "longer estimates performance on unseen data; train on the training split only "
                    "and keep the test set for the final evaluate()",
                    fit.context.statement,
                )
            elif _validates_on_training_data(kfile, fit):
                shown = _inputs_part(*fit.validation_data)[1] or fit.validation_data[1]
                yield Finding(
                    fit.node,
                    f"validation_data is the training data itself ({_brief(kfile, shown)}): the "
                    "val_* metrics then track the training loss and never show overfitting; "
                    "validate on held-out data (validation_split=0.2)",
                    fit.context.statement,
                    validation_split_instead(fit),
                )

    VALID = (
        """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train / 255, y_train, validation_split=0.1, epochs=5)
model.evaluate(x_test / 255, y_test)
""",
        # Validation slices carved from the training arrays: held out, not the training data
        """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_val, y_val = x_train[-5000:], y_train[-5000:]
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train[:-5000], y_train[:-5000], validation_data=(x_train[-5000:], y_train[-5000:]))
model.fit(x_train[:-5000], y_train[:-5000], validation_data=(x_val, y_val))
""",
        # Official train and test merged, then split again: a fresh split
        """
import numpy as np
from sklearn.model_selection import train_test_split
from tensorflow import keras
(a_x, a_y), (b_x, b_y) = keras.datasets.cifar10.load_data()
X = np.concatenate([a_x, b_x]) / 255.0
y = np.concatenate([a_y, b_y])
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(X_train, y_train, validation_split=0.1)
model.evaluate(X_test, y_test)
""",
        # Training data augmented by concatenation; the test part of the same split untouched
        """
import numpy as np
from sklearn.model_selection import train_test_split
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
X_train = np.concatenate([X_train, X_train[:, ::-1]])
y_train = np.concatenate([y_train, y_train])
model.compile(optimizer="adam", loss="mse")
model.fit(X_train, y_train, validation_split=0.2)
model.evaluate(X_test, y_test)
""",
        # A K-fold loop: the held-out fold is named test but is a validation fold
        """
from sklearn.model_selection import KFold
for train_index, test_index in KFold(5).split(X):
    model = build_model()
    model.fit(X[train_index], y[train_index], validation_data=(X[test_index], y[test_index]))
""",
        # Two different random draws spelled alike are not one array
        """
import numpy as np
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.rand(64, 3), np.random.rand(64), validation_data=(np.random.rand(64, 3), np.random.rand(64)))
""",
        # A unit test exercising fit() on whatever arrays are at hand
        """
import numpy as np
import keras
class FitTest(keras.testing.TestCase):
    def test_fit(self):
        x_test = np.ones((4, 2))
        model = keras.Sequential([keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x_test, x_test, validation_data=(x_test, x_test))
""",
    )
    INVALID = (
        Invalid(  # validating on the training arrays
            """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784) / 255.0
model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=10, validation_data=(x_train, y_train))
""",
            (7,),
            fixed="""
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784) / 255.0
model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=10, validation_split=0.2)
""",
        ),
        Invalid(  # training on the test outputs of train_test_split, in a helper
            """
import keras
from sklearn.model_selection import train_test_split
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25)

def train(model, x, y):
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=20, validation_split=0.2)

train(build_model(), X_te, y_te)
""",
            (8,),
        ),
        Invalid(  # the test set concatenated into the training data, then renamed
            """
import numpy as np
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
x_train = np.concatenate([x_train[:45000], x_test]) / 255.0
y_train = np.concatenate([y_train[:45000], y_test])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=30, validation_split=0.1)
model.evaluate(x_test / 255.0, y_test)
""",
            (8,),
        ),
        Invalid(  # tf.data: tensorflow_datasets' test split concatenated into the training pipeline
            """
import tensorflow as tf
import tensorflow_datasets as tfds
train_ds, test_ds = tfds.load("mnist", split=["train", "test"], as_supervised=True)
full_ds = train_ds.concatenate(test_ds).shuffle(10000).batch(64)
model = tf.keras.Sequential([tf.keras.layers.Rescaling(1 / 255), tf.keras.layers.Flatten(),
                             tf.keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(full_ds, epochs=3)
""",
            (9,),
        ),
        Invalid(  # a generator over the training arrays, validated on those arrays
            """
from tensorflow.keras.preprocessing.image import ImageDataGenerator
datagen = ImageDataGenerator(rotation_range=10, rescale=1 / 255)
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.fit(datagen.flow(X_train, Y_train, batch_size=64), epochs=20,
          validation_data=(X_train, Y_train))
""",
            (5,),
        ),
        Invalid(  # a tf.data pipeline validated on itself
            """
import tensorflow as tf
train_ds = tf.keras.utils.image_dataset_from_directory("flowers", validation_split=0.2, subset="training", seed=1)
model = tf.keras.Sequential([tf.keras.layers.Rescaling(1 / 255), tf.keras.layers.Flatten(),
                             tf.keras.layers.Dense(5)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(train_ds, validation_data=train_ds, epochs=10)
""",
            (7,),
        ),
        Invalid(  # a K-fold loop validating on the training fold
            """
from sklearn.model_selection import KFold
import keras
for tr, va in KFold(5, shuffle=True).split(X):
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(X[tr], y[tr], validation_data=(X[tr], y[tr]), epochs=30)
    model.evaluate(X[va], y[va])
""",
            (7,),
            fixed="""
from sklearn.model_selection import KFold
import keras
for tr, va in KFold(5, shuffle=True).split(X):
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(X[tr], y[tr], validation_split=0.2, epochs=30)
    model.evaluate(X[va], y[va])
""",
        ),
        Invalid(  # a bare-name snippet validating on its own inputs
            """
model = Sequential()
model.add(Dense(12, input_dim=8, activation="relu"))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam")
model.fit(X, Y, validation_data=(X, Y), epochs=150, batch_size=10)
""",
            (6,),
            fixed="""
model = Sequential()
model.add(Dense(12, input_dim=8, activation="relu"))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam")
model.fit(X, Y, validation_split=0.2, epochs=150, batch_size=10)
""",
        ),
    )


# Preprocessors that learn statistics or a vocabulary from the data they are fitted on. Encoders of
# labels or categories (LabelEncoder, OneHotEncoder), stateless transforms (Normalizer,
# PolynomialFeatures, HashingVectorizer) and lookup layers learn nothing that leaks.
_LEARNS_STATISTICS = frozenset({
    "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "QuantileTransformer",
    "PowerTransformer", "KBinsDiscretizer", "TargetEncoder", "KernelCenterer",
    "PCA", "IncrementalPCA", "KernelPCA", "SparsePCA", "TruncatedSVD", "FastICA", "NMF",
    "FactorAnalysis", "DictionaryLearning", "LatentDirichletAllocation",
    "SimpleImputer", "KNNImputer", "IterativeImputer", "Imputer",  # Imputer: before scikit-learn 0.22
    "Normalization", "Discretization",
})
_LEARNS_VOCABULARY = frozenset({"Tokenizer", "TextVectorization", "CountVectorizer",
                                "TfidfVectorizer", "TfidfTransformer"})


class _Splits:
    """The file's splits indexed by the lineage roots of the data they split, and its
    preprocessors' latest fits on training data, so each question below costs a few lookups
    instead of a pass over every split and every fit."""

    def __init__(self, kfile: KerasFile) -> None:
        self.earliest: dict = {}  # root -> the order of the first split of data with that root
        self.by_root: dict = {}  # root -> (order, position, split) of the splits outside tests
        self.orders: dict = {}  # root -> the orders of by_root[root], for bisect
        for position, split in enumerate(kfile.splits):
            order = split.context.order
            for root in {root for data in split.data for root in data.roots}:
                self.earliest[root] = min(order, self.earliest.get(root, order))
                if not split.context.in_test:
                    self.by_root.setdefault(root, []).append((order, position, split))
        for root, entries in self.by_root.items():
            entries.sort(key=lambda entry: entry[:2])
            self.orders[root] = [entry[0] for entry in entries]
        self.refits: dict = {}  # id(preprocessor) -> the order of its last fit on a training split
        for other in kfile.preprocessings:
            if other.data.origin == TRAIN:
                key = id(other.preprocessor)
                self.refits[key] = max(other.context.order, self.refits.get(key, other.context.order))

    def whole_data(self, prep: Preprocessing) -> bool:
        """The fitted data is a whole data set, not already the training part of a split: its
        split is unknown, or only its name says train (`x_train = pd.read_csv("train.csv")`, later
        split into train and test) while no earlier split of its lineage and no structure
        (load_data's first pair, a training directory) made it one."""
        data = prep.data
        if data.origin == UNKNOWN_ORIGIN:
            return True
        order = prep.context.order
        return data.origin == TRAIN and not data.strong and not any(
            self.earliest.get(root, order) < order for root in data.roots
        )

    def later(self, prep: Preprocessing) -> Split | None:
        """The first split, after the preprocessor was fitted, of data that shares its lineage."""
        order = prep.context.order
        first = None
        for root in prep.data.roots:
            entries = self.by_root.get(root, ())
            at = bisect.bisect_right(self.orders.get(root, ()), order)
            if at < len(entries) and (first is None or entries[at][:2] < first[:2]):
                first = entries[at]
        return first[2] if first is not None else None

    def refitted_after(self, prep: Preprocessing, split: Split) -> bool:
        """The same preprocessor fitted again on a training split after the split: that fit wins."""
        return self.refits.get(id(prep.preprocessor), split.context.order) > split.context.order


class PreprocessingBeforeSplit(Rule):
    """## What it does
    Checks for preprocessors fitted on the whole data set before it is split into training and
    held-out parts: a scikit-learn scaler, imputer, PCA or text vectorizer (`fit()`,
    `fit_transform()`), a Keras `Normalization`, `Discretization` or `TextVectorization` layer
    (`adapt()`), or a Keras `Tokenizer` (`fit_on_texts()`), whose data is later split by
    `train_test_split()`, a cross-validation splitter (`KFold(...).split(X)`) or by slicing rows off
    under a held-out name (`train, test = data[:n], data[n:]`, `test_df = df.iloc[n:]`), directly
    or through anything computed from it.

    Fitting on data that is already a training split (`scaler.fit(x_train)`, the training fold
    inside a K-fold loop) is the right way and is not flagged, nor are preprocessors that learn
    nothing from the feature distribution (LabelEncoder, OneHotEncoder, Normalizer,
    PolynomialFeatures, StringLookup), nor a preprocessor fitted again on the training part after
    the split. Code inside unit tests is not flagged.

    ## Why is this bad?
    The statistics the preprocessor learns (means and variances, min and max, principal
    components, a vocabulary and its frequencies) then include the test rows: information from
    the held-out data leaks into the features the model trains on, and the test score is
    optimistic. Normalize features with statistics of the training split only, and apply that
    same transformation to the validation and test data.

    ## Example
    ```python
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
    ```

    ## Use instead
    ```python
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    ```

    ## References
    - Course notes on training deep networks: feature normalization, and the split into
      training, validation and test sets
    - [scikit-learn: common pitfalls, data leakage](https://scikit-learn.org/stable/common_pitfalls.html#data-leakage)
    - Kaufman et al., "Leakage in Data Mining: Formulation, Detection, and Avoidance" (KDD 2011)
    """

    code = "KT304"
    name = "preprocessing-before-split"
    summary = "Preprocessor fitted on data that is split into train/test afterwards"

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        if not kfile.preprocessings or not kfile.splits:
            return
        splits = _Splits(kfile)
        for prep in kfile.preprocessings:
            if prep.context.in_test or not splits.whole_data(prep):
                continue
            kind = "Tokenizer" if prep.method == "fit_on_texts" else prep.kind
            if kind not in _LEARNS_STATISTICS | _LEARNS_VOCABULARY:
                continue
            split = splits.later(prep)
            if split is None or splits.refitted_after(prep, split):
                continue
            learns = "vocabulary" if kind in _LEARNS_VOCABULARY else "statistics"
            yield Finding(
                prep.node,
                f"{kind}.{prep.method}() learns its {learns} from {_brief(kfile, _fitted_node(prep))} "
                f"before {split.name} splits it: the held-out part leaks into training; split "
                "first, fit on the training part, then transform every part",
                prep.context.statement,
            )

    VALID = (
        # Rows sliced into train and test first, the scaler fitted on the training rows; columns
        # selected with a full slice are no split
        """
import numpy as np
import keras
from sklearn.preprocessing import MinMaxScaler
dataset = np.loadtxt("series.csv", delimiter=",")
features, target = dataset[:, :-1], dataset[:, -1]
n = int(len(features) * 0.8)
train, test = features[:n], features[n:]
scaler = MinMaxScaler().fit(train)
train, test = scaler.transform(train), scaler.transform(test)
""",
        # Data built in the file, split first, the scaler fitted on the training part
        """
import numpy as np
import keras
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
X = np.array([[float(v) for v in line.split(",")] for line in open("data.csv")])
X_train, X_test = train_test_split(X, test_size=0.2)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
""",
        """
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
import keras
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
""",
        # A K-fold loop fitting the scaler on each training fold
        """
import numpy as np
from sklearn.model_selection import KFold
from sklearn.preprocessing import MinMaxScaler
import keras
X = np.load("features.npy")
for tr, va in KFold(5).split(X):
    scaler = MinMaxScaler()
    x_tr = scaler.fit_transform(X[tr])
    x_va = scaler.transform(X[va])
""",
        # Labels encoded on the whole set: no statistics of the features leak
        """
import pandas as pd
from sklearn.preprocessing import LabelEncoder
from sklearn.model_selection import train_test_split
import keras
df = pd.read_csv("data.csv")
y = LabelEncoder().fit_transform(df["label"])
X_train, X_test, y_train, y_test = train_test_split(df.drop(columns="label"), y)
""",
        # A Normalization layer adapted on the training split only (tf.data afterwards)
        """
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split
features = np.load("x.npy")
x_train, x_test = train_test_split(features, test_size=0.2)
norm = tf.keras.layers.Normalization()
norm.adapt(x_train)
""",
        # Exploratory scaling on everything, then the scaler refitted on the training part
        """
import pandas as pd
from sklearn.preprocessing import StandardScaler
from sklearn.model_selection import train_test_split
import keras
X = pd.read_csv("x.csv").values
scaler = StandardScaler()
print(scaler.fit_transform(X).std())
X_train, X_test = train_test_split(X)
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)
""",
        # Scaled data never split (a separate test file is loaded)
        """
import pandas as pd
from sklearn.preprocessing import StandardScaler
import keras
X = pd.read_csv("train.csv").values
X = StandardScaler().fit_transform(X)
model.fit(X, y, validation_split=0.2)
""",
    )
    INVALID = (
        Invalid(
            """
import pandas as pd
from sklearn.preprocessing import StandardScaler
from sklearn.model_selection import train_test_split
import keras
df = pd.read_csv("data.csv")
X = df.drop(columns="target").values
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, df["target"], test_size=0.2)
""",
            (8,),
        ),
        Invalid(  # the scaler fitted in one statement, the raw data split later
            """
import numpy as np
from sklearn import preprocessing, model_selection
import keras
data = np.loadtxt("data.csv", delimiter=",")
scaler = preprocessing.MinMaxScaler(feature_range=(0, 1))
scaler.fit(data)
train, test = model_selection.train_test_split(data, test_size=0.3)
train = scaler.transform(train)
""",
            (7,),
        ),
        Invalid(  # a K-fold loop over data standardized as a whole
            """
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from tensorflow import keras
X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)
for tr, va in StratifiedKFold(5, shuffle=True).split(X, y):
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X[tr], y[tr], validation_data=(X[va], y[va]))
""",
            (7,),
        ),
        Invalid(  # a Keras Tokenizer fitted on every text, in a helper
            """
import pandas as pd
from sklearn.model_selection import train_test_split
from tensorflow.keras.preprocessing.text import Tokenizer

def encode(texts):
    tokenizer = Tokenizer(num_words=10000)
    tokenizer.fit_on_texts(texts)
    return tokenizer.texts_to_sequences(texts)

df = pd.read_csv("reviews.csv")
sequences = encode(df["text"])
x_train, x_test, y_train, y_test = train_test_split(sequences, df["label"])
""",
            (8,),
        ),
        Invalid(  # a series scaled whole, then sliced into train and test rows
            """
import numpy as np
import pandas as pd
import keras
from sklearn.preprocessing import MinMaxScaler
dataset = pd.read_csv("power.csv").Global_active_power.values.reshape(-1, 1)
scaler = MinMaxScaler(feature_range=(0, 1))
dataset = scaler.fit_transform(dataset)
train_size = int(len(dataset) * 0.8)
train, test = dataset[0:train_size, :], dataset[train_size:len(dataset), :]
prices = pd.read_csv("prices.csv")
prices[["Close"]] = MinMaxScaler().fit_transform(prices[["Close"]])
test_data = prices.iloc[int(len(prices) * 0.8):]
""",
            (8, 12),
        ),
        Invalid(  # data built in the file (np.array of parsed rows, a DataFrame)
            """
import numpy as np
import pandas as pd
import keras
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
rows = [line.split(",") for line in open("data.csv")]
X = np.array([r[:-1] for r in rows], dtype=float)
y = np.array([r[-1] for r in rows], dtype=float)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
frame = pd.DataFrame(np.random.rand(100, 4), columns=list("abcd"))
features = StandardScaler().fit_transform(frame[["a", "b", "c"]])
f_train, f_test, t_train, t_test = train_test_split(features, frame["d"], test_size=0.2)
""",
            (10, 13),
        ),
        Invalid(  # scikit-learn's Imputer (before 0.22) fitted on a column, then the split
            """
import keras
import pandas as pd
from sklearn.preprocessing import Imputer
from sklearn.model_selection import train_test_split
train = pd.read_csv("train.csv")
X = train.iloc[:, [2, 4, 5]].values
y = train.iloc[:, 1].values
imputer = Imputer(missing_values="NaN", strategy="mean", axis=0)
imputer = imputer.fit(X[:, 2:3])
X[:, 2:3] = imputer.transform(X[:, 2:3])
train_X, test_X, train_y, test_y = train_test_split(X, y, test_size=0.2)
""",
            (10,),
        ),
        Invalid(  # a Tokenizer used without its import (a snippet)
            """
import pandas as pd
import tensorflow as tf
df = pd.read_csv("reviews.csv")
tokenizer = Tokenizer(num_words=1000)
tokenizer.fit_on_texts(df["text"])
X = tf.keras.utils.pad_sequences(tokenizer.texts_to_sequences(df["text"]), maxlen=150)
X_train, X_test, y_train, y_test = train_test_split(X, df["label"], test_size=0.2)
""",
            (6,),
        ),
        Invalid(  # Normalization.adapt on the whole array, then a split
            """
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split
features = np.load("x.npy")
normalizer = tf.keras.layers.Normalization(axis=-1)
normalizer.adapt(features)
x_train, x_test = train_test_split(features, test_size=0.2)
""",
            (7,),
        ),
        Invalid(  # TextVectorization.adapt on every sentence
            """
import pandas as pd
from tensorflow.keras import layers
from sklearn.model_selection import train_test_split
sentences = pd.read_csv("sms.csv")["text"]
vectorize = layers.TextVectorization(max_tokens=20000, output_sequence_length=100)
vectorize.adapt(sentences)
x_train, x_val = train_test_split(sentences, test_size=0.2, random_state=1)
""",
            (7,),
        ),
    )


def _fitted_node(prep: Preprocessing) -> cst.CSTNode | None:
    args = prep.node.args
    return args[0].value if args else None


# Layers of sequence models: with them, the order of the samples may be the point (stateful RNNs,
# windows of a series), so shuffle=False is left alone.
_SEQUENCE_LAYERS = frozenset({
    "LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "TimeDistributed", "ConvLSTM1D",
    "ConvLSTM2D", "ConvLSTM3D", "CuDNNLSTM", "CuDNNGRU", "LSTMCell", "GRUCell", "SimpleRNNCell",
    "Conv1D", "SeparableConv1D", "DepthwiseConv1D", "Conv1DTranspose", "LocallyConnected1D",
    "MaxPooling1D", "AveragePooling1D", "MaxPool1D", "AvgPool1D",
    "MultiHeadAttention", "GroupedQueryAttention", "Attention", "AdditiveAttention",
})
# Words that say the data is ordered in time, anywhere in the file...
_TIME_WORDS = frozenset({"lag", "lags", "lagged", "forecast", "forecasts", "forecasting", "horizon",
                         "window", "windows", "windowed", "stateful", "stock", "stocks", "ohlc",
                         "ticker", "sensor", "sensors", "temporal", "timeseries"})
_TIME_PHRASES = re.compile(
    r"time[\W_]*series|look[\W_]*back|time[\W_]*steps?\b|\bn[\W_]*steps\b|\bn[\W_]*(?:past|future)\b"
    r"|seq(?:uence)?[\W_]*len(?:gth)?\b|to_datetime|parse_dates",
    re.I,
)
# ... or in the names of the inputs themselves.
_SEQUENCE_NAMES = frozenset({"seq", "seqs", "sequence", "sequences", "series", "ts", "steps"})
_NAME_TOKENS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def _tokens(text: str) -> set[str]:
    return {token.lower() for token in _NAME_TOKENS.findall(text)}


def _may_be_sequence_model(kfile: KerasFile, model: ModelValue | None) -> bool:
    """Whether the model has sequence layers, or layers the linter cannot see (then it may)."""
    nodes = model_nodes(model) if model is not None else []
    if model is None or model.kind not in ("sequential", "functional", "subclass") or not nodes:
        return True
    for node in nodes:
        if node.kind.startswith("user:") or (node.is_keras_layer and node.short in _SEQUENCE_LAYERS):
            return True
        if not node.is_keras_layer and node.kind not in ("input", "opaque") and not node.kind.startswith("op:"):
            return True  # keras_nlp / keras_hub blocks
        if _unseen_layer(kfile, model, node):
            return True
    return False


def _unseen_layer(kfile: KerasFile, model: ModelValue, node: LayerNode) -> bool:
    """A layer the linter cannot see: an unknown object added to a Sequential model (a loaded
    model's layers, a hub layer), or a sub-model called on the inputs of a functional one. Tensor
    operations (`x + y`) are opaque too, but are not layers."""
    if node.kind != "opaque":
        return False
    call = node.call
    if call is model.node or (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                              and call.func.attr.value == "add"):
        return True
    return not kfile.inputs_of(node)


def _full_batch(kfile: KerasFile, fit: FitCall) -> bool:
    """`batch_size=len(x)` or `x.shape[0]`: one batch per epoch, whose order does not matter."""
    given = fit.args.get("batch_size", 2)
    return given is not None and given[1] is not None and bool(
        re.search(r"\blen\(|shape\[0\]", kfile.code(given[1])))


class ShuffleDisabled(Rule):
    """## What it does
    Checks for `fit(..., shuffle=False)` on array data that is not a time series.

    The rule stays silent whenever the order of the samples may matter: a model with recurrent,
    1-D convolution or attention layers (or layers the linter cannot see: a loaded model, a custom
    layer), inputs named like sequences (`x_seq`, `series`), a file that speaks of time series,
    look-back windows, lags, forecasts or timesteps, or parses dates. It is also silent for
    tf.data datasets and generators, which `fit()` does not shuffle anyway (shuffle them in the
    pipeline), and for full-batch training (`batch_size=len(x)`), where the order of the samples
    in the one batch changes nothing.

    ## Why is this bad?
    Without shuffling, every epoch visits the same batches in the same order. Stochastic
    gradient descent relies on batches being random samples of the training set: a fixed order
    (often sorted by class or by source file) gives correlated, biased gradient steps, and the
    model is pulled towards whatever came last in each epoch. Reshuffling each epoch also makes
    the batch noise that helps escape sharp minima and plateaus different every time.

    ## Example
    ```python
    model.fit(x_train, y_train, epochs=20, batch_size=32, shuffle=False)
    ```

    ## Use instead
    ```python
    model.fit(x_train, y_train, epochs=20, batch_size=32)
    ```

    ## Fix safety
    The fix removes a literal `shuffle=False` (fit() then shuffles, its default). It changes the
    batches the model trains on, which is the point but changes results: the fix is unsafe.
    `shuffle` passed positionally or through a variable gets no fix.

    ## References
    - Course notes on training deep networks: batch size and the noise of small batches,
      shuffling after each epoch
    - Bengio, "Practical recommendations for gradient-based training of deep architectures" (2012)
    - [Keras: Model.fit, `shuffle`](https://keras.io/api/models/model_training_apis/#fit-method)
    """

    code = "KT305"
    name = "shuffle-disabled"
    summary = "fit(shuffle=False) on array data that is not a time series"
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        file_says_time = None
        for fit in kfile.fits:
            if fit.method != "fit" or fit.context.in_test or not trains_on_arrays(fit):
                continue
            given = fit.args.get("shuffle", 8)
            if given is None or not (isinstance(given[0], Const) and given[0].value is False
                                     and not given[0].soft):
                continue
            if _may_be_sequence_model(kfile, fit.model) or _full_batch(kfile, fit):
                continue
            if _tokens(kfile.code(fit.x[1])) & _SEQUENCE_NAMES:
                continue
            if file_says_time is None:
                source = kfile.module.code
                file_says_time = bool(_TIME_PHRASES.search(source) or _tokens(source) & _TIME_WORDS)
            if file_says_time:
                continue
            argument = _keyword_argument(fit, "shuffle")
            fix = None
            if argument is not None and isinstance(argument.value, cst.Name) and argument.value.value == "False":
                fix = Fix(Applicability.UNSAFE, (Edit(
                    fit.node, lambda u, a=argument: without_argument(u, a), fit.context.statement),))
            yield Finding(
                fit.node,
                "fit(shuffle=False) trains on the same batches in the same order every epoch; the "
                "data is not a time series, so let fit() reshuffle each epoch (drop shuffle=False)",
                fit.context.statement,
                fix,
            )

    VALID = (
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, epochs=20, validation_split=0.2)
model.fit(x_train, y_train, epochs=20, validation_split=0.2, shuffle=True)
""",
        # A stateful LSTM: the order of the batches carries the state
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.LSTM(32, stateful=True, batch_input_shape=(1, 10, 1)),
                          keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(X, y, epochs=100, batch_size=1, shuffle=False)
""",
        # Dense model on windows of a series (the file builds look-back windows)
        """
import numpy as np
from tensorflow import keras
look_back = 12
X = np.array([series[i:i + look_back] for i in range(len(series) - look_back)])
y = series[look_back:]
model = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(X, y, epochs=50, shuffle=False, validation_split=0.2)
""",
        # A Conv1D model (a sequence model: the order may be the point)
        """
import keras
inputs = keras.Input(shape=(128, 3))
x = keras.layers.Conv1D(32, 5, activation="relu")(inputs)
x = keras.layers.GlobalAveragePooling1D()(x)
model = keras.Model(inputs, keras.layers.Dense(6, activation="softmax")(x))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, shuffle=False, validation_split=0.1)
""",
        # tf.data: fit() never shuffles a dataset; the pipeline does
        """
import tensorflow as tf
ds = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(1000).batch(32)
model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(ds, epochs=5, shuffle=False)
""",
        # Full-batch training: one batch per epoch
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(X, y, batch_size=len(X), epochs=500, shuffle=False)
""",
        # Inputs named as sequences; a model the linter cannot see
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x_seq, y_next, shuffle=False)
pretrained = keras.models.load_model("m.keras")
pretrained.fit(x_train, y_train, shuffle=False)
""",
        # A Sequential model made of a loaded model's layers: they may be recurrent
        """
from tensorflow import keras
base = keras.models.load_model("melody.h5")
model = keras.Sequential()
for layer in base.layers[:-1]:
    model.add(layer)
model.add(keras.layers.Dense(12, activation="softmax"))
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.fit(xs, ys, epochs=20, batch_size=16, shuffle=False, validation_split=0.1)
""",
        # A helper whose shuffle parameter only defaults to False: the callers decide
        """
from tensorflow import keras
def train(model, x, y, shuffle=False):
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=5, shuffle=shuffle)
""",
    )
    INVALID = (
        Invalid(
            """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784) / 255.0
model = keras.Sequential([keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=10, shuffle=False, validation_split=0.1)
""",
            (8,),
            fixed="""
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784) / 255.0
model = keras.Sequential([keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=10, validation_split=0.1)
""",
        ),
        Invalid(  # model.add in a loop, a multi-line fit, shuffle last
            """
import keras
model = keras.Sequential()
for units in (64, 32):
    model.add(keras.layers.Dense(units, activation="relu"))
model.add(keras.layers.Dense(1, activation="sigmoid"))
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(
    X_train,
    y_train,
    epochs=30,
    validation_split=0.2,
    shuffle=False,
)
""",
            (8,),
            fixed="""
import keras
model = keras.Sequential()
for units in (64, 32):
    model.add(keras.layers.Dense(units, activation="relu"))
model.add(keras.layers.Dense(1, activation="sigmoid"))
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(
    X_train,
    y_train,
    epochs=30,
    validation_split=0.2,
)
""",
        ),
        Invalid(  # a subclassed model trained in a K-fold loop
            """
import tensorflow as tf
from sklearn.model_selection import KFold

class MLP(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = tf.keras.layers.Dense(32, activation="relu")
        self.out = tf.keras.layers.Dense(3, activation="softmax")
    def call(self, x):
        return self.out(self.hidden(x))

for tr, va in KFold(5).split(X):
    net = MLP()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    net.fit(X[tr], y[tr], validation_data=(X[va], y[va]), shuffle=False, epochs=20)
""",
            (16,),
            fixed="""
import tensorflow as tf
from sklearn.model_selection import KFold

class MLP(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = tf.keras.layers.Dense(32, activation="relu")
        self.out = tf.keras.layers.Dense(3, activation="softmax")
    def call(self, x):
        return self.out(self.hidden(x))

for tr, va in KFold(5).split(X):
    net = MLP()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    net.fit(X[tr], y[tr], validation_data=(X[va], y[va]), epochs=20)
""",
        ),
        Invalid(  # functional model in a helper called with shuffle=False
            """
from tensorflow import keras

def build():
    inputs = keras.Input(shape=(30,))
    x = keras.layers.Dense(16, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))

def train(x, y, shuffle):
    model = build()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model.fit(x, y, epochs=10, validation_split=0.2, shuffle=shuffle)

train(features, labels, shuffle=False)
""",
            (12,),
        ),
    )



def _literal_int(value) -> int | None:
    if isinstance(value, Const) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None


def _training_batch_size(fit: FitCall) -> int | None:
    """The batch size a fit() trains with, when the code states it: fit's `batch_size` for arrays,
    the batch size of a dataset (`.batch(n)`) or generator (`flow(..., batch_size=n)`)."""
    x = fit.x[0] if fit.x else None
    if isinstance(x, Data) and x.kind in ("dataset", "generator"):
        return x.batch
    if fit.method != "fit":
        return None
    return _literal_int(fit.args.value("batch_size", 2))


def _batch_norms(model: ModelValue | None) -> list[LayerNode]:
    """The model's BatchNormalization layers that normalize with batch statistics in training."""
    found = []
    for node in model_nodes(model) if model is not None else []:
        if not (node.is_keras_layer and node.short in ("BatchNormalization", "SyncBatchNormalization")):
            continue
        renorm, trainable = node.args.value("renorm"), node.args.value("trainable")
        if (isinstance(renorm, Const) and renorm.value) or (isinstance(trainable, Const) and trainable.value is False):
            continue  # batch renormalization is made for small batches; a frozen layer uses its moving statistics
        found.append(node)
    return found


class SmallBatchBatchNorm(Rule):
    """## What it does
    Checks for models with BatchNormalization layers trained with a batch size below
    `batch-size-threshold` (16 by default): fit's `batch_size`, the `.batch(n)` of a tf.data
    dataset, or the `batch_size=` of a generator made in the fit call
    (`datagen.flow(x, y, batch_size=8)`).

    BatchNormalization with `renorm=True` (batch renormalization, made for small batches) or
    `trainable=False` (a frozen layer normalizes with its moving statistics) is not counted. A
    batch size the code does not state literally is not checked.

    ## Why is this bad?
    In training, BatchNormalization normalizes each batch with that batch's own mean and
    variance, as an estimate of the statistics of the whole data set. With a handful of samples
    the estimate is noisy: the normalization changes from batch to batch, training is unstable,
    and the moving averages used at inference drift from what the layers saw in training (with a
    batch of 1 a Dense layer's output is normalized to its bias). Train with larger batches, or
    use a normalization that does not depend on the batch: LayerNormalization or
    GroupNormalization.

    ## Example
    ```python
    model = keras.Sequential([
        keras.layers.Conv2D(32, 3, use_bias=False), keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"), keras.layers.Flatten(), keras.layers.Dense(10),
    ])
    model.fit(x_train, y_train, batch_size=4, validation_split=0.2)
    ```

    ## Use instead
    ```python
    model.fit(x_train, y_train, batch_size=32, validation_split=0.2)
    ```
    or, when memory only allows small batches:
    ```python
    model = keras.Sequential([
        keras.layers.Conv2D(32, 3), keras.layers.GroupNormalization(groups=8),
        keras.layers.Activation("relu"), keras.layers.Flatten(), keras.layers.Dense(10),
    ])
    ```

    ## References
    - Course notes on training deep networks: batch normalization and its batch statistics;
      batch size
    - Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
      Internal Covariate Shift" (2015)
    - Wu & He, "Group Normalization" (2018)
    - Ioffe, "Batch Renormalization: Towards Reducing Minibatch Dependence in Batch-Normalized
      Models" (2017)
    """

    code = "KT306"
    name = "small-batch-batchnorm"
    summary = "BatchNormalization trained with a small batch size"
    options = {"batch-size-threshold": Option(16, "Batch sizes below this are too small for BatchNormalization.")}

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        threshold = self.config["batch-size-threshold"]
        for fit in kfile.fits:
            if fit.context.in_test:
                continue
            size = _training_batch_size(fit)
            if size is None or size >= threshold or size < 1 or not _batch_norms(fit.model):
                continue
            yield Finding(
                fit.node,
                f"the model uses BatchNormalization but trains with batches of {size} (< {threshold}): "
                "batch statistics of so few samples are too noisy to stand for the data set's; "
                f"use a batch of {threshold} or more, or LayerNormalization/GroupNormalization",
                fit.context.statement,
            )

    VALID = (
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(64, use_bias=False), keras.layers.BatchNormalization(),
                          keras.layers.Activation("relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, batch_size=32, validation_split=0.2)
model.fit(x_train, y_train, validation_split=0.2)
""",
        # Small batches without BatchNormalization (LayerNormalization does not use the batch)
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(64), keras.layers.LayerNormalization(),
                          keras.layers.Activation("relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, batch_size=4, validation_split=0.2)
""",
        # Batch renormalization, and a frozen BatchNormalization
        """
import keras
inputs = keras.Input(shape=(32, 32, 3))
x = keras.layers.Conv2D(16, 3)(inputs)
x = keras.layers.BatchNormalization(renorm=True)(x)
x = keras.layers.BatchNormalization(trainable=False)(x)
model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(x)))
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, batch_size=8, validation_split=0.2)
""",
        # A batch size that is not a literal
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(8), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, batch_size=args.batch_size, validation_split=0.2)
""",
        # tf.data: the dataset's own batch size counts, not fit's ignored batch_size
        """
import tensorflow as tf
ds = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(512).batch(64)
model = tf.keras.Sequential([tf.keras.layers.Dense(8), tf.keras.layers.BatchNormalization(),
                             tf.keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(ds, batch_size=4, epochs=3)
""",
    )
    INVALID = (
        Invalid(
            """
from tensorflow import keras
model = keras.Sequential([
    keras.layers.Conv2D(32, 3, use_bias=False, input_shape=(28, 28, 1)),
    keras.layers.BatchNormalization(),
    keras.layers.Activation("relu"),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, batch_size=4, epochs=10, validation_split=0.1)
""",
            (11,),
        ),
        Invalid(  # functional model, batch size given positionally
            """
import keras
inputs = keras.Input(shape=(20,))
h = keras.layers.Dense(64, use_bias=False)(inputs)
h = keras.layers.BatchNormalization()(h)
h = keras.layers.ReLU()(h)
model = keras.Model(inputs, keras.layers.Dense(1)(h))
model.compile(optimizer="adam", loss="mse")
model.fit(X, y, 8, 50, validation_split=0.2)
""",
            (9,),
        ),
        Invalid(  # tf.data pipeline batched by 2; BatchNormalization in a subclassed model
            """
import tensorflow as tf

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(16, 3)
        self.bn = tf.keras.layers.BatchNormalization()
        self.head = tf.keras.layers.Dense(10)
    def call(self, x, training=False):
        x = tf.nn.relu(self.bn(self.conv(x), training=training))
        return self.head(tf.reduce_mean(x, axis=[1, 2]))

train_ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(100).batch(2)
net = Net()
net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
net.fit(train_ds, validation_data=val_ds, epochs=5)
""",
            (17,),
        ),
        Invalid(  # a generator made in the fit call; a model built in a helper with model.add
            """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Conv2D, BatchNormalization, Activation, Flatten, Dense
from tensorflow.keras.preprocessing.image import ImageDataGenerator

def build():
    model = Sequential()
    model.add(Conv2D(32, 3, input_shape=(64, 64, 3)))
    model.add(BatchNormalization())
    model.add(Activation("relu"))
    model.add(Flatten())
    model.add(Dense(2, activation="softmax"))
    return model

model = build()
model.compile(optimizer="adam", loss="categorical_crossentropy")
datagen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True)
model.fit(datagen.flow(x_train, y_train, batch_size=8), validation_data=(x_val, y_val), epochs=20)
""",
            (18,),
        ),
        Invalid(  # batch size 1 (per-sample updates) in a K-fold loop
            """
from sklearn.model_selection import KFold
from keras import layers, models
for tr, va in KFold(5).split(X):
    model = models.Sequential([layers.Dense(32), layers.BatchNormalization(), layers.Activation("relu"),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(X[tr], y[tr], batch_size=1, epochs=10, validation_data=(X[va], y[va]))
""",
            (8,),
        ),
    )


# Layers that rescale their input (or may: Lambda, a normalization at the model's start).
_SCALING_LAYERS = frozenset({"Rescaling", "Normalization", "BatchNormalization", "LayerNormalization",
                             "GroupNormalization", "UnitNormalization", "Lambda", "TFOpLambda"})
# Layers that learn from the values they get: raw pixels reaching one of them are unscaled.
_LEARNING_LAYERS = frozenset({
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
    "Conv3DTranspose", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
    "LocallyConnected1D", "LocallyConnected2D", "LSTM", "GRU", "SimpleRNN", "Bidirectional",
    "ConvLSTM2D", "MultiHeadAttention", "PReLU",
})


def _scales_inputs(kfile: KerasFile, model: ModelValue | None) -> bool | None:
    """Whether the model rescales its inputs before its first learning layer; None when it cannot be
    told (a loaded model, custom layers or tensor operations on the way)."""
    nodes = model_nodes(model) if model is not None else []
    if model is None or model.kind not in ("sequential", "functional", "subclass") or not nodes:
        return None
    members = {id(node) for node in nodes}
    stack = []
    for node in nodes:
        outside = [p for p in kfile.inputs_of(node) if id(p) not in members]
        if any(p.kind != "input" for p in outside):
            return None  # something the model's layers do not show comes first (x / 255 in call())
        if len(outside) == len(kfile.inputs_of(node)):
            stack.append(node)
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.is_keras_layer and node.short in _SCALING_LAYERS:
            return True
        if node.is_keras_layer and node.short in _LEARNING_LAYERS:
            continue
        if node.kind != "input" and not node.is_keras_layer:
            return None  # a tensor operation, a custom or unknown layer: it may scale
        stack.extend(n for n in kfile.outputs_of(node) if id(n) in members)
    return False


def _raw_images(value) -> bool:
    return isinstance(value, Data) and value.image and value.scaled is False


class UnscaledInputs(Rule):
    """## What it does
    Checks for raw image data from a Keras image dataset's `load_data()` (MNIST, Fashion-MNIST,
    CIFAR-10/100: `uint8` pixels in 0..255) fed to `fit()`, as training inputs or as
    `validation_data`, with no scaling on the way.

    Scaling is dividing or multiplying by a constant (`x / 255`, `x.astype("float32") / 255.0`),
    a scikit-learn scaler's `transform`, `preprocess_input`, `tf.image.convert_image_dtype`,
    `per_image_standardization`, or a `Rescaling`, `Normalization` (or another normalization or
    `Lambda`) layer at the start of the model, before its first Dense/Conv layer. Anything the
    linter cannot follow (a function of the file, an `ImageDataGenerator`, a tf.data `map`, a
    loaded model, tensor operations in `call()`) counts as possibly scaling, and the rule stays
    silent. Reshaping, `astype`, `expand_dims` and `to_categorical` do not scale.

    ## Why is this bad?
    Inputs in the hundreds make the first layer's pre-activations hundreds of times larger than
    the initializers assume: activations saturate, gradients are badly scaled across weights, and
    the learning rate that suits the other layers is far too large for the first one. Training is
    slower and less stable, and often stalls. Normalize features to a small, comparable range
    (0..1, or zero mean and unit variance) and apply the same scaling to validation and test data.

    ## Example
    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    model.fit(x_train, y_train, validation_split=0.1, epochs=5)
    ```

    ## Use instead
    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    model.fit(x_train, y_train, validation_split=0.1, epochs=5)
    ```

    ## References
    - Course notes on training deep networks: feature normalization makes the error surface
      easier to optimize
    - LeCun, Bottou, Orr & Müller, "Efficient BackProp" (1998), section 4.3
    - [Keras: Rescaling layer](https://keras.io/api/layers/preprocessing_layers/image_preprocessing/rescaling/)
    """

    code = "KT307"
    name = "unscaled-inputs"
    summary = "Raw 0..255 image data from load_data() trained on without scaling"

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for fit in kfile.fits:
            if fit.context.in_test or fit.x is None:
                continue
            x, node = fit.x
            given = fit.validation_data
            val, val_node = _inputs_part(*given) if given else (None, None)
            raw_training, raw_validation = _raw_images(x), _raw_images(val)
            if not (raw_training or raw_validation) or _scales_inputs(kfile, fit.model) is not False:
                continue
            if raw_training:
                message = (f"{_brief(kfile, node)} holds raw load_data() pixels (uint8 0..255) and "
                           "reaches the model unscaled: divide by 255 (x.astype('float32') / 255) or "
                           "start the model with Rescaling(1 / 255)")
            else:
                message = (f"validation_data {_brief(kfile, val_node or given[1])} holds raw load_data() "
                           "pixels (uint8 0..255) that are not scaled like the training inputs: "
                           "scale them the same way (/ 255)")
            yield Finding(fit.node, message, fit.context.statement)

    VALID = (
        """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
model = keras.Sequential([keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, validation_data=(x_test, y_test), epochs=5)
""",
        # A Rescaling layer at the model's start (after the Input and a reshape)
        """
import keras
(x_train, y_train), _ = keras.datasets.cifar10.load_data()
model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    keras.layers.RandomFlip("horizontal"),
    keras.layers.Rescaling(1.0 / 255),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, validation_split=0.1)
""",
        # Scaling inside a functional model, and a Normalization layer adapted on the data
        """
import keras
(x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()
inputs = keras.Input(shape=(28, 28))
x = keras.layers.Flatten()(inputs / 255.0)
model = keras.Model(inputs, keras.layers.Dense(10)(x))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, validation_split=0.1)
norm = keras.layers.Normalization()
norm.adapt(x_train)
model2 = keras.Sequential([norm, keras.layers.Flatten(), keras.layers.Dense(10)])
model2.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model2.fit(x_train, y_train, validation_split=0.1)
""",
        # A generator (may rescale), a preprocessing function of the file, a pretrained model
        """
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
datagen = ImageDataGenerator(rescale=1.0 / 255)
model = keras.Sequential([keras.layers.Conv2D(32, 3), keras.layers.Flatten(), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(datagen.flow(x_train, y_train), epochs=5)
def prepare(images):
    return images.astype("float32") / 127.5 - 1.0
model.fit(prepare(x_train), y_train, validation_split=0.1)
base = keras.applications.EfficientNetB0(include_top=True, weights=None, classes=10)
base.fit(x_train, y_train, validation_split=0.1)
""",
        # Text and tabular datasets from load_data() are not pixels
        """
from tensorflow import keras
(x_train, y_train), _ = keras.datasets.boston_housing.load_data()
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, validation_split=0.2)
""",
    )
    INVALID = (
        Invalid(
            """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32")
model = keras.Sequential([
    keras.layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=5, validation_split=0.1)
""",
            (11,),
        ),
        Invalid(  # training images scaled, the validation images forgotten
            """
import tensorflow as tf
(train_images, train_labels), (test_images, test_labels) = tf.keras.datasets.cifar10.load_data()
train_images = train_images / 255.0
model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(train_images, train_labels, epochs=10,
          validation_data=(test_images, test_labels))
""",
            (7,),
        ),
        Invalid(  # a functional model whose Rescaling comes after the first convolution
            """
import keras
from keras import layers
(x_train, y_train), _ = keras.datasets.cifar100.load_data()
inputs = keras.Input(shape=(32, 32, 3))
x = layers.Conv2D(64, 3, padding="same")(inputs)
x = layers.Rescaling(1 / 255)(x)
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(100, activation="softmax")(x))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, validation_split=0.2, batch_size=128)
""",
            (11,),
        ),
        Invalid(  # data loaded and trained in helper functions; a subclassed model
            """
import tensorflow as tf

def load():
    (x, y), (xt, yt) = tf.keras.datasets.fashion_mnist.load_data()
    return x[..., None], y

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.flat = tf.keras.layers.Flatten()
        self.out = tf.keras.layers.Dense(10)
    def call(self, x):
        return self.out(self.flat(x))

def train(model, images, labels):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(images, labels, epochs=3, validation_split=0.1)

images, labels = load()
train(Net(), images, labels)
""",
            (18,),
        ),
    )
