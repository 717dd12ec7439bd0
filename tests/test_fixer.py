"""The fixer across rules: fixes of several rules on one chain or one call converge, keep the code
around them, and leave nothing to fix on a second run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kerastips.engine import lint_source
from kerastips.fixer import fix_source
from kerastips.rules import ALL_RULES

RULES = [rule() for rule in ALL_RULES]
SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples").glob("*.py"))


def fixed(source: str, unsafe: bool = True) -> str:
    return fix_source(textwrap.dedent(source), "model.py", RULES, unsafe=unsafe).fixed


def test_fixes_of_several_rules_on_one_chain_converge_to_the_conventional_block():
    # KT102 moves the Dropout, then KT101 the activation, then KT103 drops the redundant bias.
    source = """
        from tensorflow.keras import Sequential, layers

        # A beginner's block: every layer in the wrong place.
        model = Sequential([
            layers.Dense(64, activation="relu"),  # hidden
            layers.Dropout(0.5),
            layers.BatchNormalization(),
            layers.Dense(10, activation="softmax"),
        ])
    """
    assert fixed(source) == textwrap.dedent("""
        from tensorflow.keras import Sequential, layers

        # A beginner's block: every layer in the wrong place.
        model = Sequential([
            layers.Dense(64, use_bias=False),  # hidden
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ])
    """)


def test_two_rules_editing_one_optimizer_call_converge():
    source = """
        import keras
        inputs = keras.Input((16, 8))
        model = keras.Model(inputs, keras.layers.MultiHeadAttention(2, 8)(inputs, inputs))
        model.compile(optimizer=keras.optimizers.Adam(lr=3e-4), loss="mse")
    """
    assert fixed(source).splitlines()[-1] == (
        'model.compile(optimizer=keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.'
        'CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=3e-4, '
        'warmup_steps=500)), loss="mse")'
    )
    # Without --unsafe-fixes only the safe rename is made.
    assert fixed(source, unsafe=False).splitlines()[-1] == (
        'model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-4), loss="mse")'
    )


def test_a_suppressed_finding_is_not_fixed():
    source = """
        from keras import Sequential, layers
        model = Sequential([layers.Dense(8), layers.BatchNormalization()])  # noqa: KT103
    """
    assert fixed(source) == textwrap.dedent(source)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_fixing_a_sample_twice_changes_nothing_the_second_time(sample):
    once = fix_source(sample.read_text(), sample.name, RULES, unsafe=True)
    twice = fix_source(once.fixed, sample.name, RULES, unsafe=True)
    assert twice.fixed == once.fixed and twice.applied == []
    left = lint_source(once.fixed, sample.name, RULES)
    assert not any(d.fix_available for d in left)  # what is left has no fix


def test_swapped_layers_take_the_comments_of_their_own_lines():
    source = """
        import tensorflow as tf
        model = tf.keras.Sequential()
        # block 1
        model.add(tf.keras.layers.Conv2D(32, 3, use_bias=False))
        model.add(tf.keras.layers.ReLU())  # non-linearity
        model.add(tf.keras.layers.BatchNormalization())  # normalize
        head = tf.keras.Sequential([tf.keras.layers.Dense(8),
                                    tf.keras.layers.LeakyReLU(),  # leaky
                                    tf.keras.layers.BatchNormalization(),  # norm
                                    tf.keras.layers.Dense(1)])
    """
    assert fixed(source) == textwrap.dedent("""
        import tensorflow as tf
        model = tf.keras.Sequential()
        # block 1
        model.add(tf.keras.layers.Conv2D(32, 3, use_bias=False))
        model.add(tf.keras.layers.BatchNormalization())  # normalize
        model.add(tf.keras.layers.ReLU())  # non-linearity
        head = tf.keras.Sequential([tf.keras.layers.Dense(8, use_bias=False),
                                    tf.keras.layers.BatchNormalization(),  # norm
                                    tf.keras.layers.LeakyReLU(),  # leaky
                                    tf.keras.layers.Dense(1)])
    """)
