"""Transformer classifier on synthetic token sequences, with LR warmup.

Task: given a sequence of 24 tokens drawn from a vocabulary of 20, predict
whether token 1 occurs more often than token 2. The encoder is trained with
AdamW and a cosine schedule that starts with a linear warmup.
"""
import math

import numpy as np
import keras
from keras import layers
from sklearn.model_selection import train_test_split

SEED = 2024
VOCAB_SIZE = 20
SEQ_LEN = 24
N_SAMPLES = 6000
EMBED_DIM = 32
NUM_HEADS = 2
EPOCHS = 12
BATCH_SIZE = 64
PEAK_LR = 1e-3


def make_tokens(rng):
    tokens = rng.integers(0, VOCAB_SIZE, size=(N_SAMPLES, SEQ_LEN))
    labels = ((tokens == 1).sum(axis=1) > (tokens == 2).sum(axis=1)).astype("float32")
    return tokens.astype("int32"), labels


def transformer_encoder(x, num_heads, ff_dim, dropout=0.1):
    attn = layers.MultiHeadAttention(num_heads=num_heads, key_dim=EMBED_DIM // num_heads)(x, x)
    x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(dropout)(attn))
    ff = layers.Dense(ff_dim, activation="gelu")(x)
    ff = layers.Dense(EMBED_DIM)(ff)
    return layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(dropout)(ff))


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, seq_len, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = layers.Embedding(vocab_size, embed_dim)
        self.pos_emb = layers.Embedding(seq_len, embed_dim)

    def call(self, token_ids):
        positions = keras.ops.arange(0, keras.ops.shape(token_ids)[-1])
        return self.token_emb(token_ids) + self.pos_emb(positions)


def build_model():
    token_ids = keras.Input(shape=(SEQ_LEN,), dtype="int32")
    x = TokenAndPositionEmbedding(SEQ_LEN, VOCAB_SIZE, EMBED_DIM)(token_ids)
    x = transformer_encoder(x, NUM_HEADS, ff_dim=64)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(token_ids, outputs, name="token_transformer")


def main():
    keras.utils.set_random_seed(SEED)
    x, y = make_tokens(np.random.default_rng(SEED))
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=SEED)
    x_train, x_val, y_train, y_val = train_test_split(
        x_train, y_train, test_size=0.1, random_state=SEED
    )

    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    total_steps = EPOCHS * steps_per_epoch
    lr_schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=total_steps,
        warmup_target=PEAK_LR,
        warmup_steps=int(0.1 * total_steps),
    )

    model = build_model()
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=lr_schedule, weight_decay=1e-4),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=2,
    )

    _, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"positive rate {y.mean():.3f}; test accuracy {test_acc:.4f}")


if __name__ == "__main__":
    main()
