"""Binary classifier for the Wisconsin breast cancer dataset.

A plain multi-layer perceptron built with the Sequential list API.
The 30 tabular features are standardized before training.
"""
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from tensorflow import keras
from tensorflow.keras import layers

SEED = 7
EPOCHS = 25
BATCH_SIZE = 32
LEARNING_RATE = 1e-3

keras.utils.set_random_seed(SEED)

# ---------------------------------------------------------------- data
data = load_breast_cancer()
x, y = data.data.astype("float32"), data.target.astype("float32")
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, stratify=y, random_state=SEED
)

# fit the scaler on the training part only
scaler = StandardScaler().fit(x_train)
x_train = scaler.transform(x_train)
x_test = scaler.transform(x_test)
print(f"train: {x_train.shape}, test: {x_test.shape}")

# ---------------------------------------------------------------- model
model = keras.Sequential(
    [
        keras.Input(shape=(x_train.shape[1],)),
        layers.BatchNormalization(),
        layers.Dense(64, activation="relu"),
        layers.BatchNormalization(),
        layers.Dense(32, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ],
    name="breast_cancer_mlp",
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
    loss="binary_crossentropy",
    metrics=["accuracy"],
)
model.summary()

# ---------------------------------------------------------------- training
history = model.fit(
    x_train,
    y_train,
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    validation_data=(x_test, y_test),
    verbose=2,
)
best_epoch = int(np.argmax(history.history["val_accuracy"])) + 1
print(f"best val_accuracy {max(history.history['val_accuracy']):.4f} at epoch {best_epoch}")

# ---------------------------------------------------------------- results
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {test_loss:.4f}  test accuracy {test_acc:.4f}")
