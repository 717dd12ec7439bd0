"""Wine cultivar classifier: a small MLP with batch normalization.

13 chemical measurements of 178 Italian wines from three cultivars (scikit-learn's wine data).
The measurements are standardized, the data split into training and test sets, and two
networks are trained on the small training set with small batches: one with
BatchNormalization, and for comparison one with LayerNormalization.
"""
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder, StandardScaler
from tensorflow import keras
from tensorflow.keras import layers

SEED = 3
EPOCHS = 40
BATCH_SIZE = 8  # a small data set, so small batches
LEARNING_RATE = 1e-3

keras.utils.set_random_seed(SEED)

# ---------------------------------------------------------------- data
wine = load_wine()
features = wine.data.astype("float32")
labels = LabelEncoder().fit_transform(wine.target)

# put every measurement on the same scale
scaler = StandardScaler()
features = scaler.fit_transform(features)

x_train, x_test, y_train, y_test = train_test_split(
    features, labels, test_size=0.25, stratify=labels, random_state=SEED
)
print(f"train: {x_train.shape}, test: {x_test.shape}")


# ---------------------------------------------------------------- models
def build_mlp(normalization):
    """Two hidden layers, each Dense -> normalization -> ReLU."""
    return keras.Sequential(
        [
            keras.Input(shape=(features.shape[1],)),
            layers.Dense(32, use_bias=False),
            normalization(),
            layers.Activation("relu"),
            layers.Dense(16, use_bias=False),
            normalization(),
            layers.Activation("relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )


def compile_model(model):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# ---------------------------------------------------------------- training
bn_model = compile_model(build_mlp(layers.BatchNormalization))
bn_history = bn_model.fit(
    x_train,
    y_train,
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    validation_split=0.2,
    shuffle=False,  # keep the batches reproducible
    verbose=0,
)

ln_model = compile_model(build_mlp(layers.LayerNormalization))
ln_history = ln_model.fit(
    x_train,
    y_train,
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    validation_split=0.2,
    verbose=0,
)

# ---------------------------------------------------------------- results
for name, model, history in (("BatchNorm", bn_model, bn_history), ("LayerNorm", ln_model, ln_history)):
    best = int(np.argmax(history.history["val_accuracy"])) + 1
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"{name}: best val_accuracy at epoch {best}; test accuracy {test_acc:.3f}")
