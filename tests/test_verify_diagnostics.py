"""The runtime symptoms of kerastips.verify.diagnostics, each on a model built to show it.

Real training on CPU with the TensorFlow backend: tiny seeded models, each fit of a few epochs, and
every assertion names the exact symptom and the epoch it appeared (1-based, as Keras prints it).
Each symptom has a near miss beside it (a healthy or merely converging model that must stay quiet).
`symptoms_from_history` is also checked on literal histories, which need no Keras at all.

The Keras tests need the `verify` extra (skipped without it).
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys

import pytest

from kerastips.verify.diagnostics import (
    DEAD_RELU_FRACTION,
    EXPLODING_GRAD_NORM,
    LOSS_TOLERANCE,
    OVERFIT_VAL_RISE,
    SYMPTOMS,
    UNAVAILABLE,
    VANISHING_DEPTH_RATIO,
    symptoms_from_history,
)

HAVE_KERAS = all(importlib.util.find_spec(name) for name in ("tensorflow", "keras"))
needs_keras = pytest.mark.skipif(
    not HAVE_KERAS, reason="needs the verify extra: pip install -e '.[verify]'"
)


def found(symptoms) -> dict:
    """{name: epoch} of a symptom list (each symptom appears at most once; notes once per check)."""
    names = [s["name"] for s in symptoms if s["name"] != UNAVAILABLE]
    assert len(names) == len(set(names)), symptoms
    for symptom in symptoms:
        assert set(symptom) == {"name", "epoch", "detail"}, symptom
        assert symptom["name"] in SYMPTOMS + (UNAVAILABLE,), symptom
        assert isinstance(symptom["detail"], str) and symptom["detail"], symptom
    return {s["name"]: s["epoch"] for s in symptoms}


def test_the_symptom_names_are_the_contract():
    assert SYMPTOMS == (
        "nan-loss", "exploding-gradients", "vanishing-gradients", "dying-relu",
        "loss-not-decreasing", "overfitting",
    )  # fmt: skip
    assert UNAVAILABLE == "diagnostics-unavailable"


def test_the_module_imports_no_framework():
    code = (
        "import sys; from kerastips.verify.diagnostics import symptoms_from_history\n"
        "symptoms_from_history({'loss': [1.0, 1.0, 1.0]})\n"
        "loaded = {'keras', 'tensorflow', 'jax', 'torch', 'numpy'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---- symptoms_from_history on literal histories ------------------------------------------------


def test_history_nan_loss_is_the_first_non_finite_epoch():
    history = {"loss": [1.0, 0.8, float("nan"), float("nan")], "val_loss": [1.1, 0.9, 0.85, 0.9]}
    assert found(symptoms_from_history(history)) == {"nan-loss": 3}
    history = {"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, float("inf"), float("nan")]}
    symptoms = symptoms_from_history(history)
    assert found(symptoms) == {"nan-loss": 2}
    assert "val_loss = inf" in symptoms[0]["detail"]
    # an output's own loss of a multi-output model counts as well
    assert found(
        symptoms_from_history({"loss": [2.0, 1.0, 0.5], "out_b_loss": [1, math.inf, 1]})
    ) == {"nan-loss": 2}


def test_history_finite_and_odd_values_show_nothing():
    assert symptoms_from_history({}) == []
    assert symptoms_from_history({"loss": []}) == []
    assert (
        symptoms_from_history({"loss": [1.0, 0.5, None, "n/a", 0.2], "accuracy": [0.1, 0.5]}) == []
    )
    assert symptoms_from_history({"loss": "not a list", "val_loss": 3}) == []
    assert symptoms_from_history(None) == []


def test_history_loss_not_decreasing_flat_from_the_start():
    assert found(symptoms_from_history({"loss": [2.3026] * 5})) == {"loss-not-decreasing": 2}
    # within the tolerance is still flat: 0.5% over the run
    assert found(symptoms_from_history({"loss": [1.0, 0.999, 0.998, 0.995]})) == {
        "loss-not-decreasing": 2
    }


def test_history_loss_not_decreasing_since_it_climbed_back():
    # it went down, then from epoch 4 on it stayed at or above where it started
    history = {"loss": [1.0, 0.7, 0.8, 1.0, 1.2, 1.1]}
    symptoms = symptoms_from_history(history)
    assert found(symptoms) == {"loss-not-decreasing": 4}
    assert "epoch 6" in symptoms[0]["detail"] and "epoch 1" in symptoms[0]["detail"]


def test_history_loss_not_decreasing_near_misses():
    # a slow but real decrease (2%), a converged plateau, and too few epochs to judge a trend
    assert symptoms_from_history({"loss": [1.0, 0.995, 0.99, 0.98]}) == []
    assert symptoms_from_history({"loss": [1.0, 0.3, 0.3, 0.3, 0.3]}) == []
    assert symptoms_from_history({"loss": [1.0, 1.0]}) == []
    # the tolerance is relative, also for a negative loss (e.g. cosine similarity)
    assert found(symptoms_from_history({"loss": [-0.5, -0.501, -0.502]})) == {
        "loss-not-decreasing": 2
    }
    assert symptoms_from_history({"loss": [-0.5, -0.6, -0.7]}) == []
    assert LOSS_TOLERANCE == 0.01


def test_history_overfitting_opens_after_the_val_minimum():
    history = {
        "loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.1],
        "val_loss": [1.0, 0.7, 0.6, 0.5, 0.6, 0.8],
    }
    symptoms = symptoms_from_history(history)
    assert found(symptoms) == {"overfitting": 5}
    assert "lowest at epoch 4" in symptoms[0]["detail"]


def test_history_overfitting_near_misses():
    # val_loss wobbles by less than OVERFIT_VAL_RISE above its minimum
    assert OVERFIT_VAL_RISE == 0.10
    history = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [1.0, 0.7, 0.6, 0.63, 0.65]}
    assert symptoms_from_history(history) == []
    # val_loss still at its minimum at the end
    history = {"loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.0, 0.9, 0.8, 0.7]}
    assert symptoms_from_history(history) == []
    # both rising: divergence, not overfitting (the training loss did not keep falling)
    history = {"loss": [1.0, 0.6, 0.7, 0.9], "val_loss": [1.0, 0.6, 0.8, 1.0]}
    assert found(symptoms_from_history(history)) == {}
    # no validation at all
    assert symptoms_from_history({"loss": [1.0, 0.6, 0.4, 0.3]}) == []


def test_history_trends_stop_where_the_loss_went_non_finite():
    history = {
        "loss": [1.0, 0.5, 0.3, float("nan"), float("nan")],
        "val_loss": [1.0, 0.5, 0.3, 0.2, 0.9],
    }
    assert found(symptoms_from_history(history)) == {"nan-loss": 4}


def test_history_first_epoch_shifts_every_epoch_and_the_order_is_by_epoch():
    history = {
        "loss": [1.0, 0.6, 0.4, 0.3, 0.2, float("nan")],
        "val_loss": [1.0, 0.5, 0.6, 0.7, 0.8, 0.9],
    }
    symptoms = symptoms_from_history(history, first_epoch=11)
    assert [(s["name"], s["epoch"]) for s in symptoms] == [("overfitting", 13), ("nan-loss", 16)]
    assert "lowest at epoch 12" in symptoms[0]["detail"]
    assert "epoch 16" in symptoms[1]["detail"]


# ---- SymptomMonitor on real training -----------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    if not HAVE_KERAS:
        pytest.skip("needs the verify extra: pip install -e '.[verify]'")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("these models are checked on the TensorFlow backend")
    return keras


@pytest.fixture(scope="module")
def monitor(keras):
    from kerastips.verify import diagnostics

    return diagnostics.SymptomMonitor


@pytest.fixture(scope="module")
def data():
    """A small regression problem: 8 normal features, y = 2 x0 - x1."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    return x, (2 * x[:, :1] - x[:, 1:2]).astype("float32")


