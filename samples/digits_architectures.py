"""Two CNN architectures for the 8x8 handwritten digits from scikit-learn.

`compact` (the default) is sized for 8x8 images. `mnist` is the classic Keras MNIST recipe,
ported as-is from a 28x28 tutorial; select it with DIGITS_ARCH=mnist. Both are validated on a
held-out part of the training set and scored once on the test set.
"""
import os

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
EPOCHS = 15
BATCH_SIZE = 32
NUM_CLASSES = 10
INPUT_SHAPE = (8, 8, 1)
ARCH = os.environ.get("DIGITS_ARCH", "compact")

tf.keras.utils.set_random_seed(SEED)


def load_data():
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32").reshape(-1, *INPUT_SHAPE)
    labels = digits.target.astype("int32")
    return train_test_split(images, labels, test_size=0.2, random_state=SEED, stratify=labels)


def build_compact(input_shape):
    return tf.keras.Sequential([
        tf.keras.Input(shape=input_shape),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(),  # 4x4
        tf.keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(),  # 2x2
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dropout(0.3),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(NUM_CLASSES, activation="softmax"),
    ], name="compact")


def build_mnist_recipe(input_shape):
    # The MNIST tutorial's stack: two valid 3x3 convolutions and two 2x2 poolings per image.
    inputs = tf.keras.Input(shape=input_shape)
    x = tf.keras.layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = tf.keras.layers.MaxPooling2D((2, 2))(x)
    x = tf.keras.layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = tf.keras.layers.MaxPooling2D((2, 2))(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dropout(0.5)(x)
    outputs = tf.keras.layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="mnist_recipe")


def main():
    x_train, x_test, y_train, y_test = load_data()
    print("train images:", x_train.shape, "test images:", x_test.shape, "architecture:", ARCH)

    model = build_compact(INPUT_SHAPE) if ARCH == "compact" else build_mnist_recipe(INPUT_SHAPE)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.summary()
    history = model.fit(
        x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.2, verbose=2
    )
    print(f"best validation accuracy: {max(history.history['val_accuracy']):.4f}")

    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    print(f"{ARCH} test accuracy: {np.mean(predicted == y_test):.4f}")
    for digit in range(NUM_CLASSES):
        hits = predicted[y_test == digit] == digit
        print(f"  digit {digit}: {hits.mean():.3f} of {hits.size}")


if __name__ == "__main__":
    main()
