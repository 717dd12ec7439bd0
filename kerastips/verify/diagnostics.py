"""The dynamic symptoms of a training run, by name and the epoch they appeared.

Static analysis sees the code; these only show when it runs: a NaN or infinite loss, exploding or
vanishing gradients, dying ReLUs, a loss that does not go down, a validation loss that turns up
while the training loss keeps falling. Two entry points:

- `symptoms_from_history(history)`: pure Python on a `History.history` dict (one list per metric,
  one value per epoch): "nan-loss", "loss-not-decreasing", "overfitting".
- `SymptomMonitor(x_sample, y_sample, every=1)`: a Keras callback for `fit`. Besides the history
  symptoms above it computes, on the sample batch at the end of every `every`-th epoch (epochs
  `every`, 2 * `every`, ...) and of the last one, the gradient norms ("exploding-gradients",
  "vanishing-gradients": the gradient of the loss fit minimizes, the model in training mode, over
  a stateless call differentiated by a GradientTape on TensorFlow and jax.grad on JAX; other
  backends get a note; compared with the same before training) and the fraction of dead units of each top-level ReLU layer ("dying-relu"; functional
  and Sequential models, through a probe model on the ReLU outputs, any backend; layers inside a
  nested model are not looked into). After training, and after every epoch while it runs,
  `.symptoms` is the list of what it saw.

A symptom is a dict `{"name": str, "epoch": int | None, "detail": str}`. Epochs are 1-based, as
Keras prints them ("Epoch 3/10"; initial_epoch counts), within one `fit` (a monitor starts afresh
on each fit, like `History`); None when not tied to an epoch. Each name appears at most once: the
gradient and dead-unit symptoms at the first epoch they were seen, the history ones as judged on
the whole run so far. A check that cannot run never stops the training: it leaves one
"diagnostics-unavailable" entry per check that could not run (gradient norms, dead ReLU units,
or both without a usable sample batch)
saying what was skipped and why, with the epoch it failed at (None: before training).

`keras` is imported only when `SymptomMonitor` is first looked up (so that a script that picks its
backend with KERAS_BACKEND before importing Keras still gets its choice).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Optional, Sequence

SYMPTOMS = (
    "nan-loss",
    "exploding-gradients",
    "vanishing-gradients",
    "dying-relu",
    "loss-not-decreasing",
    "overfitting",
)
UNAVAILABLE = "diagnostics-unavailable"

# Gradients, global L2 norm over all trainable variables on the sample batch.
# A healthy network with a loss of order 1 has a global norm between about 0.01 and 10 (the usual
# clipnorm settings are 1 to 5); three orders of magnitude above that is divergence, not noise.
EXPLODING_GRAD_NORM = 1e3
# ... or a norm that grew a thousandfold since before training (to at least EXPLODING_MIN_NORM:
# a norm still below 1 is not exploding whatever it grew from, e.g. from a near-zero init).
GRAD_GROWTH_ORDERS = 3
EXPLODING_MIN_NORM = 1.0
# The gradient reaching the first layer's kernel below 1e-4 of the last layer's: the backward
# pass loses four orders of magnitude on the way down (a deep sigmoid/tanh stack); in a healthy
# network the per-layer norms stay within one or two orders of each other.
VANISHING_DEPTH_RATIO = 1e-4
# A global norm below 1e-7 is no learning signal at all in float32 training (updates of lr * 1e-7)
# ... unless the loss itself is about 0, when a zero gradient is just a fitted batch.
VANISHING_GRAD_NORM = 1e-7
FITTED_LOSS = 1e-3
# ... or a norm that fell ten-thousandfold since before training while the sample loss stayed above
# half its start: gradients that shrink because the model converged come with a lower loss.
GRAD_SHRINK_ORDERS = 4
SHRINK_LOSS_KEPT = 0.5

# A ReLU unit (channel, for convolutions) is dead when it outputs 0 for every sample of the batch;
# at init about 2**-batch of them are, so more than half a layer dead is damage, not chance.
DEAD_RELU_FRACTION = 0.5

# Loss trends, on the per-epoch values of the history.
# Trends need at least three epochs: two points are one noisy difference.
MIN_EPOCHS_FOR_TREND = 3
# "Clearly below": by more than 1% of its value (the loss of a learning model falls far more over
# a run; a flat one, e.g. lr=0 or frozen layers, moves by float noise only).
LOSS_TOLERANCE = 0.01
# Overfitting: val_loss at the end more than 10% above its minimum (above validation noise) while
# the training loss went on falling (by more than LOSS_TOLERANCE) after that minimum.
OVERFIT_VAL_RISE = 0.10

# The gradient and dead-unit checks use at most this many rows of the sample batch.
SAMPLE_ROWS = 128


def symptoms_from_history(history: dict, *, first_epoch: int = 1) -> list:
    """What a `History.history` dict shows: "nan-loss", "loss-not-decreasing", "overfitting".

    `history` maps metric names to per-epoch values; index 0 is epoch `first_epoch` (1, or
    initial_epoch + 1 for a fit that resumed). Values that are not numbers are ignored. Returns the
    symptom dicts in epoch order.
    """
    history = getattr(history, "history", history)  # a History object is taken too
    if not isinstance(history, dict):
        return []
    loss = _series(history, "loss")
    val = _series(history, "val_loss")
    shift = first_epoch - 1
    found = []
    nan = _nan_loss(history, shift)
    if nan:
        found.append(nan)
    # The trends are judged on the epochs before the loss went non-finite (after, all is NaN).
    end = _first_non_finite(history)
    for judge in (_loss_not_decreasing, _overfitting):
        symptom = judge(loss[:end], val[:end], shift)
        if symptom:
            found.append(symptom)
    return _ordered(found)


def _symptom(name: str, epoch: Optional[int], detail: str) -> dict:
    return {"name": name, "epoch": epoch, "detail": detail}


def _ordered(symptoms) -> list:
    rank = {name: i for i, name in enumerate(SYMPTOMS)}
    return sorted(
        symptoms,
        key=lambda s: (s["epoch"] is None, s["epoch"] or 0, rank.get(s["name"], len(rank))),
    )


def _number(value) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _series(history: dict, key: str) -> list:
    values = history.get(key)
    if values is None or isinstance(values, (str, bytes)):
        return []
    try:
        return [_number(v) for v in values]
    except TypeError:
        return []


def _loss_keys(history: dict) -> list:
    keys = [k for k in ("loss", "val_loss") if k in history]
    return keys + sorted(k for k in history if k.endswith("_loss") and k not in keys)


def _first_non_finite(history: dict) -> Optional[int]:
    """Index of the first epoch whose loss (any *loss key) is NaN or infinite; None if none."""
    first = None
    for key in _loss_keys(history):
        for i, value in enumerate(_series(history, key)):
            if value is not None and not math.isfinite(value):
                first = i if first is None else min(first, i)
                break
    return first


def _nan_loss(history: dict, shift: int) -> Optional[dict]:
    index = _first_non_finite(history)
    if index is None:
        return None
    at_index = {key: _series(history, key)[index : index + 1] for key in _loss_keys(history)}
    bad = [
        f"{key} = {values[0]}"
        for key, values in at_index.items()
        if values and values[0] is not None and not math.isfinite(values[0])
    ]
    return _symptom("nan-loss", shift + index + 1, f"{', '.join(bad)} at epoch {shift + index + 1}")


def _clearly_below(value: float, reference: float) -> bool:
    return value < reference - LOSS_TOLERANCE * abs(reference)


def _finite_points(values: Sequence[Optional[float]], shift: int) -> list:
    """(1-based epoch, value) of the finite values."""
    return [(shift + i + 1, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]


def _loss_not_decreasing(loss, val, shift: int) -> Optional[dict]:
    points = _finite_points(loss, shift)
    if len(points) < MIN_EPOCHS_FOR_TREND:
        return None
    (first_epoch, first), (last_epoch, last) = points[0], points[-1]
    if _clearly_below(last, first):
        return None
    # It appeared at the epoch from which the loss never again went clearly below its start.
    since = last_epoch
    for epoch, value in reversed(points[1:]):
        if _clearly_below(value, first):
            break
        since = epoch
    return _symptom(
        "loss-not-decreasing",
        since,
        f"loss {last:.4g} at epoch {last_epoch} is not below its {first:.4g} at epoch "
        f"{first_epoch} by more than {LOSS_TOLERANCE:.0%} (flat or rising since epoch {since})",
    )


def _overfitting(loss, val, shift: int) -> Optional[dict]:
    pairs = [
        (shift + i + 1, t, v)
        for i, (t, v) in enumerate(zip(loss, val))
        if t is not None and v is not None and math.isfinite(t) and math.isfinite(v)
    ]
    if len(pairs) < MIN_EPOCHS_FOR_TREND:
        return None
    best = min(range(len(pairs)), key=lambda k: pairs[k][2])
    if best == len(pairs) - 1:
        return None
    best_epoch, best_train, best_val = pairs[best]
    last_epoch, last_train, last_val = pairs[-1]
    if last_val - best_val <= OVERFIT_VAL_RISE * abs(best_val):
        return None
    if not _clearly_below(last_train, best_train):
        return None
    return _symptom(
        "overfitting",
        pairs[best + 1][0],  # the gap opened with the first epoch after val_loss's minimum
        f"val_loss was lowest at epoch {best_epoch} ({best_val:.4g}) and rose to {last_val:.4g} "
        f"by epoch {last_epoch} while loss fell from {best_train:.4g} to {last_train:.4g}",
    )


# --- What the callback computes on the sample batch (needs Keras, imported by the caller) ---


def _sample_batch(keras, x, y):
    """The first SAMPLE_ROWS rows of (x, y), float arrays in floatx as fit would feed them.

    A tf.data.Dataset or a keras PyDataset gives its first batch; anything else (a generator)
    is not touched, since reading it would take a batch from the user's training.
    """
    import numpy as np

    batch = None
    if x is not None and y is None and hasattr(x, "element_spec") and hasattr(x, "take"):
        batch = next(iter(x.take(1)))  # tf.data.Dataset
    elif x is not None and y is None and hasattr(x, "__getitem__") and hasattr(x, "num_batches"):
        batch = x[0]  # PyDataset
    if batch is not None:  # (x,), (x, y) or (x, y, sample_weight)
        x, y = (
            (batch[0], batch[1]) if isinstance(batch, tuple) and len(batch) > 1 else (batch, None)
        )
    if x is None:
        raise ValueError("no sample batch was given")

    def cut(value):
        if value is None:
            return None
        a = value.to_numpy() if hasattr(value, "to_numpy") else value  # pandas
        if not hasattr(a, "shape"):
            a = np.asarray(a)
            if a.dtype == object:
                raise ValueError(f"the sample batch is not arrays ({type(value).__name__})")
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            a = a.astype(keras.backend.floatx())
        return a[:SAMPLE_ROWS] if len(a.shape) else a

    return keras.tree.map_structure(cut, x), (
        None if y is None else keras.tree.map_structure(cut, y)
    )


def _norm(keras, tensor) -> float:
    import numpy as np

    values = getattr(tensor, "values", None)  # tf.IndexedSlices (Embedding): its rows only
    array = keras.ops.convert_to_numpy(values if values is not None else tensor)
    return float(np.linalg.norm(np.asarray(array, dtype=np.float64).ravel()))


class _GradientStats:
    """Loss and gradient norms of the model on the sample batch, in training mode."""

    def __init__(self, loss: float, norm: float, first: tuple, last: tuple):
        self.loss, self.norm = loss, norm
        self.first, self.last = first, last  # (variable path, norm) of the first/last kernels
        self.when = ""  # for a baseline: "before training" or "at epoch N"


def _gradient_stats(keras, model, x, y) -> _GradientStats:
    backend = keras.backend.backend()
    if backend not in _LOSS_AND_GRADIENTS:
        raise NotImplementedError(
            f"gradient norms are computed on the TensorFlow and JAX backends only "
            f"(this run uses {backend})"
        )
    variables = list(model.trainable_variables)
    if not variables:
        raise ValueError("the model has no trainable variables")
    loss, grads = _LOSS_AND_GRADIENTS[backend](keras, model, x, y, variables)
    norms = [(v, _norm(keras, g)) for v, g in zip(variables, grads) if g is not None]
    if not norms:
        raise ValueError("no trainable variable gets a gradient from the loss")
    total = (
        math.sqrt(sum(n * n for _, n in norms))
        if all(math.isfinite(n) for _, n in norms)
        else math.inf
    )
    # First and last kernels in graph order: a functional or Sequential model lists its variables
    # from input to output; a subclassed one in attribute order, which need not be the data's.
    kernels = [(getattr(v, "path", v.name), n) for v, n in norms if len(v.shape) >= 2]
    if len(kernels) < 2 or not getattr(model, "inputs", None):
        kernels = [None]
    first, last = kernels[0], kernels[-1]
    return _GradientStats(float(keras.ops.convert_to_numpy(loss)), total, first, last)


def _training_loss(model, x, y, y_pred):
    """The loss fit minimizes (compiled losses and regularization), as the trainers compute it."""
    compute = getattr(model, "_compute_loss", None) or model.compute_loss
    return compute(x=x, y=y, y_pred=y_pred, sample_weight=None, training=True)


def _stateless_loss(keras, model, x, y, variables):
    """The training loss as a function of the trainable values, as the trainers compute it, by a
    stateless call: what the forward pass would update (BatchNormalization statistics, seed
    states, loss trackers) is dropped, so the check leaves the training exactly as it was. Under
    a tf.distribute strategy the variables' values are read in the cross-replica context, where
    a replica's tape could not watch them."""
    non_trainable = list(model.non_trainable_variables)
    frozen = [v.value for v in non_trainable]
    # (a call() without a `training` argument is called without it, as Layer.__call__ does)
    mode = {"training": True} if getattr(model, "_call_has_training_arg", True) else {}

    def loss_of(values):
        y_pred, updated = model.stateless_call(values, frozen, x, **mode)
        mapping = list(zip(variables, values)) + list(zip(non_trainable, updated))
        with keras.StatelessScope(state_mapping=mapping):
            return _training_loss(model, x, y, y_pred)

    return loss_of