@pytest.fixture(scope="module")
def fit(keras, monitor, data):
    """fit(build, x, y, optimizer=..., epochs=..., **options) -> (symptoms, history dict).

    A seeded Sequential model over `build(keras)` (its layers), compiled with `loss` (mse), fit
    with a SymptomMonitor on `sample` (the first 64 rows) checking `every` epochs; other options
    go to Model.fit (batch_size 32). x and y default to `data`."""

    def run(
        build, x=None, y=None, *, optimizer, epochs, loss="mse", sample=None, every=1, **options
    ):
        x, y = (x, y) if x is not None else data
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input(x.shape[1:]), *build(keras)])
        model.compile(optimizer=optimizer, loss=loss)
        watch = monitor(*(sample if sample is not None else (x[:64], y[:64])), every=every)
        options.setdefault("batch_size", 32)
        history = model.fit(x, y, epochs=epochs, verbose=0, callbacks=[watch], **options)
        return watch.symptoms, history.history

    return run


def relu_mlp(keras, first_bias=0.0):
    return [
        keras.layers.Dense(
            32, "relu", bias_initializer=constant(keras, first_bias), name="hidden_1"
        ),
        keras.layers.Dense(32, "relu", name="hidden_2"),
        keras.layers.Dense(1, name="head"),
    ]


