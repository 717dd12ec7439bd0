"""Data, validation and leakage rules (KT3xx): what the model is trained, validated and
selected on."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from kerastips.ir.model import (
    TEST,
    TRAIN,
    VALIDATION,
    CallbackValue,
    Const,
    EvaluateCall,
    FitCall,
    KerasFile,
    Seq,
    data_origin,
)
from kerastips.edits import Applicability, Edit, Fix, number, replace_keyword, with_argument
from kerastips.ir.extract import name_origin
from kerastips.ir.model import Data
from kerastips.rules.base import Finding, Invalid, Rule

_DECISION_CALLBACKS = ("EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "BackupAndRestore")


def held_out_evaluation(kfile: KerasFile, fit: FitCall) -> bool:
    """A later evaluate() of the same model on data that is neither its training data nor the
    test set (a K-fold validation fold, x_val, data the IR cannot place)."""
    trained_on = kfile.code(fit.x[1]) if fit.x and fit.x[1] is not None else None
    for evaluation in kfile.evaluates:
        if evaluation.model is not fit.model or evaluation.context.order < fit.context.order:
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
    """`validation_data=(x_test, y_test)` -> `validation_split=0.2`, for array input."""
    argument = _keyword_argument(fit, "validation_data")
    if argument is None or not trains_on_arrays(fit):
        return None
    edit = Edit(fit.node, lambda u: replace_keyword(u, argument, "validation_split", number(0.2)),
                fit.context.statement)
    return Fix(Applicability.UNSAFE, (edit,))


def _keyword_argument(fit: FitCall, keyword: str) -> cst.Arg | None:
    return next((a for a in fit.node.args if a.keyword is not None and a.keyword.value == keyword), None)


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
        for fit in kfile.fits:
            if fit.model is None or fit.args.star or fit.context.in_test or fit in validated:
                continue
            if any(
                run.context.order < fit.context.order
                and (run.model.key == fit.model.key if run.model else fit.model.kind == "tuner")
                for run in validated
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
                if isinstance(cb, CallbackValue) and cb.kind.rsplit(".", 1)[-1] in _DECISION_CALLBACKS
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