def _tensorflow_loss_and_gradients(keras, model, x, y, variables):
    import tensorflow as tf

    loss_of = _stateless_loss(keras, model, x, y, variables)
    values = [tf.identity(v.value) for v in variables]
    with tf.GradientTape() as tape:
        tape.watch(values)
        loss = loss_of(values)
    return loss, tape.gradient(loss, values)


def _jax_loss_and_gradients(keras, model, x, y, variables):
    import jax

    loss_of = _stateless_loss(keras, model, x, y, variables)
    return jax.value_and_grad(loss_of)([v.value for v in variables])


_LOSS_AND_GRADIENTS = {
    "tensorflow": _tensorflow_loss_and_gradients,
    "jax": _jax_loss_and_gradients,
}


def _exploding(stats: _GradientStats, baseline: Optional[_GradientStats]) -> Optional[str]:
    if not math.isfinite(stats.norm):
        return f"the gradient on the sample batch is not finite (loss {stats.loss:.4g})"
    if stats.norm > EXPLODING_GRAD_NORM:
        return (
            f"global gradient norm {stats.norm:.3g} on the sample batch "
            f"(above {EXPLODING_GRAD_NORM:g})"
        )
    if (
        baseline is not None
        and 0 < baseline.norm
        and stats.norm >= EXPLODING_MIN_NORM
        and stats.norm >= baseline.norm * 10**GRAD_GROWTH_ORDERS
    ):
        return (
            f"global gradient norm grew from {baseline.norm:.3g} {baseline.when} to "
            f"{stats.norm:.3g} (x{stats.norm / baseline.norm:.3g})"
        )
    return None