def dead_relu_mlp(keras):
    return relu_mlp(keras, first_bias=-10.0)


def constant(keras, value):
    return keras.initializers.Constant(value)


def linear(keras):
    return [keras.layers.Dense(1)]


@needs_keras
def test_a_healthy_model_shows_no_symptom(keras, fit, data):
    x, y = data
    symptoms, history = fit(
        relu_mlp, x[:192], y[:192], optimizer=keras.optimizers.Adam(1e-2), epochs=6,
        validation_data=(x[192:], y[192:]),
    )  # fmt: skip
    assert symptoms == []
    assert history["loss"][-1] < 0.1 * history["loss"][0]


@needs_keras
def test_nan_loss_from_a_huge_learning_rate(keras, fit):
    symptoms, history = fit(relu_mlp, optimizer=keras.optimizers.SGD(10.0), epochs=3)
    assert found(symptoms) == {"nan-loss": 1}
    assert math.isnan(history["loss"][0])


@needs_keras
def test_nan_loss_from_the_log_of_negative_values(keras, fit):
    # the model predicts log(b) for a target of -5, b a bias from 1: gradient descent drives b
    # down with ever larger steps (the gradient is 2 (log b + 5) / b) until a step (the 30th)
    # takes it below 0, in epoch 4 (8 steps an epoch); the loss falls until then
    import numpy as np

    def log_of_bias(keras):
        return [
            keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer="ones"),
            keras.layers.Lambda(keras.ops.log),
        ]

    x, y = np.zeros((256, 1), "float32"), np.full((256, 1), -5.0, "float32")
    symptoms, history = fit(log_of_bias, x, y, optimizer=keras.optimizers.SGD(0.002), epochs=5)
    assert found(symptoms) == {"nan-loss": 4}
    assert history["loss"][0] > history["loss"][1] > history["loss"][2]


def deep_linear(depth, stddev):
    def build(keras):
        init = keras.initializers.RandomNormal(stddev=stddev)
        return [keras.layers.Dense(16, kernel_initializer=init) for _ in range(depth - 1)] + [
            keras.layers.Dense(1, kernel_initializer=init)
        ]

    return build


