"""Compare optimizers on a small regression task (scikit-learn's diabetes data).

Three runs of the same MLP: plain SGD, a hand-tuned RMSprop, and Adam with the usual callbacks.
Each is validated on a split of the training data and scored once on the held-out test set.
"""
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from tensorflow import keras

SEED = 3
EPOCHS = 150
BATCH_SIZE = 32

keras.utils.set_random_seed(SEED)
features, target = load_diabetes(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(features, target, test_size=0.2, random_state=SEED)
scaler = StandardScaler().fit(x_train)
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
y_scale = y_train.std()
y_train, y_test = y_train / y_scale, y_test / y_scale


def build_model():
    return keras.Sequential(
        [
            keras.Input(shape=(x_train.shape[1],)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(1),
        ]
    )


results = {}

# Run 1: the textbook default.
sgd_model = build_model()
sgd_model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
sgd_model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.2, verbose=0)
results["sgd"] = sgd_model.evaluate(x_test, y_test, verbose=0)[1]

# Run 2: a "faster" RMSprop.
rms_model = build_model()
rms_model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.05), loss="mse", metrics=["mae"])
rms_model.fit(x_train, y_train, epochs=30, batch_size=BATCH_SIZE, validation_split=0.2, verbose=0)
results["rmsprop"] = rms_model.evaluate(x_test, y_test, verbose=0)[1]

# Run 3: Adam, stopped on the validation loss, with the rate reduced on plateaus.
adam_model = build_model()
adam_model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse", metrics=["mae"])
adam_model.fit(
    x_train,
    y_train,
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    validation_split=0.2,
    callbacks=[
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5),
    ],
    verbose=0,
)
results["adam"] = adam_model.evaluate(x_test, y_test, verbose=0)[1]

for name, mae in results.items():
    print(f"{name:8s} test MAE: {mae * y_scale:.1f}")