def _vanishing(stats: _GradientStats, baseline: Optional[_GradientStats]) -> Optional[str]:
    # An exactly zero gradient is a cut path (dead ReLUs, a stop_gradient), not a vanishing one.
    if stats.first and stats.last and stats.first[1] > 0 and stats.last[1] > 0:
        ratio = stats.first[1] / stats.last[1]
        if ratio < VANISHING_DEPTH_RATIO:
            return (
                f"the gradient of the first kernel ({stats.first[0]}, norm {stats.first[1]:.3g}) "
                f"is {ratio:.2g} of the last one's ({stats.last[0]}, norm {stats.last[1]:.3g})"
            )
    if stats.norm < VANISHING_GRAD_NORM and stats.loss > FITTED_LOSS:
        return (
            f"global gradient norm {stats.norm:.3g} on the sample batch (below "
            f"{VANISHING_GRAD_NORM:g}) while its loss is {stats.loss:.4g}"
        )
    if (
        baseline is not None
        and baseline.norm > 0
        and stats.norm <= baseline.norm * 10**-GRAD_SHRINK_ORDERS
        and stats.loss >= SHRINK_LOSS_KEPT * baseline.loss
        and baseline.loss > 0
    ):
        return (
            f"global gradient norm fell from {baseline.norm:.3g} {baseline.when} to "
            f"{stats.norm:.3g} while the sample loss only went from {baseline.loss:.4g} to "
            f"{stats.loss:.4g}"
        )
    return None


