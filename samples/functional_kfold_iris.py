"""Functional-API classifier for the iris dataset, assessed with 5-fold CV.

The hidden layers come from a small helper, dense_block(), so the depth is
easy to change. After cross-validation the model is retrained on the whole
training set and evaluated once on the held-out test set.
"""
import numpy as np
import keras
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 11
EPOCHS = 30
BATCH_SIZE = 32
N_SPLITS = 5


def dense_block(x, units, dropout_rate=0.0):
    """Dense -> BatchNorm -> ReLU (-> Dropout)."""
    x = keras.layers.Dense(units, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    if dropout_rate > 0:
        x = keras.layers.Dropout(dropout_rate)(x)
    return x


def build_model(n_features, n_classes):
    inputs = keras.Input(shape=(n_features,), name="measurements")
    x = dense_block(inputs, 64)
    x = dense_block(x, 64, dropout_rate=0.2)
    x = dense_block(x, 32)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="species")(x)
    model = keras.Model(inputs, outputs, name="iris_functional")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main():
    keras.utils.set_random_seed(SEED)
    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.2, random_state=SEED, stratify=iris.target
    )
    n_features, n_classes = x_train.shape[1], len(iris.target_names)

    # ---- 5-fold cross-validation on the training set
    fold_scores = []
    kfold = StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=SEED)
    for fold, (train_idx, val_idx) in enumerate(kfold.split(x_train, y_train), start=1):
        scaler = StandardScaler().fit(x_train[train_idx])
        x_tr, x_va = scaler.transform(x_train[train_idx]), scaler.transform(x_train[val_idx])
        y_tr, y_va = y_train[train_idx], y_train[val_idx]

        model = build_model(n_features, n_classes)
        model.fit(x_tr, y_tr, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
        _, val_acc = model.evaluate(x_va, y_va, verbose=0)
        fold_scores.append(val_acc)
        print(f"fold {fold}: val accuracy {val_acc:.4f}")
    print(f"CV accuracy: {np.mean(fold_scores):.4f} +/- {np.std(fold_scores):.4f}")

    # ---- retrain on all training data, then one final test evaluation
    scaler = StandardScaler().fit(x_train)
    x_train_s, x_test_s = scaler.transform(x_train), scaler.transform(x_test)
    final_model = build_model(n_features, n_classes)
    final_model.fit(x_train_s, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
    test_loss, test_acc = final_model.evaluate(x_test_s, y_test, verbose=0)
    print(f"test accuracy: {test_acc:.4f} (loss {test_loss:.4f})")


if __name__ == "__main__":
    main()