@needs_keras
def test_exploding_gradients_in_a_deep_linear_stack_with_a_large_init(keras, fit):
    # seven linear layers whose weights (stddev 0.5 on 16 units) double the signal at each layer:
    # the gradient norm is far above the threshold from the start; the tiny learning rate keeps
    # the loss finite, so the symptom is the gradient and not (yet) a NaN
    symptoms, _ = fit(deep_linear(7, 0.5), optimizer=keras.optimizers.SGD(1e-9), epochs=3)
    assert found(symptoms)["exploding-gradients"] == 1
    assert "nan-loss" not in found(symptoms)
    assert f"above {EXPLODING_GRAD_NORM:g}" in symptoms[0]["detail"]


@pytest.fixture(scope="module")
def diverging(keras, fit, data):
    """Linear regression by full-batch SGD above its stability limit (lr > 2 / largest Hessian
    eigenvalue, about 3.4 here): every step multiplies the error, so the gradient grows
    geometrically, epoch after epoch. Eight identical full-batch steps an epoch."""
    import numpy as np

    x, y = np.tile(data[0][:64], (8, 1)), np.tile(data[1][:64], (8, 1))

    def run(lr, epochs, every=1):
        optimizer = keras.optimizers.SGD(lr)
        options = {"batch_size": 64, "shuffle": False, "every": every}
        return fit(linear, x, y, optimizer=optimizer, epochs=epochs, **options)

    return run


@needs_keras
def test_exploding_gradients_growing_over_epochs_then_nan(diverging):
    # the norm goes 3.5 (before training), ~270, ~1.3e5, ...: above 1e3 at the end of epoch 2
    symptoms, _ = diverging(0.8, epochs=4)
    assert found(symptoms) == {"exploding-gradients": 2, "loss-not-decreasing": 2}
    # faster, until the loss overflows float32 in epoch 6
    symptoms, history = diverging(1.0, epochs=7)
    assert found(symptoms) == {"exploding-gradients": 1, "loss-not-decreasing": 2, "nan-loss": 6}
    assert all(math.isfinite(v) for v in history["loss"][:5])


@needs_keras
def test_exploding_gradients_are_checked_every_few_epochs_and_on_the_last(diverging):
    # checked after epoch 3 (every 3) and 5 (the last): seen at 3, though above 1e3 since 2
    symptoms, _ = diverging(0.8, epochs=5, every=3)
    assert found(symptoms)["exploding-gradients"] == 3


@needs_keras
def test_a_converging_model_whose_gradients_shrink_is_not_vanishing(keras, fit):
    # a deep linear stack that fits its data: the gradient norm falls by five orders of magnitude,
    # with the loss (near miss for the shrink rule and the depth ratio)
    symptoms, history = fit(deep_linear(5, 0.3), optimizer=keras.optimizers.SGD(0.02), epochs=6)
    assert symptoms == []
    assert history["loss"][-1] < 1e-5 * history["loss"][0]


def sigmoid_stack(depth):
    def build(keras):
        return [keras.layers.Dense(32, "sigmoid") for _ in range(depth)] + [keras.layers.Dense(1)]

    return build


@needs_keras
def test_vanishing_gradients_in_a_deep_sigmoid_stack(keras, fit):
    symptoms, _ = fit(sigmoid_stack(10), optimizer=keras.optimizers.SGD(0.01), epochs=3)
    assert found(symptoms) == {"vanishing-gradients": 1}
    assert "first kernel" in symptoms[0]["detail"]
    assert VANISHING_DEPTH_RATIO == 1e-4
    # near miss: three sigmoid layers lose less than two orders of magnitude
    symptoms, _ = fit(sigmoid_stack(3), optimizer=keras.optimizers.SGD(0.1), epochs=3)
    assert symptoms == []


