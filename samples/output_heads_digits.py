"""Output heads and losses on scikit-learn's handwritten digits (8x8 images, 10 classes).

A study script: the same small MLP trunk under different heads, each trained with the loss its
author picked: a ten-way classifier, a "zero or not" detector, a one-hot classifier, a logits
classifier, a subclassed "probability regression" model, and two heads that are right as they
are (a multi-label attribute head and a denoising autoencoder). The pixels are scaled to [0, 1];
every run validates on a split of the training data.
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tensorflow import keras
from tensorflow.keras import layers

SEED = 11
EPOCHS = 8
BATCH_SIZE = 64

keras.utils.set_random_seed(SEED)

# ---------------------------------------------------------------- data
digits = load_digits()
x = (digits.data / 16.0).astype("float32")  # intensities 0..16 -> [0, 1]
y = digits.target
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=SEED)
y_train_onehot = keras.utils.to_categorical(y_train, 10)
is_zero = (y_train == 0).astype("float32")
attributes = np.stack([y_train % 2 == 0, y_train >= 5, np.isin(y_train, [0, 6, 8, 9])], axis=1).astype("float32")


def trunk():
    inputs = keras.Input(shape=(64,))
    hidden = layers.Dense(64, activation="relu")(inputs)
    return inputs, layers.Dropout(0.2)(hidden)


def train(model, targets):
    history = model.fit(x_train, targets, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.2, verbose=0)
    print(f"{model.name:>14}: val_loss {history.history['val_loss'][-1]:.4f}")
    return history


# ---------------------------------------------------------------- ten-way classifier
inputs, hidden = trunk()
probabilities = layers.Dense(10, activation="softmax")(hidden)
classifier = keras.Model(inputs, probabilities, name="classifier")
classifier.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
train(classifier, y_train)

# ---------------------------------------------------------------- "is it a zero?" detector
detector = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(1, activation="softmax"),
    ],
    name="zero_detector",
)
detector.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
train(detector, is_zero)

# ---------------------------------------------------------------- one-hot classifier
onehot = keras.Sequential(name="onehot")
onehot.add(keras.Input(shape=(64,)))
onehot.add(layers.Dense(64, activation="relu"))
onehot.add(layers.Dense(10, activation="softmax"))
onehot.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
train(onehot, y_train_onehot)

# ---------------------------------------------------------------- logits classifier
inputs, hidden = trunk()
logits = layers.Dense(10)(hidden)
logit_model = keras.Model(inputs, logits, name="logits")
logit_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
train(logit_model, y_train)


# ---------------------------------------------------------------- class probabilities by regression
class ProbabilityRegressor(keras.Model):
    def __init__(self):
        super().__init__(name="prob_regressor")
        self.hidden = layers.Dense(64, activation="relu")
        self.head = layers.Dense(10, activation="softmax")

    def call(self, inputs):
        return self.head(self.hidden(inputs))


regressor = ProbabilityRegressor()
regressor.compile(optimizer="adam", loss="mean_squared_error")
train(regressor, y_train_onehot)

# ---------------------------------------------------------------- right as they are
inputs, hidden = trunk()
flags = layers.Dense(3, activation="sigmoid")(hidden)  # even, >= 5, has a closed loop
attribute_model = keras.Model(inputs, flags, name="attributes")
attribute_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["binary_accuracy"])
train(attribute_model, attributes)

noise = np.random.default_rng(SEED).normal(0.0, 0.1, x_train.shape).astype("float32")
denoiser = keras.Sequential(
    [keras.Input(shape=(64,)), layers.Dense(32, activation="relu"), layers.Dense(64, activation="sigmoid")],
    name="denoiser",
)
denoiser.compile(optimizer="adam", loss="mse")
denoiser.fit(np.clip(x_train + noise, 0.0, 1.0), x_train, epochs=EPOCHS, batch_size=BATCH_SIZE,
             validation_split=0.2, verbose=0)

# ---------------------------------------------------------------- results
test_loss, test_accuracy = classifier.evaluate(x_test, y_test, verbose=0)
print(f"classifier test accuracy {test_accuracy:.4f}")