def _is_relu(keras, layer) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return not getattr(layer, "negative_slope", 0)
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) in ("relu", "relu6")


def _relu_probe(keras, model):
    """(probe model, its layers): a functional view of the model's top-level ReLU outputs."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError("the dead-unit check needs a functional or Sequential model")
    # The probe takes its inputs in the structure the model does (one tensor, a list, a dict).
    graph = getattr(model, "_functional", None) or model  # a built Sequential wraps a Functional
    struct = getattr(graph, "_inputs_struct", None)
    inputs = struct if struct is not None else (inputs[0] if len(inputs) == 1 else inputs)
    layers = [layer for layer in model.layers if _is_relu(keras, layer)]
    if not layers:
        return None, []
    try:
        return keras.Model(inputs, [layer.output for layer in layers]), layers
    except Exception:  # noqa: BLE001 - a layer is shared (several outputs) or off the graph
        pass
    kept = []
    for layer in layers:
        try:
            keras.Model(inputs, layer.output)
            kept.append(layer)
        except Exception:  # noqa: BLE001 - that one is dropped
            continue
    return (keras.Model(inputs, [layer.output for layer in kept]), kept) if kept else (None, [])


def _dead_fractions(keras, probe, layers, x) -> list:
    """(layer name, fraction dead, unit count) per ReLU layer, on the sample batch."""
    import numpy as np

    outputs = probe(x, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    result = []
    for layer, out in zip(layers, outputs):
        values = np.asarray(keras.ops.convert_to_numpy(out))
        if values.ndim < 2:
            continue
        axis = 1 if getattr(layer, "data_format", "channels_last") == "channels_first" else -1
        units = np.moveaxis(values, axis, -1).reshape(-1, values.shape[axis])
        dead = np.all(units <= 0, axis=0)  # NaN is not <= 0: a NaN unit is broken, not dead
        result.append((layer.name, float(dead.mean()), int(dead.size)))
    return result


def _dying_relu(fractions: list, rows: int) -> Optional[str]:
    dying = sorted((f for f in fractions if f[1] > DEAD_RELU_FRACTION), key=lambda f: -f[1])
    if not dying:
        return None
    parts = [f"{name}: {fraction:.0%} of {count} units" for name, fraction, count in dying[:3]]
    more = f" and {len(dying) - 3} more layers" if len(dying) > 3 else ""
    return f"{'; '.join(parts)}{more} output 0 for all {rows} samples of the batch"


def _rows(keras, x) -> int:
    first = keras.tree.flatten(x)[0]
    return int(first.shape[0]) if len(first.shape) else 1


_BOTH_CHECKS = "gradient norms and dead ReLU units"


def _make_monitor(keras) -> type:
    class SymptomMonitor(keras.callbacks.Callback):
        """Watches a fit for the symptoms in SYMPTOMS; `.symptoms` lists what it saw.

        `x_sample`, `y_sample`: a batch (arrays, or structures of arrays, as fit takes them; a
        tf.data.Dataset or PyDataset gives its first batch) on which gradient norms and dead
        ReLU units are computed at the end of every `every`-th epoch and of the last one. Without a sample only
        the history symptoms are judged.
        """

        def __init__(self, x_sample=None, y_sample=None, *, every=1):
            super().__init__()
            self.x_sample, self.y_sample = x_sample, y_sample
            self.every = max(1, int(every))
            self.symptoms: list = []
            self._reset()

        def _reset(self):
            self._history: dict = {}
            self._first_epoch: Optional[int] = None  # initial_epoch + 1 for a fit that resumed
            self._found: dict = {}
            self._notes: dict = {}
            self._baseline = None
            self._sample = None
            self._probe = None
            self.symptoms = []

        # Every hook catches everything: a diagnostic must never stop the user's training.

        def on_train_begin(self, logs=None):
            self._reset()
            self._guard(_BOTH_CHECKS, self._prepare)
            self._refresh()

        def on_epoch_end(self, epoch, logs=None):
            self._guard("history", lambda: self._record(epoch, logs or {}))
            total = (self.params or {}).get("epochs")
            if self._sample is not None and ((epoch + 1) % self.every == 0 or epoch + 1 == total):
                self._guard("gradient norms", lambda: self._check_gradients(epoch + 1), epoch + 1)
                self._guard("dead ReLU units", lambda: self._check_relu(epoch + 1), epoch + 1)
            self._refresh()

        def on_train_end(self, logs=None):
            self._refresh()

        def _guard(self, what: str, check: Callable[[], Any], epoch: Optional[int] = None):
            try:
                check()
            except Exception as error:  # noqa: BLE001 - reported, never raised
                self._note(what, epoch, f"{type(error).__name__}: {error}")

        def _note(self, what: str, epoch: Optional[int], why: str):
            if what not in self._notes:
                self._notes[what] = _symptom(UNAVAILABLE, epoch, f"{what} not checked: {why}")

        def _prepare(self):
            if self.x_sample is None:
                self._note(_BOTH_CHECKS, None, "no sample batch was given")
                return
            self._sample = _sample_batch(keras, self.x_sample, self.y_sample)
            self._guard("gradient norms", self._take_baseline)
            self._guard("dead ReLU units", self._build_probe)

        # A subclassed model, or a Sequential without an Input, is only built by the first
        # training step: then the baseline is the first epoch's and the probe is built there.

        def _take_baseline(self):
            if self.model.trainable_variables:
                self._set_baseline(
                    _gradient_stats(keras, self.model, *self._sample), "before training"
                )

        def _set_baseline(self, stats: _GradientStats, when: str):
            if math.isfinite(stats.norm) and math.isfinite(stats.loss):
                stats.when = when
                self._baseline = stats

        def _build_probe(self):
            if not self.model.built:
                return
            with warnings.catch_warnings():  # Keras' notes on the probe are not the user's
                warnings.simplefilter("ignore")
                self._probe = _relu_probe(keras, self.model)

        def _record(self, epoch: int, logs: dict):
            if self._first_epoch is None:
                self._first_epoch = epoch + 1
            epochs = len(next(iter(self._history.values()), []))
            for key in set(self._history) | set(logs):
                column = self._history.setdefault(key, [None] * epochs)
                column.append(_number(logs.get(key)))

        def _check_gradients(self, epoch: int):
            if "gradient norms" in self._notes:
                return
            if "exploding-gradients" in self._found and "vanishing-gradients" in self._found:
                return
            stats = _gradient_stats(keras, self.model, *self._sample)
            if not math.isfinite(stats.loss):
                return  # a non-finite loss is "nan-loss"; its gradient says nothing more
            for name, judge in (
                ("exploding-gradients", _exploding),
                ("vanishing-gradients", _vanishing),
            ):
                detail = judge(stats, self._baseline)
                if detail and name not in self._found:
                    self._found[name] = _symptom(name, epoch, detail)
            if self._baseline is None:
                self._set_baseline(stats, f"at epoch {epoch}")

        def _check_relu(self, epoch: int):
            if "dead ReLU units" in self._notes:
                return
            if self._probe is None:
                self._build_probe()
            if self._probe is None or not self._probe[1] or "dying-relu" in self._found:
                return
            x = self._sample[0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fractions = _dead_fractions(keras, *self._probe, x)
            detail = _dying_relu(fractions, _rows(keras, x))
            if detail:
                self._found["dying-relu"] = _symptom("dying-relu", epoch, detail)

        def _refresh(self):
            try:
                found = symptoms_from_history(self._history, first_epoch=self._first_epoch or 1)
            except Exception as error:  # noqa: BLE001
                found = [_symptom(UNAVAILABLE, None, f"history not checked: {error}")]
            self.symptoms = _ordered(
                found + list(self._found.values()) + list(self._notes.values())
            )

    SymptomMonitor.__module__, SymptomMonitor.__qualname__ = __name__, "SymptomMonitor"
    return SymptomMonitor


def __getattr__(name: str):
    if name == "SymptomMonitor":
        import keras

        monitor = _make_monitor(keras)
        globals()["SymptomMonitor"] = monitor
        return monitor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