@needs_keras
def test_vanishing_gradients_through_a_saturated_sigmoid(keras, fit, data):
    # a sigmoid output started at -30 under a squared error: its derivative (about 1e-13) leaves
    # no gradient at all, while the loss stays at 1
    import numpy as np

    def saturated(keras):
        return [keras.layers.Dense(1, "sigmoid", bias_initializer=constant(keras, -30.0))]

    x, ones = data[0], np.ones((len(data[0]), 1), "float32")
    symptoms, _ = fit(saturated, x, ones, optimizer=keras.optimizers.SGD(0.01), epochs=3)
    assert found(symptoms) == {"vanishing-gradients": 1, "loss-not-decreasing": 2}
    assert "below 1e-07" in symptoms[0]["detail"]


def test_gradient_rules_across_epochs():
    # the growth and shrink rules, on the numbers the monitor compares (norms on the same batch)
    from kerastips.verify.diagnostics import _exploding, _GradientStats, _vanishing

    def stats(norm, loss, when=""):
        result = _GradientStats(loss, norm, None, None)
        result.when = when
        return result

    before = stats(0.5, 2.0, "before training")
    grew = "global gradient norm grew from 0.5 before training to 600 (x1.2e+03)"
    assert _exploding(stats(600.0, 3.0), before) == grew
    assert _exploding(stats(400.0, 3.0), before) is None  # x800
    assert _exploding(stats(0.9, 3.0), stats(1e-4, 2.0)) is None  # grew x9000, still below 1
    fell = "global gradient norm fell from 0.5 before training to 4e-05"
    assert (
        _vanishing(stats(4e-5, 1.5), before)
        == f"{fell} while the sample loss only went from 2 to 1.5"
    )
    assert _vanishing(stats(4e-5, 0.5), before) is None  # converged: the loss fell with it
    assert _vanishing(stats(1e-3, 1.5), before) is None  # x500 only
    assert _vanishing(stats(1e-9, 1e-4), None) is None  # a fitted batch has no gradient


@needs_keras
def test_dying_relu_from_a_large_negative_bias(keras, fit):
    symptoms, _ = fit(dead_relu_mlp, optimizer=keras.optimizers.Adam(1e-3), epochs=3)
    # a dead first layer leaves the second one only its zero bias (dead too) and cuts the gradient
    # to everything before the head: nothing learns
    assert found(symptoms) == {"dying-relu": 1, "loss-not-decreasing": 2}
    both = "hidden_1: 100% of 32 units; hidden_2: 100% of 32 units"
    assert symptoms[0]["detail"] == f"{both} output 0 for all 64 samples of the batch"
    assert DEAD_RELU_FRACTION == 0.5
    # near miss: the same model with its default zero bias
    symptoms, _ = fit(relu_mlp, optimizer=keras.optimizers.Adam(1e-3), epochs=3)
    assert symptoms == []


@needs_keras
def test_dying_relu_from_a_large_learning_rate(keras, fit, data):
    # SGD at 0.5 throws the second layer's biases far negative in the first steps: it dies, and
    # the loss stalls at the variance of the target (what the head's bias alone can fit)
    symptoms, history = fit(relu_mlp, optimizer=keras.optimizers.SGD(0.5), epochs=4)
    assert found(symptoms) == {"dying-relu": 1}
    detail = "hidden_2: 97% of 32 units output 0 for all 64 samples of the batch"
    assert symptoms[0]["detail"] == detail
    assert history["loss"][-1] == pytest.approx(float(data[1].var()), rel=0.1)


@needs_keras
def test_dying_relu_in_convolutions_and_relu_layers(keras, monitor):
    # functional model: a convolution whose channels are all dead behind Activation("relu"), then a
    # healthy ReLU layer (and a LeakyReLU, which cannot die); a convolution's units are its channels
    import numpy as np

    layers = keras.layers
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    h = layers.Conv2D(4, 3, bias_initializer=constant(keras, -10.0), name="conv_dead")(inputs)
    h = layers.Activation("relu", name="act_dead")(h)
    h = layers.Conv2D(8, 3, bias_initializer=constant(keras, 0.5), name="conv_live")(h)
    h = layers.ReLU(name="relu_live")(h)
    h = layers.LeakyReLU(name="leaky")(layers.Dense(4)(layers.GlobalAveragePooling2D()(h)))
    model = keras.Model(inputs, layers.Dense(1)(h))
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 8, 8, 1)).astype("float32")
    y = x.mean(axis=(1, 2))
    watch = monitor(x, y)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[watch])
    symptoms = {s["name"]: s for s in watch.symptoms}
    assert symptoms["dying-relu"]["epoch"] == 1
    detail = "act_dead: 100% of 4 units output 0 for all 64 samples of the batch"
    assert symptoms["dying-relu"]["detail"] == detail


