"""The fixer across rules: fixes of several rules on one chain or one call converge, keep the code
around them, and leave nothing to fix on a second run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst.matchers as m
import pytest

from kerastips.edits import Applicability, Edit, Fix, call
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


# ---- where the imports a fix needs go ------------------------------------------------------------


def test_an_import_goes_with_the_files_imports_of_its_package_not_above_the_environment_setup():
    # The review's case: `import os` then os.environ lines that must run before TensorFlow is
    # imported; the schedule's import went right after `import os`, above them.
    source = """\
        import os
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"   # must be set before TensorFlow is imported

        from tensorflow import keras
        from tensorflow.keras import layers
        from tensorflow.keras.optimizers import Adam

        inp = keras.Input((16, 8))
        x = layers.MultiHeadAttention(num_heads=2, key_dim=8)(inp, inp)
        out = layers.Dense(1)(layers.GlobalAveragePooling1D()(x))
        model = keras.Model(inp, out)
        model.compile(optimizer=Adam(learning_rate=1e-4), loss="mse")
        model.fit(x_train, y_train, epochs=5, validation_split=0.2)
    """
    kt401 = [rule for rule in RULES if rule.code == "KT401"]
    assert fix_source(textwrap.dedent(source), "model.py", kt401, unsafe=True).fixed == textwrap.dedent("""\
        import os
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"   # must be set before TensorFlow is imported

        from tensorflow import keras
        from tensorflow.keras import layers
        from tensorflow.keras.optimizers import Adam
        from tensorflow.keras.optimizers.schedules import CosineDecay

        inp = keras.Input((16, 8))
        x = layers.MultiHeadAttention(num_heads=2, key_dim=8)(inp, inp)
        out = layers.Dense(1)(layers.GlobalAveragePooling1D()(x))
        model = keras.Model(inp, out)
        model.compile(optimizer=Adam(learning_rate=CosineDecay(initial_learning_rate=0.0, decay_steps=10000, warmup_target=1e-4, warmup_steps=500)), loss="mse")
        model.fit(x_train, y_train, epochs=5, validation_split=0.2)
    """)


class _Schedule(Rule):
    """A rule whose fix wraps each value assigned to `lr` in `CosineDecay(...)`, imported from
    `module` (`None`: `import module`, spelled `module.CosineDecay`)."""

    code, name = "KT903", "schedule"
    module, from_import = "keras.optimizers.schedules", True

    def check(self, kfile):
        lines = m.findall(kfile.module, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name("lr"))])]))
        for statement in lines:
            value = statement.body[0].value
            if m.matches(value, m.Call()):
                continue
            func = "CosineDecay" if self.from_import else f"{self.module}.CosineDecay"
            edit = Edit(value, lambda node: call(func, node), statement)
            imports = ((self.module, "CosineDecay" if self.from_import else None),)
            yield Finding(value, "lr is not a schedule", statement, Fix(Applicability.SAFE, (edit,), imports))


def scheduled(source: str, module: str = "keras.optimizers.schedules", from_import: bool = True) -> str:
    rule = type("_Rule", (_Schedule,), {"module": module, "from_import": from_import})()
    return fix_source(textwrap.dedent(source), "model.py", [rule]).fixed


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param(
        """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        import keras
        import numpy as np


        def build():
            lr = 1e-3
        """,
        """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        import keras
        from keras.optimizers.schedules import CosineDecay
        import numpy as np


        def build():
            lr = CosineDecay(1e-3)
        """,
        id="after-the-package's-last-import-before-the-fix",
    ),
    pytest.param(
        """\
        import os
        os.environ["CUDA_VISIBLE_DEVICES"] = "0"
        import numpy as np
        lr = 1e-3
        import keras
        """,
        """\
        import os
        os.environ["CUDA_VISIBLE_DEVICES"] = "0"
        import numpy as np
        from keras.optimizers.schedules import CosineDecay

        lr = CosineDecay(1e-3)
        import keras
        """,
        id="no-import-of-the-package-before-the-fix:-after-the-last-import",
    ),
    pytest.param(
        """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        try:
            import keras
        except ImportError:
            from tensorflow import keras

        lr = 1e-3
        """,
        """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        try:
            import keras
        except ImportError:
            from tensorflow import keras
        from keras.optimizers.schedules import CosineDecay

        lr = CosineDecay(1e-3)
        """,
        id="imports-in-a-try-block",
    ),
    pytest.param(
        """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        from keras.optimizers.schedules import ExponentialDecay
        lr = 1e-3
        """,
        """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        from keras.optimizers.schedules import CosineDecay, ExponentialDecay
        lr = CosineDecay(1e-3)
        """,
        id="merged-into-the-module's-import",
    ),
    pytest.param(
        """\
        import keras
        from keras.optimizers.schedules import (
            ExponentialDecay,
            PiecewiseConstantDecay,
        )
        lr = 1e-3
        """,
        """\
        import keras
        from keras.optimizers.schedules import (
            CosineDecay,
            ExponentialDecay,
            PiecewiseConstantDecay,
        )
        lr = CosineDecay(1e-3)
        """,
        id="merged-into-a-parenthesised-import",
    ),
    pytest.param(
        """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        import keras
        from keras.optimizers.schedules import CosineDecay
        lr = 1e-3
        """,
        """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        import keras
        from keras.optimizers.schedules import CosineDecay
        lr = CosineDecay(1e-3)
        """,
        id="already-imported",
    ),
    pytest.param(
        """\
        import keras
        from keras.optimizers.schedules import CosineDecay as Cosine
        lr = 1e-3
        """,
        """\
        import keras
        from keras.optimizers.schedules import CosineDecay, CosineDecay as Cosine
        lr = CosineDecay(1e-3)
        """,
        id="imported-under-another-name",
    ),
    pytest.param(
        '''\
        """Train a model with keras."""
        lr = 1e-3
        ''',
        '''\
        """Train a model with keras."""
        from keras.optimizers.schedules import CosineDecay

        lr = CosineDecay(1e-3)
        ''',
        id="no-import-before-the-fix:-after-the-docstring",
    ),
    pytest.param(
        """\
        import keras
        lr = 1e-3
        import numpy as np
        lr = 1e-4
        """,
        """\
        import keras
        from keras.optimizers.schedules import CosineDecay

        lr = CosineDecay(1e-3)
        import numpy as np
        lr = CosineDecay(1e-4)
        """,
        id="before-the-first-fix-that-needs-it",
    ),
])
def test_an_import_a_fix_needs_goes_with_the_files_imports_before_the_fixed_code(source, expected):
    assert scheduled(source) == textwrap.dedent(expected)


def test_a_module_import_goes_after_the_packages_imports():
    source = """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        import keras.optimizers
        lr = 1e-3
    """
    assert scheduled(source, from_import=False) == textwrap.dedent("""\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        import keras.optimizers
        import keras.optimizers.schedules

        lr = keras.optimizers.schedules.CosineDecay(1e-3)
    """)


def test_a_new_import_line_has_the_files_line_endings():
    source = 'import os\r\nos.environ["KERAS_BACKEND"] = "jax"\r\nimport keras\r\nlr = 1e-3\r\n'
    assert scheduled(source) == (
        'import os\r\nos.environ["KERAS_BACKEND"] = "jax"\r\nimport keras\r\n'
        'from keras.optimizers.schedules import CosineDecay\r\n\r\nlr = CosineDecay(1e-3)\r\n'
    )


def test_an_import_goes_after_the_fixed_code_a_fix_before_it_adds_lines_to():
    # KT101 adds a statement after the Dense, so the statement the import must precede moves down.
    source = """\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        from keras import layers
        x = layers.Dense(8, activation="relu")(inputs)
        x = layers.BatchNormalization()(x)
        import keras
        lr = 1e-3
    """
    kt101 = [rule for rule in RULES if rule.code == "KT101"]
    rule = _Schedule()
    assert fix_source(textwrap.dedent(source), "model.py", [*kt101, rule], unsafe=True).fixed == textwrap.dedent("""\
        import os
        os.environ["KERAS_BACKEND"] = "jax"
        from keras import layers
        x = layers.Dense(8)(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        import keras
        from keras.optimizers.schedules import CosineDecay

        lr = CosineDecay(1e-3)
    """)


def test_an_appended_argument_goes_on_a_line_of_its_own_when_the_arguments_are_one_a_line():
    # The review's case: KT301's validation_split ended up after a blank line, `)` after it.
    source = """\
        from tensorflow import keras

        model = keras.Sequential([keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(
            x, y,
            epochs=5,
            verbose=1
        )
    """
    kt301 = [rule for rule in RULES if rule.code == "KT301"]
    assert fix_source(textwrap.dedent(source), "model.py", kt301, unsafe=True).fixed == textwrap.dedent("""\
        from tensorflow import keras

        model = keras.Sequential([keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(
            x, y,
            epochs=5,
            verbose=1,
            validation_split=0.2
        )
    """)
