"""The fixer across rules: fixes of several rules on one chain or one call converge, keep the code
around them, and leave nothing to fix on a second run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kerastips.edits import Applicability, Edit, Fix
from kerastips.engine import lint_source
from kerastips.fixer import fix_source
from kerastips.rules import ALL_RULES
from kerastips.rules.base import Finding, Rule

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


def test_a_layer_is_not_moved_above_itself_when_a_helper_feeds_its_next_call():
    # The Dropout feeds a BatchNormalization in the block, and the block's output the ReLU that
    # starts its next call: moving the Dropout "after that ReLU" put it above the pooling, which
    # KT107 swapped back, and so on (the fixes went round in a circle).
    source = """
        from tensorflow.keras import layers
        def block(x):
            x = layers.ReLU()(x)
            x = layers.MaxPooling2D()(x)
            x = layers.Dropout(0.1)(x)
            x = layers.BatchNormalization()(x)
            return x
        x = block(block(x))
    """
    result = fix_source(textwrap.dedent(source), "model.py", RULES, unsafe=True)
    assert (result.fixed, result.applied) == (textwrap.dedent(source), [])
    assert [(d.code, d.line, d.fix_available) for d in result.remaining] == [("KT102", 6, False)]


class _Rename(Rule):
    """A rule whose fix renames `old` to `new` wherever it is assigned (two of them undo each
    other)."""

    old = new = ""

    def check(self, kfile):
        for statement in kfile.module.body:
            target = statement.body[0].targets[0].target
            if target.value == self.old:
                edit = Edit(target, lambda node: node.with_changes(value=self.new), statement)
                yield Finding(target, f"{self.old} is not {self.new}", statement,
                              Fix(Applicability.SAFE, (edit,)))


class _AToB(_Rename):
    code, name, old, new = "KT901", "a-to-b", "a", "b"


class _BToA(_Rename):
    code, name, old, new = "KT902", "b-to-a", "b", "a"


def test_fixes_that_undo_each_other_stop_where_they_began():
    source = "keras = 1\na = 2\n"
    result = fix_source(source, "model.py", [_AToB(), _BToA()])
    assert (result.fixed, result.applied) == (source, [])
    assert [d.code for d in result.remaining] == ["KT901"]
    assert fix_source(source, "model.py", [_AToB()]).fixed == "keras = 1\nb = 2\n"


def test_many_fixes_in_one_statement_are_all_made_in_one_run():
    # Fixes of one statement are made one a round: six blocks take twelve rounds (KT101, then
    # KT103), more than the eight there used to be, which left two blocks for a second run.
    block = '    keras.layers.Dense(64, activation="relu"),\n    keras.layers.BatchNormalization(),\n'
    fixed_block = ('    keras.layers.Dense(64, use_bias=False),\n    keras.layers.BatchNormalization(),\n'
                   '    keras.layers.Activation("relu"),\n')
    source = "from tensorflow import keras\nmodel = keras.Sequential([\n{}    keras.layers.Dense(1),\n])\n"
    result = fix_source(source.format(block * 6), "model.py", RULES, unsafe=True)
    assert (result.fixed, len(result.applied), result.remaining) == (source.format(fixed_block * 6), 12, [])
