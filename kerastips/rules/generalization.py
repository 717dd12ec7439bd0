"""Generalization rules (KT5xx): stopping training where the validation error is lowest."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from kerastips.edits import Applicability, Edit, Fix, call, number, with_argument
from kerastips.ir.model import TEST, CallbackValue, Const, FitCall, KerasFile, Seq, data_origin
from kerastips.rules.base import Finding, Invalid, Option, Rule
from kerastips.rules.spelling import keras_name


def stops_early(callbacks) -> bool | None:
    """Whether the callbacks stop at the best epoch (EarlyStopping, a best-only checkpoint);
    None when the linter cannot see them (a variable, a callback class of the user's)."""
    if callbacks is None or (isinstance(callbacks, Const) and callbacks.value is None):
        return False
    if not isinstance(callbacks, Seq):
        return None
    for callback in callbacks.items:
        if not isinstance(callback, CallbackValue) or callback.kind.startswith("user:"):
            return None
        if callback.kind.endswith(".EarlyStopping") or callback.keeps_best:
            return True
    return False


class MissingEarlyStopping(Rule):
    """## What it does
    Checks for validated training runs of many epochs (at least `epochs-threshold`, 50 by
    default) with neither an `EarlyStopping` callback nor a `ModelCheckpoint(save_best_only=True)`.
    A run validated on the test set is left to KT302: stopping on the test set would make it worse.

    ## Why is this bad?
    With enough epochs a network starts to overfit: the training loss keeps falling while the
    validation loss turns back up. The model you keep is the one at the last epoch, not the best
    one the run passed through. Early stopping on the validation loss (with the best weights
    restored) keeps the best model and saves the wasted epochs.

    ## Example
    ```python
    model.fit(x_train, y_train, epochs=200, validation_split=0.2)
    ```

    ## Use instead
    ```python
    model.fit(x_train, y_train, epochs=200, validation_split=0.2,
              callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=10,
                                                       restore_best_weights=True)])
    ```

    ## Fix safety
    The fix adds `EarlyStopping(monitor="val_loss", patience=P, restore_best_weights=True)` to
    `callbacks` (creating the argument if needed), P the `patience` option. Training then stops
    earlier and keeps other weights: the fix is unsafe. A `callbacks` value the linter cannot
    edit (a variable) gets no fix.

    ## References
    - Prechelt, "Early Stopping - But When?" (1998)
    - [Keras: EarlyStopping](https://keras.io/api/callbacks/early_stopping/)
    """

    code = "KT501"
    name = "missing-early-stopping"
    summary = "Long validated training without early stopping"
    fix_applicability = Applicability.UNSAFE
    options = {
        "epochs-threshold": Option(50, "Validated runs of this many epochs or more need early stopping."),
        "patience": Option(10, "The patience of the EarlyStopping the fix adds."),
    }

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for fit in kfile.fits:
            epochs = fit.args.value("epochs", 3)
            if fit.model is None or fit.args.star or fit.context.in_test or not fit.validated or not (
                isinstance(epochs, Const) and isinstance(epochs.value, int)
                and epochs.value >= self.config["epochs-threshold"]
            ):
                continue
            if stops_early(fit.args.value("callbacks", 5)) is not False:
                continue
            if fit.validation_data is not None and data_origin(fit.validation_data[0]) == TEST:
                continue  # stopping on the test set would be worse: KT302 reports it
            yield Finding(
                fit.node,
                f"{epochs.value} validated epochs with no early stopping: the model kept is the last "
                "epoch's, not the best; add EarlyStopping(restore_best_weights=True)",
                fit.context.statement,
                self.add_early_stopping(kfile, fit),
            )

    def add_early_stopping(self, kfile: KerasFile, fit: FitCall) -> Fix | None:
        callee, imports = keras_name(kfile, "callbacks.EarlyStopping")
        stopper = call(callee, monitor=cst.SimpleString('"val_loss"'),
                       patience=number(self.config["patience"]), restore_best_weights=cst.Name("True"))
        given = next((a for a in fit.node.args if a.keyword is not None and a.keyword.value == "callbacks"), None)
        if given is None:
            if len([a for a in fit.node.args if a.keyword is None]) > 5:
                return None  # callbacks passed by position
            rewrite = lambda u: with_argument(u, "callbacks", cst.List([cst.Element(stopper)]))  # noqa: E731
        elif isinstance(given.value, cst.List):
            def rewrite(updated: cst.Call) -> cst.Call:
                return updated.with_changes(args=[
                    arg.with_changes(value=_appended(arg.value, stopper)) if arg.deep_equals(given) else arg
                    for arg in updated.args
                ])
        else:
            return None
        return Fix(Applicability.UNSAFE, (Edit(fit.node, rewrite, fit.context.statement),), imports)

    VALID = (
        # Validated on the test set: KT302's finding; early stopping on it would make it worse
        """
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train / 255, y_train, epochs=100, validation_data=(x_test / 255, y_test))
""",
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=200, validation_split=0.2,
          callbacks=[keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)])
""",
        # A best-only checkpoint given by position (filepath, monitor, verbose, save_best_only)
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=200, validation_split=0.2,
          callbacks=[keras.callbacks.ModelCheckpoint("best.keras", "val_loss", 1, True)])
""",
        # A best-only checkpoint keeps the best epoch too
        """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
checkpoint = keras.callbacks.ModelCheckpoint("best.keras", monitor="val_loss", save_best_only=True)
model.fit(x, y, epochs=100, validation_data=(x_val, y_val), callbacks=[checkpoint])
""",
        # Not validated: KT301's business
        """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=500)
""",
        # Few epochs
        """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=20, validation_split=0.1)
""",
        # Callbacks the linter cannot see
        """
import keras
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=100, validation_split=0.1, callbacks=get_callbacks())
""",
    )
    INVALID = (
        Invalid(
            """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=100, validation_split=0.2)
""",
            (5,),
            fixed="""
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=100, validation_split=0.2, callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)])
""",
        ),
        Invalid(  # a callbacks list without a stopper; EarlyStopping imported by name
            """
from keras.callbacks import EarlyStopping, TensorBoard
EPOCHS = 80
def train(model, data):
    model.compile(optimizer="adam", loss="mse")
    return model.fit(data, validation_data=val_ds, epochs=EPOCHS,
                     callbacks=[TensorBoard("logs")])
""",
            (6,),
            fixed="""
from keras.callbacks import EarlyStopping, TensorBoard
EPOCHS = 80
def train(model, data):
    model.compile(optimizer="adam", loss="mse")
    return model.fit(data, validation_data=val_ds, epochs=EPOCHS,
                     callbacks=[TensorBoard("logs"), EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)])
""",
        ),
        Invalid(  # a checkpoint that saves every epoch does not choose the best
            """
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
save = tf.keras.callbacks.ModelCheckpoint("model.keras")
model.fit(x, y, epochs=60, validation_split=0.1, callbacks=[save])
""",
            (6,),
            fixed="""
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
save = tf.keras.callbacks.ModelCheckpoint("model.keras")
model.fit(x, y, epochs=60, validation_split=0.1, callbacks=[save, tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)])
""",
        ),
    )


def _appended(items: cst.List, element: cst.BaseExpression) -> cst.List:
    elements = list(items.elements)
    new = cst.Element(element)
    if elements:
        last = elements[-1]
        new = new.with_changes(comma=last.comma)
        elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return items.with_changes(elements=[*elements, new])
