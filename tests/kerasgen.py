"""Random Keras training scripts, written from the vocabulary the rules look at, so that rules and
fixes fire: Sequential (list and .add), functional and subclassed models, layers with random
arguments, data splits, compile/fit/evaluate with random arguments, optimizers and callbacks.

One writer serves two drivers: hypothesis (`keras_modules()`, which shrinks a failure to a small
script) and a seeded `random.Random` (`random_module(seed)`, for the soak test and bench/soak.py).
"""

from __future__ import annotations

import ast
import json
import random
from typing import Any, Callable, Sequence

IMPORTS = {  # style -> (import lines, how a layer, a model class, keras itself are spelled)
    "tf.keras": ("from tensorflow import keras\nfrom tensorflow.keras import layers\n",
                 "layers.", "keras.", "keras"),
    "tf": ("import tensorflow as tf\n", "tf.keras.layers.", "tf.keras.", "tf.keras"),
    "keras": ("import keras\n", "keras.layers.", "keras.", "keras"),
    "bare": ("from keras.models import Sequential, Model\nfrom keras.layers import *\n"
             "from keras import Input, optimizers, losses, callbacks\nimport keras\n", "", "", "keras"),
}
ACTIVATIONS = ["relu", "sigmoid", "softmax", "tanh", "elu", "linear", "relu6", "gelu", None]
LOSSES = ['"mse"', '"mae"', '"binary_crossentropy"', '"categorical_crossentropy"',
          '"sparse_categorical_crossentropy"', "{k}.losses.SparseCategoricalCrossentropy(from_logits={b})",
          "{k}.losses.BinaryCrossentropy(from_logits={b})", "{k}.losses.MeanSquaredError()"]
OPTIMIZERS = ['"adam"', '"sgd"', '"rmsprop"', '"nadam"', "{k}.optimizers.Adam(learning_rate={lr})",
              "{k}.optimizers.SGD(learning_rate={lr})", "{k}.optimizers.SGD({lr}, momentum=0.9)",
              "{k}.optimizers.SGD(lr={lr}, decay=1e-6, momentum=0.9, nesterov=True)",
              "{k}.optimizers.RMSprop(lr={lr})", "{k}.optimizers.Adam({k}.optimizers.schedules."
              "ExponentialDecay({lr}, 1000, 0.9))", "OPT"]
DATASETS = ["mnist", "cifar10", "fashion_mnist", "cifar100"]