@needs_keras
def test_loss_not_decreasing_with_a_zero_learning_rate(keras, fit):
    symptoms, history = fit(relu_mlp, optimizer=keras.optimizers.SGD(0.0), epochs=4)
    assert found(symptoms) == {"loss-not-decreasing": 2}
    assert len(set(history["loss"])) == 1


@needs_keras
def test_overfitting_a_big_model_on_tiny_data_with_noisy_validation(keras, fit):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 16)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    x_val = rng.normal(size=(200, 16)).astype("float32")
    y_val = (x_val[:, 0] > 0).astype("float32")
    flip = rng.random(200) < 0.3  # 30% of the validation labels are wrong
    y_val[flip] = 1 - y_val[flip]

    def big(keras):
        return [keras.layers.Dense(256, "relu"), keras.layers.Dense(256, "relu")] + [
            keras.layers.Dense(1, "sigmoid")
        ]

    symptoms, _ = fit(
        big, x, y, optimizer=keras.optimizers.Adam(1e-2), epochs=5, loss="binary_crossentropy",
        batch_size=16, validation_data=(x_val, y_val),
    )  # fmt: skip
    # val_loss is lowest after epoch 1 and climbs from epoch 2 while the training loss falls
    assert found(symptoms) == {"overfitting": 2}
    assert "lowest at epoch 1" in symptoms[0]["detail"]


@needs_keras
def test_epochs_count_from_initial_epoch(keras, fit):
    optimizer = keras.optimizers.SGD(0.0)
    symptoms, _ = fit(dead_relu_mlp, optimizer=optimizer, epochs=6, initial_epoch=2)
    # Keras prints "Epoch 3/6" first: both kinds of symptom count the same way
    assert found(symptoms) == {"dying-relu": 3, "loss-not-decreasing": 4}


@needs_keras
def test_without_a_sample_only_the_history_is_judged(keras, fit):
    symptoms, _ = fit(relu_mlp, optimizer=keras.optimizers.SGD(0.0), epochs=3, sample=(None, None))
    assert found(symptoms) == {"loss-not-decreasing": 2, UNAVAILABLE: None}
    assert "no sample batch" in symptoms[-1]["detail"]


@needs_keras
def test_a_dataset_sample_gives_its_first_batch(keras, fit, data):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(data).batch(32)
    optimizer = keras.optimizers.Adam(1e-3)
    symptoms, _ = fit(dead_relu_mlp, optimizer=optimizer, epochs=1, sample=(dataset,))
    assert found(symptoms) == {"dying-relu": 1}
    assert "all 32 samples" in symptoms[0]["detail"]


@needs_keras
def test_a_py_dataset_sample_gives_its_first_batch(keras, fit, data):
    x, y = data

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 8

        def __getitem__(self, index):
            return x[index * 16 : (index + 1) * 16], y[index * 16 : (index + 1) * 16]

    optimizer = keras.optimizers.Adam(1e-3)
    symptoms, _ = fit(dead_relu_mlp, optimizer=optimizer, epochs=1, sample=(Batches(),))
    assert found(symptoms) == {"dying-relu": 1}
    assert "all 16 samples" in symptoms[0]["detail"]


