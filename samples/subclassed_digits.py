"""Subclassed Keras model for the flattened 8x8 digits.

Net defines its layers in __init__ and wires them in call(). A validation
set is carved out of the training data; the test set is used once at the end.
"""
import keras
from keras import layers, ops
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 5
EPOCHS = 30
BATCH_SIZE = 32


class Net(keras.Model):
    def __init__(self, num_classes=10, dropout_rate=0.3, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = layers.Dense(128, activation="relu")
        self.bn1 = layers.BatchNormalization()
        self.dense2 = layers.Dense(64, use_bias=False)
        self.bn2 = layers.BatchNormalization()
        self.dropout = layers.Dropout(dropout_rate)
        self.classifier = layers.Dense(num_classes, activation="softmax")

    def call(self, inputs, training=False):
        x = self.bn1(self.dense1(inputs), training=training)
        x = self.dense2(x)
        x = self.bn2(x, training=training)
        x = ops.relu(x)
        x = self.dropout(x, training=training)
        return self.classifier(x)


def main():
    keras.utils.set_random_seed(SEED)
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=SEED, stratify=y
    )
    # hold out 15% of the training data for validation
    x_train, x_val, y_train, y_val = train_test_split(
        x_train, y_train, test_size=0.15, random_state=SEED, stratify=y_train
    )
    print(f"train {len(x_train)}, val {len(x_val)}, test {len(x_test)}")

    model = Net()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    early_stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=5, restore_best_weights=True
    )
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        callbacks=[early_stop],
        verbose=2,
    )
    print(f"trained for {len(history.history['loss'])} epochs")

    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {test_acc:.4f} (loss {test_loss:.4f})")


if __name__ == "__main__":
    main()
