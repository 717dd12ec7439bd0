"""Time per line from 1k-line to 50k-line files: no pass of kerastips grows faster than the file.

    python bench/growth.py [--reps 3] [--sizes 1000,2000,5000,10000,20000,50000]

Each file is generated: a header of imports, then three realistic blocks of Keras training code
repeated with their own names (an MLP built with .add() in a loop and trained with a scaler and
early stopping, a functional CNN trained on CIFAR-10 with SGD, a subclassed model with a custom
layer), so every size has the same mix of code and of findings. In one process, interleaved, best
of --reps, in CPU seconds of this process (steadier than wall-clock time on a shared machine):
libcst.parse_module alone, and lint (the default selection, as `kerastips lint` runs it on one
file), split into the time spent inside libcst.parse_module and the rest (kerastips' own work).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best, interleaved, machine  # noqa: E402

import libcst  # noqa: E402

from kerastips.config import load_settings  # noqa: E402
from kerastips.engine import lint_source  # noqa: E402

HEADER = '''"""Generated training code: the same blocks over and over, each with its own names."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

'''
BLOCKS = ['''
EPOCHS_{i} = 20


def load_data_{i}(n=1000):
    x = np.random.rand(n, 32).astype("float32")
    y = (x.sum(axis=1) > 16).astype("int32")
    return train_test_split(x, y, test_size=0.2, random_state={i})


def build_mlp_{i}(units=64, dropout=0.3):
    model = keras.Sequential(name="mlp_{i}")
    model.add(layers.Input(shape=(32,)))
    for width in (units, units // 2):
        model.add(layers.Dense(width, use_bias=False))
        model.add(layers.BatchNormalization())
        model.add(layers.Activation("relu"))
        model.add(layers.Dropout(dropout))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model


def train_mlp_{i}():
    x_train, x_test, y_train, y_test = load_data_{i}()
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    model = build_mlp_{i}()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="binary_crossentropy", metrics=["accuracy"])
    early = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    model.fit(x_train, y_train, validation_split=0.2, epochs=EPOCHS_{i}, batch_size=32,
              callbacks=[early], verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)
''', '''

def conv_block_{i}(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.MaxPooling2D()(x)


def build_cnn_{i}(num_classes=10):
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in (32, 64, 128):
        x = conv_block_{i}(x, filters)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="cnn_{i}")


def train_cnn_{i}():
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    x_train, x_val, y_train, y_val = train_test_split(x_train, y_train, test_size=0.1)
    model = build_cnn_{i}()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=5, batch_size=128)
    print(model.evaluate(x_test, y_test))
''', '''

class ResidualDense_{i}(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units, activation="relu")
        self.norm = layers.LayerNormalization()

    def call(self, inputs):
        return self.norm(inputs + self.dense(inputs))


class Classifier_{i}(keras.Model):
    def __init__(self, classes):
        super().__init__()
        self.embed = layers.Dense(64)
        self.block = ResidualDense_{i}(64)
        self.head = layers.Dense(classes, activation="softmax")

    def call(self, inputs):
        return self.head(self.block(self.embed(inputs)))


def train_classifier_{i}(x, y):
    model = Classifier_{i}(3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, validation_split=0.25, epochs=10, batch_size=16)
    return min(history.history["val_loss"])
''']

def generate(lines: int) -> str:
    parts, count, i = [HEADER], HEADER.count("\n"), 0
    while count < lines:
        block = BLOCKS[i % len(BLOCKS)].format(i=i)
        parts.append(block)
        count += block.count("\n")
        i += 1
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--sizes", default="1000,2000,5000,10000,20000,50000")
    options = parser.parse_args()
    rules = load_settings([]).rules
    parse_module = libcst.parse_module
    in_parser = [0.0]  # CPU seconds the lint spent in libcst.parse_module

    def parse_timed(*args, **kwargs):
        start = time.process_time()
        try:
            return parse_module(*args, **kwargs)
        finally:
            in_parser[0] += time.process_time() - start

    rows = []
    for size in map(int, options.sizes.split(",")):
        source = generate(size)
        lines = source.count("\n")
        findings = len(lint_source(source, "generated.py", rules))
        own: list[float] = []

        def parse() -> float:
            start = time.process_time()
            parse_module(source)
            return time.process_time() - start

        def lint() -> float:
            in_parser[0] = 0.0
            libcst.parse_module = parse_timed  # what kerastips' engine calls
            try:
                start = time.process_time()
                lint_source(source, "generated.py", rules)
                seconds = time.process_time() - start
            finally:
                libcst.parse_module = parse_module
            own.append(seconds - in_parser[0])
            return seconds

        times = interleaved({f"parse {lines}": parse, f"lint {lines}": lint}, options.reps)
        rows.append((lines, findings, *(best(times[f"{name} {lines}"]) / lines * 1e6 for name in ("parse", "lint")),
                     best(own) / lines * 1e6))
    print(f"machine: {machine()}")
    print("CPU microseconds per line; own: the lint's time outside libcst.parse_module")
    print("lines   findings   parse   lint   own   lint/parse   per line vs the smallest: parse, lint, own")
    first = rows[0]
    for lines, findings, parse, lint, own in rows:
        print(f"{lines:6}  {findings:8}  {parse:6.0f}  {lint:5.0f}  {own:4.0f}  {lint / parse:10.2f}   "
              f"{parse / first[2]:.2f}x, {lint / first[3]:.2f}x, {own / first[4]:.2f}x")


if __name__ == "__main__":
    main()