@needs_keras
def test_a_generator_sample_is_left_alone(keras, fit, data):
    # reading it would take a batch from the user's training: the checks are skipped instead
    batches = (batch for batch in [(data[0][:32], data[1][:32])])
    optimizer = keras.optimizers.Adam(1e-2)
    symptoms, _ = fit(relu_mlp, optimizer=optimizer, epochs=3, sample=(batches, None))
    assert [(s["name"], s["epoch"]) for s in symptoms] == [(UNAVAILABLE, None)]
    skipped = "gradient norms and dead ReLU units not checked"
    assert (
        symptoms[0]["detail"]
        == f"{skipped}: ValueError: the sample batch is not arrays (generator)"
    )
    assert next(batches)[0].shape == (32, 8)


@needs_keras
def test_a_broken_sample_never_stops_the_training(keras, fit, data):
    import numpy as np

    wrong = np.zeros((4, 3), "float32")  # the model takes 8 features
    optimizer = keras.optimizers.Adam(1e-2)
    symptoms, history = fit(relu_mlp, optimizer=optimizer, epochs=3, sample=(wrong, data[1][:4]))
    assert len(history["loss"]) == 3
    assert [(s["name"], s["epoch"]) for s in symptoms] == [(UNAVAILABLE, 1), (UNAVAILABLE, None)]
    assert symptoms[0]["detail"].startswith("dead ReLU units not checked: ValueError: Input 0")
    assert symptoms[1]["detail"].startswith("gradient norms not checked: ValueError")


@needs_keras
def test_a_subclassed_model_gets_gradients_but_no_dead_unit_check(keras, monitor, data):
    import numpy as np

    class Net(keras.Model):  # the diverging linear regression, subclassed
        def __init__(self):
            super().__init__()
            self.head = keras.layers.Dense(1)

        def call(self, inputs):
            return self.head(inputs)

    x, y = np.tile(data[0][:64], (8, 1)), np.tile(data[1][:64], (8, 1))
    keras.utils.set_random_seed(0)
    model = Net()
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    watch = monitor(x[:64], y[:64])
    model.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0, callbacks=[watch])
    # first built by the first step: both checks run at the end of epoch 1
    expected = {"exploding-gradients": 1, "loss-not-decreasing": 2, UNAVAILABLE: 1}
    assert found(watch.symptoms) == expected
    notes = [s["detail"] for s in watch.symptoms if s["name"] == UNAVAILABLE]
    why = "ValueError: the dead-unit check needs a functional or Sequential model"
    assert notes == [f"dead ReLU units not checked: {why}"]


@needs_keras
def test_a_sequential_model_without_an_input_is_checked_once_built(keras, monitor, data):
    # built by the first training step, not before: the probe and the gradient baseline come then
    x, y = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential(dead_relu_mlp(keras))
    model.compile(optimizer="adam", loss="mse")
    watch = monitor(x[:64], y[:64])
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[watch])
    assert found(watch.symptoms) == {"dying-relu": 1, "loss-not-decreasing": 2}


@needs_keras
def test_the_checks_leave_the_training_as_it_was(keras, monitor, data):
    # BatchNormalization statistics and Dropout's seed move in a training-mode forward pass: the
    # monitor puts them back, so a fit with it ends with exactly the weights of a fit without it
    import numpy as np

    x, y = data

    def weights_after_fit(callbacks):
        keras.utils.set_random_seed(0)
        layers = keras.layers
        model = keras.Sequential([keras.Input((8,)), layers.Dense(16, "relu")])
        for layer in (layers.BatchNormalization(), layers.Dropout(0.3), layers.Dense(1)):
            model.add(layer)
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=callbacks)
        return [np.asarray(v) for v in model.variables]

    watch = monitor(x[:64], y[:64])
    without, with_monitor = weights_after_fit([]), weights_after_fit([watch])
    assert all(np.array_equal(a, b) for a, b in zip(without, with_monitor))
    assert watch.symptoms == []
