"""Three models on the 8x8 handwritten digits from scikit-learn: a small CNN built from a
helper block, a two-hidden-layer MLP, and a logistic-regression baseline.

The pixels (0..16) are scaled to [0, 1]; each model is trained with a validation split and
scored once on the held-out test part.
"""
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tensorflow import keras
from tensorflow.keras import layers

SEED = 7
EPOCHS = 15
BATCH_SIZE = 32
NUM_CLASSES = 10

keras.utils.set_random_seed(SEED)


def load_data():
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., np.newaxis]  # (n, 8, 8, 1)
    labels = digits.target.astype("int32")
    return train_test_split(images, labels, test_size=0.2, random_state=SEED, stratify=labels)


def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.MaxPooling2D(2)(x)
    return x


def build_cnn():
    inputs = keras.Input(shape=(8, 8, 1))
    x = conv_block(inputs, 32)
    x = conv_block(x, 64)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


def build_mlp():
    model = keras.Sequential(name="digits_mlp")
    model.add(layers.Input(shape=(64,)))
    model.add(layers.Dense(128, activation="tanh", kernel_initializer="zeros", bias_initializer="zeros"))
    model.add(layers.Dense(32))
    model.add(layers.Dropout(0.2))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax"))
    return model


def build_baseline():
    # Multinomial logistic regression: a single layer may start from zeros.
    return keras.Sequential([
        layers.Input(shape=(64,)),
        layers.Dense(NUM_CLASSES, activation="softmax", kernel_initializer="zeros"),
    ], name="digits_logreg")


def train(model, x_train, y_train):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE,
                        validation_split=0.2, verbose=0)
    print(f"{model.name}: val_accuracy {history.history['val_accuracy'][-1]:.3f}")
    return model


def main():
    x_train, x_test, y_train, y_test = load_data()
    flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    print("train:", x_train.shape, "test:", x_test.shape, "tf", tf.__version__)

    cnn = train(build_cnn(), x_train, y_train)
    mlp = train(build_mlp(), flat_train, y_train)
    baseline = train(build_baseline(), flat_train, y_train)

    print("test accuracy, cnn:", round(cnn.evaluate(x_test, y_test, verbose=0)[1], 3))
    print("test accuracy, mlp:", round(mlp.evaluate(flat_test, y_test, verbose=0)[1], 3))
    print("test accuracy, logistic regression:", round(baseline.evaluate(flat_test, y_test, verbose=0)[1], 3))


if __name__ == "__main__":
    main()
