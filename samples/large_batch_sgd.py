"""Large-batch training of an MLP on a synthetic binary classification task.

Uses batch_size=2048 with the learning rate scaled linearly from a base
rate of 0.1 per 256 examples (the "linear scaling rule").
"""
import numpy as np
from sklearn.model_selection import train_test_split
from tensorflow import keras

SEED = 42
N_SAMPLES = 40_000
N_FEATURES = 32
EPOCHS = 30
BATCH_SIZE = 2048
BASE_LR = 0.1  # learning rate for a batch of 256


def make_dataset(rng):
    """Labels come from a noisy non-linear function of the features."""
    x = rng.normal(size=(N_SAMPLES, N_FEATURES)).astype("float32")
    w = rng.normal(size=N_FEATURES)
    score = x @ w + 2.0 * np.sin(x[:, 0] * x[:, 1]) + rng.normal(scale=0.5, size=N_SAMPLES)
    y = (score > 0).astype("float32")
    return x, y


def build_model():
    return keras.Sequential(
        [
            keras.Input(shape=(N_FEATURES,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ],
        name="large_batch_mlp",
    )


def main():
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    x, y = make_dataset(rng)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=SEED)
    print(f"positives: {y.mean():.3f}, train {len(x_train)}, test {len(x_test)}")

    lr = BASE_LR * BATCH_SIZE / 256
    model = build_model()
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )

    history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=2)
    print(f"final training loss: {history.history['loss'][-1]:.4f}")

    loss, acc = model.evaluate(x_test, y_test, batch_size=4096, verbose=0)
    print(f"test accuracy: {acc:.4f} (loss {loss:.4f})")


if __name__ == "__main__":
    main()