class Writer:
    """Writes one script; every decision goes through `pick` (a choice among options)."""

    def __init__(self, pick: Callable[[Sequence[Any]], Any]) -> None:
        self.pick = pick
        self.lines: list[str] = []

    def flag(self) -> bool:
        return self.pick([False, True])

    def module(self) -> str:
        style = self.pick(list(IMPORTS))
        imports, self.layer, self.model_prefix, self.k = IMPORTS[style]
        self.lines = [imports]
        if self.flag():
            self.lines.append('"""A training script."""\n')
        for _ in range(self.pick([1, 1, 2])):
            self.data()
            name = self.model()
            for _ in range(self.pick([0, 1, 1, 2])):
                self.training(name)
            if self.flag():
                self.noise()
        return "".join(self.lines)

    # ---- data -----------------------------------------------------------------------------------

    def data(self) -> None:
        kind = self.pick(["load_data", "split", "dataset", "none"])
        if kind == "load_data":
            self.emit(f"(x_train, y_train), (x_test, y_test) = {self.k}.datasets."
                      f"{self.pick(DATASETS)}.load_data()")
            if self.flag():
                self.emit(f"x_train = x_train{self.pick(['.reshape(-1, 784)', ''])} / "
                          f"{self.pick(['255.0', '255', '1.0'])}")
        elif kind == "split":
            self.emit("from sklearn.model_selection import train_test_split")
            if self.flag():
                self.emit("from sklearn.preprocessing import StandardScaler")
                self.emit("X = StandardScaler().fit_transform(X)")
            self.emit(f"x_train, x_test, y_train, y_test = train_test_split(X, y, "
                      f"test_size={self.pick(['0.2', '0.25', '0.5'])})")
        elif kind == "dataset":
            self.emit(f"train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train))"
                      f".batch({self.pick([2, 32, 1024])})")

    # ---- models ---------------------------------------------------------------------------------

    def layer_call(self, last: bool = False) -> str:
        kind = self.pick(["Dense", "Dense", "Dense", "Conv2D", "Conv1D", "BatchNormalization",
                          "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Dropout",
                          "SpatialDropout2D", "MaxPooling2D", "MaxPooling1D", "GlobalAveragePooling2D",
                          "GlobalAveragePooling1D", "Flatten", "Softmax", "LayerNormalization",
                          "Embedding", "Reshape"])
        args: list[str] = []
        if kind == "Dense":
            args.append(str(self.pick([1, 1, 2, 3, 10, 32, 64, 128] if last else [8, 32, 64, 256, 1])))
            activation = self.pick(ACTIVATIONS + (["softmax", "sigmoid"] if last else []))
            if activation is not None:
                args.append(self.pick([f'activation="{activation}"', f"'{activation}'"]))
        elif kind in ("Conv2D", "Conv1D"):
            args += [str(self.pick([16, 32, 64])), self.pick(["3", "(3, 3)", "5", "7"])]
            if self.flag():
                args.append(f'activation="{self.pick(["relu", "tanh", "linear"])}"')
            if self.flag():
                args.append('padding="same"')
        elif kind == "Activation":
            args.append(f'"{self.pick(["relu", "sigmoid", "softmax", "tanh", "relu6"])}"')
        elif kind in ("Dropout", "SpatialDropout2D"):
            args.append(self.pick(["0.1", "0.25", "0.5"]))
        elif kind == "Embedding":
            args += [str(self.pick([1000, 20000])), str(self.pick([16, 64]))]
        elif kind == "Reshape":
            args.append(self.pick(["(8, 8)", "(28, 28, 1)", "(-1,)"]))
        if kind in ("Dense", "Conv2D", "Conv1D") and self.flag():
            args.append(self.pick(["use_bias=False", "use_bias=True", 'kernel_initializer="zeros"',
                                   "kernel_initializer=" + self.k + ".initializers.Ones()"]))
        if self.pick([False, False, False, True]):
            args.append(self.pick(["input_shape=(28, 28, 1)", "input_shape=(20,)", "input_dim=8"]))
        return f"{self.layer}{kind}({', '.join(args)})"

    def layers(self) -> list[str]:
        count = self.pick([1, 2, 3, 4, 6])
        return [self.layer_call(last=i == count - 1) for i in range(count)]

    def model(self) -> str:
        name = self.pick(["model", "model", "net", "clf"])
        style = self.pick(["list", "add", "add_loop", "functional", "nested", "subclass", "helper"])
        if style == "list":
            self.spread(f"{name} = {self.model_prefix}Sequential([", self.layers(), "])")
        elif style in ("add", "add_loop"):
            self.emit(f"{name} = {self.model_prefix}Sequential()")
            indent = ""
            if style == "add_loop":
                self.emit(f"for units in [{self.pick(['128, 64', '32', '256, 128, 64'])}]:")
                indent = "    "
            for item in self.layers():
                self.emit(f"{indent}{name}.add({item}){self.comment()}")
        elif style == "functional":
            self.emit(f"inputs = {self.model_prefix}Input(shape={self.pick(['(20,)', '(28, 28, 1)', '(128,)'])})")
            self.emit("x = inputs")
            if self.pick([False, False, True]):
                self.emit(f"x = {self.layer}MultiHeadAttention(num_heads=2, key_dim=8)(x, x)")
            for item in self.layers():
                self.emit(f"x = {item}(x){self.comment()}")
            self.emit(f"{name} = {self.model_prefix}Model(inputs, x)")
        elif style == "subclass":
            items = self.layers()
            self.emit(f"class Net({self.model_prefix}Model):")
            self.emit("    def __init__(self):")
            self.emit("        super().__init__()")
            for i, item in enumerate(items):
                self.emit(f"        self.l{i} = {item}")
            self.emit("    def call(self, x):")
            for i in range(len(items)):
                self.emit(f"        x = self.l{i}(x)")
            self.emit("        return x")
            self.emit(f"{name} = Net()")
        elif style == "nested":  # one expression: the last layer applied to the others' output
            expression = "inputs"
            for item in self.layers():
                expression = f"{item}({expression})"
            self.emit(f"inputs = {self.model_prefix}Input(shape=(20,))")
            self.emit(f"{name} = {self.model_prefix}Model(inputs, {expression})")
        else:
            self.emit("def block(x, units):")
            for item in self.layers():
                self.emit(f"    x = {item}(x)")
            self.emit("    return x")
            self.emit(f"inputs = {self.model_prefix}Input((32,))")
            if self.flag():
                self.emit(f"{name} = {self.model_prefix}Model(inputs, block(block(inputs, 16), 8))")
            else:
                self.emit("x = inputs")
                self.emit(f"for units in [{self.pick(['64, 32', '16', '8, 8, 8'])}]:")
                self.emit("    x = block(x, units)")
                self.emit(f"{name} = {self.model_prefix}Model(inputs, x)")
        return name

    # ---- training -------------------------------------------------------------------------------

    def training(self, name: str) -> None:
        if self.flag():
            self.emit(f"EPOCHS = {self.pick([5, 60, 200])}")
        lr = self.pick(["1e-3", "0.01", "0.1", "5.0", "1e-8", "3e-4", "LR"])
        optimizer = self.pick(OPTIMIZERS).format(k=self.k, lr=lr)
        if optimizer == "OPT" or "LR" in optimizer:
            self.emit(f"LR = {self.pick(['0.01', '1e-3'])}")
        if optimizer == "OPT":
            optimizer = "opt"
            self.emit(f"opt = {self.k}.optimizers.SGD(learning_rate=LR)")
        loss = self.pick(LOSSES).format(k=self.k, b=self.pick(["True", "False"]))
        arguments = [f"optimizer={optimizer}", f"loss={loss}"]
        if self.flag():
            arguments.append('metrics=["accuracy"]')
        self.emit(f"{name}.compile({', '.join(arguments)})")
        x, y = self.pick([("x_train", "y_train"), ("X", "y"), ("train_ds", None), ("x_test", "y_test")])
        fit = [x] + ([y] if y else [])
        if self.pick([False, False, True]):
            fit += [str(self.pick([4, 32, 8192])), str(self.pick([1, 50]))]  # batch_size, epochs
        else:
            fit.append(f"epochs={self.pick(['EPOCHS', '3', '100', '1000'])}")
            if self.flag():
                fit.append(f"batch_size={self.pick([2, 16, 128, 4096])}")
        validation = self.pick(["", "validation_split=0.2", "validation_data=(x_test, y_test)",
                                "validation_data=(x_train, y_train)", "validation_data=val_ds"])
        if validation:
            fit.append(validation)
        if self.pick([False, False, True]):
            fit.append(f"shuffle={self.pick(['False', 'True'])}")
        if self.flag():
            callback = self.pick([f"{self.k}.callbacks.EarlyStopping(patience=3)",
                                  f'{self.k}.callbacks.ModelCheckpoint("m.keras")',
                                  f'{self.k}.callbacks.TensorBoard("logs")'])
            fit.append(f"callbacks=[{callback}]")
        self.spread(f"{self.pick(['', 'history = '])}{name}.fit(", fit, ")")
        if self.flag():
            self.emit(f"{name}.evaluate({self.pick(['x_test, y_test', 'x_train, y_train', 'X, y'])})")

    def noise(self) -> None:
        self.emit(self.pick([
            "for lr in [0.1, 0.01]:\n    scores = {}\n    scores[lr] = model.evaluate(x_test, y_test)",
            "print(model.summary())", "# a comment", "", "if __name__ == '__main__':\n    main()",
            "x = tf.keras.utils.to_categorical(y)",
        ]))

    # ---- text -----------------------------------------------------------------------------------

    def spread(self, opening: str, items: list[str], closing: str) -> None:
        """`opening item, item closing` on one line, or an item a line (with comments)."""
        if self.flag():
            self.emit(opening)
            for item in items:
                self.emit(f"    {item},{self.comment()}")
            self.emit(closing)
        else:
            self.emit(f"{opening}{', '.join(items)}{closing}{self.comment()}")

    def comment(self) -> str:
        return self.pick(["", "", "", "  # hidden", "  # noqa: KT101", "  # noqa: KT3"])

    def emit(self, line: str) -> None:
        self.lines.append(line + "\n")


def random_module(seed: int) -> str:
    """A script from a seeded generator (the same seed, the same script)."""
    rng = random.Random(seed)
    return Writer(lambda options: options[rng.randrange(len(options))]).module()


def keras_modules():
    """A hypothesis strategy of scripts (imported lazily: hypothesis is a test dependency)."""
    from hypothesis import strategies as st

    @st.composite
    def modules(draw) -> str:
        return Writer(lambda options: draw(st.sampled_from(list(options)))).module()

    return modules()


def as_notebook(source: bytes) -> bytes:
    """The source as a notebook, a cell per run of top-level statements after a blank line (one
    cell when it does not parse), the JSON as Jupyter writes it."""
    text = source.decode("utf-8", "replace")
    lines = text.splitlines(keepends=True)
    try:
        starts = {min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
                  for node in ast.parse(text).body}
    except (SyntaxError, ValueError):
        starts = set()
    cuts = [0] + [i for i in sorted(starts) if i > 0 and not lines[i - 1].strip()] + [len(lines)]
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": lines[a:b]} for a, b in zip(cuts, cuts[1:]) if a < b]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(notebook, indent=1) + "\n").encode()
