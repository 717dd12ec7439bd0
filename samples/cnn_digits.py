"""Small convolutional network on the 8x8 handwritten digits from scikit-learn.

The images are reshaped to (8, 8, 1) and scaled to [0, 1]; the network is
built one layer at a time with model.add().
"""
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
EPOCHS = 20
BATCH_SIZE = 64
NUM_CLASSES = 10

tf.keras.utils.set_random_seed(SEED)


def load_data():
    digits = load_digits()
    images = digits.images.astype("float32") / 16.0  # pixel values are 0..16
    images = images.reshape(-1, 8, 8, 1)
    labels = digits.target.astype("int32")
    return train_test_split(images, labels, test_size=0.25, random_state=SEED, stratify=labels)


def build_cnn():
    model = tf.keras.Sequential(name="digits_cnn")
    model.add(tf.keras.layers.Input(shape=(8, 8, 1)))

    # block 1: conv -> BN -> ReLU
    model.add(tf.keras.layers.Conv2D(16, 3, padding="same", use_bias=False))
    model.add(tf.keras.layers.BatchNormalization())
    model.add(tf.keras.layers.Activation("relu"))
    model.add(tf.keras.layers.MaxPooling2D(pool_size=2))

    # block 2
    model.add(tf.keras.layers.Conv2D(32, 3, padding="same"))
    model.add(tf.keras.layers.Activation("relu"))
    model.add(tf.keras.layers.BatchNormalization())
    model.add(tf.keras.layers.MaxPooling2D(pool_size=2))

    # classifier head
    model.add(tf.keras.layers.Flatten())
    model.add(tf.keras.layers.Dense(64, activation="relu"))
    model.add(tf.keras.layers.Dropout(0.3))
    model.add(tf.keras.layers.Dense(NUM_CLASSES, activation="softmax"))
    return model


def main():
    x_train, x_test, y_train, y_test = load_data()
    print("train images:", x_train.shape, "test images:", x_test.shape)

    model = build_cnn()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.summary()

    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=2)

    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {acc:.4f} (loss {loss:.4f})")

    predictions = np.argmax(model.predict(x_test[:10], verbose=0), axis=1)
    print("first predictions:", predictions.tolist())
    print("true labels:      ", y_test[:10].tolist())


if __name__ == "__main__":
    main()
