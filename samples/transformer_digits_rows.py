"""Transformer encoder that reads a digit image row by row.

Each 8x8 digit from scikit-learn becomes a sequence of 8 tokens (one per
row, 8 pixel features each). A learned position embedding is added and a
single Transformer block encodes the sequence before classification.
"""
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tensorflow import keras
from tensorflow.keras import layers

SEED = 1
SEQ_LEN = 8          # rows per image
EMBED_DIM = 32
NUM_HEADS = 4
FF_DIM = 64
EPOCHS = 15
BATCH_SIZE = 64

keras.utils.set_random_seed(SEED)


class TransformerBlock(layers.Layer):
    """Post-norm encoder block: self-attention + feed-forward, both residual."""

    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=False):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)


class RowPositionEmbedding(layers.Layer):
    """Adds a learned embedding of the row index to every token."""

    def __init__(self, seq_len, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.seq_len = seq_len
        self.pos_emb = layers.Embedding(input_dim=seq_len, output_dim=embed_dim)

    def call(self, x):
        positions = keras.ops.arange(0, self.seq_len)
        return x + self.pos_emb(positions)


def build_model(num_classes=10):
    inputs = keras.Input(shape=(SEQ_LEN, 8))
    x = layers.Dense(EMBED_DIM)(inputs)  # project each row to the model width
    x = RowPositionEmbedding(SEQ_LEN, EMBED_DIM)(x)
    x = TransformerBlock(EMBED_DIM, NUM_HEADS, FF_DIM)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(32, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="row_transformer")


digits = load_digits()
sequences = (digits.images / 16.0).astype("float32")  # (n, 8 rows, 8 pixels)
labels = digits.target
x_train, x_test, y_train, y_test = train_test_split(
    sequences, labels, test_size=0.2, random_state=SEED, stratify=labels
)

model = build_model()
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.summary()

history = model.fit(
    x_train,
    y_train,
    validation_split=0.1,
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    verbose=2,
)
print(f"final val_accuracy: {history.history['val_accuracy'][-1]:.4f}")

test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_acc:.4f}")
