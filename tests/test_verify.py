"""`kerastips verify`: the runner, the shim and the command, on real trainings.

The end-to-end test trains a sample on shipped data (scikit-learn's breast cancer set) through a
real tf.distribute.MirroredStrategy over two logical CPU devices, as CI runs it. The other run
tests put the shim through scripts that crash, never train, need missing data or modules, hang,
fit more than once, and take arguments. Every run is a real subprocess; nothing is mocked.

The runs need the `verify` extra and scikit-learn (the `dev` extra); they are skipped without them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kerastips.rules import ALL_RULES, rule_by_code
from kerastips.verify import ORIGINAL, RECORD_KEYS, runner, strategies
from kerastips.verify.shim import Budget, mix_seed, samples_per_epoch

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "mlp_breast_cancer.py"

HAVE_TRAINING = all(importlib.util.find_spec(name) for name in ("tensorflow", "keras", "sklearn"))
needs_training = pytest.mark.skipif(
    not HAVE_TRAINING, reason="needs the verify extra and scikit-learn: pip install -e '.[dev]'"
)
HAVE_REPORT = importlib.util.find_spec("kerastips.verify.report") is not None
needs_report = pytest.mark.skipif(
    not HAVE_REPORT, reason="kerastips/verify/report.py (the summary, table, JSON and plot) is not there yet"
)
HAVE_PLOT = importlib.util.find_spec("matplotlib") is not None


def _kerastips(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "kerastips", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
    )


# ---- no framework on the lint path --------------------------------------------------------------


def test_cli_and_runner_import_no_framework():
    code = (
        "import sys, kerastips.cli, kerastips.verify.runner, kerastips.verify.strategies\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'tensorflow', 'keras', 'jax', 'torch', 'rich', 'matplotlib', 'numpy'})\n"
        "print(','.join(heavy))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == ""


# ---- plain logic ----------------------------------------------------------------------------------


def test_seed_zero_is_the_script_as_written_and_other_seeds_differ():
    assert mix_seed(42, 0) == 42
    assert len({mix_seed(42, run) for run in range(5)}) == 5
    assert mix_seed(42, 3) == mix_seed(42, 3)  # a run seed always gives the same seeds
    assert mix_seed(7, 1) != mix_seed(42, 1)
    assert all(0 <= mix_seed(2**40, run) < 2**31 for run in range(1, 4))
    assert mix_seed(None, 3) is None and mix_seed("abc", 3) == "abc"


@pytest.mark.parametrize(
    "backend, strategy, replicas, env, message",
    [
        ("jax", "mirrored", None, {}, "tf.distribute strategy: use --backend tensorflow"),
        ("tensorflow", "jax-data-parallel", None, {}, "use --backend jax"),
        ("torch", "mirrored", None, {}, "one device"),
        ("torch", "auto", 2, {}, "--cpu-replicas needs --backend tensorflow or jax"),
        ("tensorflow", "multiworker", None, {}, "needs TF_CONFIG"),
        ("tensorflow", "auto", None, {"TF_CONFIG": "not json"}, "TF_CONFIG is not a JSON object"),
        ("tensorflow", "one-device", 2, {}, "drop --cpu-replicas"),
    ],
)
def test_impossible_engines_are_refused_before_anything_runs(backend, strategy, replicas, env, message):
    with pytest.raises(strategies.StrategyError, match=message.replace("(", r"\(").replace("-", r"\-")):
        strategies.check(backend, strategy, replicas, env)


def test_possible_engines_pass_and_set_their_environment():
    for backend in strategies.BACKENDS:
        strategies.check(backend, "auto", None, {})
    strategies.check("tensorflow", "multiworker", None, {"TF_CONFIG": '{"cluster": {}, "task": {}}'})
    assert strategies.environment("tensorflow", 2) == {"KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": ""}
    jax_env = strategies.environment("jax", 4)
    assert "--xla_force_host_platform_device_count=4" in jax_env["XLA_FLAGS"].split()
    assert jax_env["JAX_PLATFORMS"] == "cpu"
    assert strategies.environment("torch", None) == {"KERAS_BACKEND": "torch"}


def test_variants_one_per_changing_fix_or_together():
    source = SAMPLE.read_text()
    rules = [rule() for rule in ALL_RULES]
    variants, notes = runner.plan_variants(source, "samples/mlp_breast_cancer.py", rules)
    assert [variant.name for variant in variants] == [ORIGINAL, "KT101", "KT302"]
    assert variants[0].source == source
    assert all(variant.source != source and variant.applied for variant in variants[1:])
    assert "KT301: nothing to fix in samples/mlp_breast_cancer.py" in notes
    assert "KT104: this rule has no fix to verify" in notes

    together, _ = runner.plan_variants(source, "samples/mlp_breast_cancer.py", rules, together=True)
    assert [variant.name for variant in together] == [ORIGINAL, runner.TOGETHER]
    assert together[1].codes == ("KT101", "KT302")
    assert "BatchNormalization()" in together[1].source and "validation_split=0.2" in together[1].source

    only, _ = runner.plan_variants(source, "x.py", [rule_by_code("KT101")()], together=True)
    assert [variant.name for variant in only] == [ORIGINAL, "KT101"]  # one fix: no separate "together"


def test_budget_caps_epochs_steps_and_array_samples():
    np = pytest.importorskip("numpy")
    x, y = np.arange(1000 * 3, dtype="float32").reshape(1000, 3), np.arange(1000)
    budget = Budget({"epochs": 2, "steps_per_epoch": 5, "max_samples": 100})
    capped, changes = budget.cap({
        "x": {"a": x, "b": x}, "y": y, "epochs": 25, "initial_epoch": 3, "batch_size": 8,
        "validation_data": (x[:300], y[:300]),
    })
    assert capped["epochs"] == 5  # two more than the initial epoch
    assert capped["steps_per_epoch"] == 5
    assert capped["x"]["a"].shape == (100, 3) and capped["y"].shape == (100,)
    rows = capped["y"]
    assert list(rows) == sorted(rows) and len(set(rows)) == 100  # a fixed subset, in the data's order
    assert (capped["x"]["b"][:, 0] == rows * 3).all()  # inputs and targets stay paired
    assert capped["validation_data"][0].shape == (100, 3)
    assert "validation_steps" not in capped  # array validation is capped by samples, not steps
    assert capped["verbose"] == 2
    assert changes[0] == "epochs 25 -> 5"
    again, _ = budget.cap(dict(x=x, y=y, epochs=2, steps_per_epoch=3, verbose=0))
    assert again["epochs"] == 2 and again["steps_per_epoch"] == 3 and again["verbose"] == 0
    assert samples_per_epoch({"x": x[:100], "batch_size": 8, "steps_per_epoch": 5}) == 40
    assert samples_per_epoch({"x": x[:100], "validation_split": 0.2}) == 80
    assert samples_per_epoch({"x": iter([])}) is None
    # array data whose epoch is within the step cap keeps its own epoch (steps past the end of
    # arrays fail under MirroredStrategy)
    steps = Budget({"steps_per_epoch": 20})
    assert "steps_per_epoch" not in steps.cap({"x": x[:800], "validation_split": 0.2})[0]  # 20 batches
    assert steps.cap({"x": x[:801], "batch_size": 40})[0]["steps_per_epoch"] == 20  # 21 batches
    unbounded, _ = Budget({}).cap({"x": x, "epochs": 50})
    assert unbounded["epochs"] == 50 and unbounded["x"] is x and "steps_per_epoch" not in unbounded


HELD_OUT_SCRIPTS = {
    "module level": ("""
        x_train, x_test, y_test = [1, 2, 3], [4, 5, 6], [0, 1, 0]
        model.evaluate(x_train, y_test)  # before the fit: not the held-out data
        model.fit(x_train,
                  epochs=3)
        model.evaluate(x_test[:2], y=y_test, batch_size=64, verbose=0)
    """, {"x": [4, 5], "y": [0, 1, 0], "batch_size": 64}),
    "in the fit's function": ("""
        def train(data):
            model.fit(data["train"])
            return model.evaluate(data["test"], -1)
        train({"train": [1], "test": [2]})
    """, {"x": [2], "y": -1}),
    "in a decorated function": ("""
        import functools

        @functools.lru_cache()
        def train():
            model.fit([1])
            model.evaluate([3])
        train()
    """, {"x": [3]}),
    "in another function": ("""
        def train():
            model.fit([1])
        def test():
            model.evaluate([2])
        train()
    """, None),
    "computed arguments": ("""
        model.fit([1])
        model.evaluate(scale([2]))
    """, None),
    "bound after the fit": ("""
        model.fit([1])
        x_test = [2]
        model.evaluate(x_test)
    """, None),
}


@pytest.mark.parametrize("name", HELD_OUT_SCRIPTS)
def test_the_held_out_data_is_the_first_plain_evaluate_after_the_fit(name):
    from kerastips.verify.shim import HeldOut

    source, expected = HELD_OUT_SCRIPTS[name]
    source = textwrap.dedent(source).lstrip()
    held_out, found = HeldOut(source, "train.py"), []

    class Model:  # stands for the patched Model.fit, which looks from the frame that called it
        def fit(self, *args, **kwargs):
            found.append(held_out.arguments(sys._getframe(1)))

        def evaluate(self, *args, **kwargs):
            pass

    exec(compile(source, "train.py", "exec"), {"model": Model(), "scale": lambda x: x})
    assert found == [expected]


# ---- end to end, as CI runs it -----------------------------------------------------------------


@needs_training
@needs_report
def test_verify_a_sample_through_a_real_mirrored_strategy(tmp_path):
    from kerastips.verify import report

    out_json, out_png = tmp_path / "verify.json", tmp_path / "verify.png"
    plot = ["--plot", str(out_png)] if HAVE_PLOT else []
    done = _kerastips(
        "verify", str(SAMPLE), "--rules", "KT101,KT302", "--epochs", "2", "--steps-per-epoch", "3",
        "--seeds", "1", "--cpu-replicas", "2", "--backend", "tensorflow", "--json", str(out_json),
        *plot, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Traceback" not in done.stderr

    document = json.loads(out_json.read_text())
    results = document["results"]
    assert [(r["variant"], r["seed"]) for r in results] == [(ORIGINAL, 0), ("KT101", 0), ("KT302", 0)]
    for record in results:
        assert set(RECORD_KEYS) <= set(record), record.keys()
        assert record["status"] == "ok" and record["error"] is None, record["log"][-3000:]
        assert record["backend"] == "tensorflow"
        assert record["strategy"] == {"name": "MirroredStrategy", "replicas": 2}
        assert "MirroredStrategy with 2 replica(s)" in record["log"]
        assert record["epochs"] == 2
        for metric in ("loss", "val_loss", "accuracy", "val_accuracy"):
            assert len(record["history"][metric]) == 2
        assert record["fit_time_s"] > 0 and record["wall_time_s"] > record["fit_time_s"]
        assert record["samples_per_s"] > 0  # 3 steps of 32 samples an epoch
        assert "fit #0 (recorded): epochs 25 -> 2, steps_per_epoch None -> 3" in record["log"]
    original, fixed, split = results
    assert original["history"] != fixed["history"]  # the fix changed the model that trained
    # the sample validates on the test set and evaluates on it after the fit; KT302's fix
    # validates on a split of the training data instead: same held-out data, other validation
    assert original["validation"] == fixed["validation"] == original["evaluation"]["data"]
    assert split["validation"] not in (None, "none", original["validation"])
    assert {r["evaluation"]["data"] for r in results} == {original["validation"]}
    assert all(sorted(r["evaluation"]["metrics"]) == ["accuracy", "loss"] for r in results)

    # the verdict is the report's rule applied to the recorded histories, nothing else
    summary = document["summary"]
    again = json.loads(report.to_json(results, report.summarize(results)))["summary"]
    assert summary == again
    verdict = summary["variants"]["KT101"]["verdict"]
    assert verdict["verdict"] in report.VERDICTS and verdict["metric"] == "val_loss"
    best = {r["variant"]: min(r["history"]["val_loss"]) for r in results}
    assert verdict["difference"] == pytest.approx(best["KT101"] - best[ORIGINAL])
    verdict = summary["variants"]["KT302"]["verdict"]
    assert (verdict["metric"], verdict["statistic"]) == ("eval_loss", "held-out")
    held_out = {r["variant"]: r["evaluation"]["metrics"]["loss"] for r in results}
    assert verdict["difference"] == pytest.approx(held_out["KT302"] - held_out[ORIGINAL])
    assert "KT101" in done.stdout and "original" in done.stdout  # the table
    if HAVE_PLOT:
        assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


MIRRORED_SCRIPTS = {
    # a script that opens its own strategy gets the run's engine (two cannot be mixed)
    "own_strategy.py": """
        import numpy as np
        import tensorflow as tf
        import keras

        strategy = tf.distribute.MirroredStrategy()
        print("replicas in sync:", strategy.num_replicas_in_sync, flush=True)
        x = np.random.default_rng(0).normal(size=(200, 8)).astype("float32")
        with strategy.scope():
            model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
            model.compile("adam", "mse")
        model.fit(x, x[:, :1], epochs=2, batch_size=16 * strategy.num_replicas_in_sync)
    """,
    # seven linear layers of stddev 0.5 on 16 units: the gradient norm is far above 1e3 from the
    # start (a tiny learning rate keeps the loss finite)
    "exploding.py": """
        import numpy as np
        import keras

        x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
        init = keras.initializers.RandomNormal(stddev=0.5)
        model = keras.Sequential([keras.Input((8,))] + [
            keras.layers.Dense(16 if i < 6 else 1, kernel_initializer=init) for i in range(7)])
        model.compile(keras.optimizers.SGD(1e-9), "mse")
        model.fit(x, x[:, :1], epochs=2, batch_size=32)
    """,
    # a bias of -10 before the ReLU: every unit outputs 0 for every sample
    "dead_relu.py": """
        import numpy as np
        import keras

        x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
        model = keras.Sequential([
            keras.Input((8,)),
            keras.layers.Dense(32, "relu", bias_initializer=keras.initializers.Constant(-10.0)),
            keras.layers.Dense(1),
        ])
        model.compile("adam", "mse")
        model.fit(x, x[:, :1], epochs=2, batch_size=32)
    """,
}


@needs_training
def test_scripts_train_through_a_real_mirrored_strategy(tmp_path):
    def run(name: str) -> dict:
        script = tmp_path / name
        script.write_text(textwrap.dedent(MIRRORED_SCRIPTS[name]).lstrip())
        work = tmp_path / f"work-{name}"
        work.mkdir()
        options = runner.Options(cpu_replicas=2, epochs=2, steps_per_epoch=4)
        return runner.run_variant(script, runner.Variant(ORIGINAL, script.read_text()), 0, options, work)

    with ThreadPoolExecutor(max_workers=2) as pool:
        records = dict(zip(MIRRORED_SCRIPTS, pool.map(run, MIRRORED_SCRIPTS)))
    own = records["own_strategy.py"]
    assert own["status"] == "ok" and own["epochs"] == 2, own["log"][-3000:]
    assert own["strategy"] == {"name": "MirroredStrategy", "replicas": 2}
    assert "the script's MirroredStrategy() is this run's MirroredStrategy (2 replica(s))" in own["log"]
    assert "replicas in sync: 2" in own["log"]
    # under MirroredStrategy the variables are distributed: the gradient check runs in a replica
    for name, symptom in (("exploding.py", "exploding-gradients"), ("dead_relu.py", "dying-relu")):
        record = records[name]
        assert record["status"] == "ok", record["log"][-3000:]
        assert record["strategy"] == {"name": "MirroredStrategy", "replicas": 2}
        names = [item["name"] for item in record["diagnostics"]]
        assert symptom in names and "diagnostics-unavailable" not in names, record["diagnostics"]
    exploding = next(d for d in records["exploding.py"]["diagnostics"] if d["name"] == "exploding-gradients")
    assert exploding["epoch"] == 1 and "above 1000" in exploding["detail"]


# ---- failures are results -----------------------------------------------------------------------

BAD_SCRIPTS = {
    "crash.py": """
        import keras
        def build():
            raise ValueError("units must be positive")
        build()
    """,
    "no_training.py": """
        import keras
        print("this script never trains")
    """,
    "missing_data.py": """
        import numpy as np
        import keras
        images = np.load("data/train_images.npy")
    """,
    "missing_module.py": """
        import keras
        import kerastips_no_such_module
    """,
    "fit_fails_caught.py": """
        import numpy as np
        import keras
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile("adam", "mse")
        try:
            model.fit(np.zeros((8, 5)), np.zeros((8, 1)))
        except ValueError:
            print("the script carries on", flush=True)
    """,
    "hangs.py": """
        import time
        import keras
        print("waiting", flush=True)
        time.sleep(600)
    """,
}

EXPECTED = {
    "crash.py": ("error", "ValueError: units must be positive (at crash.py:3)"),
    "no_training.py": ("no-fit", "the script ended without training a Keras model (no Model.fit call)"),
    "missing_data.py": ("error", "the script needs data that is missing: data/train_images.npy (at missing_data.py:3)"),
    "missing_module.py": ("error", "the script needs a module that is not installed: kerastips_no_such_module (at missing_module.py:2)"),
    "hangs.py": ("timeout", "did not finish within the 15 s timeout"),
}


@needs_training
def test_a_failing_script_is_its_variants_result(tmp_path):
    def run(name: str) -> dict:
        options = runner.Options(strategy="one-device", timeout=15 if name == "hangs.py" else 300,
                                 epochs=1, steps_per_epoch=1)
        script = tmp_path / name
        script.write_text(textwrap.dedent(BAD_SCRIPTS[name]).lstrip())
        work = tmp_path / f"work-{name}"
        work.mkdir()
        return runner.run_variant(script, runner.Variant(ORIGINAL, script.read_text()), 0, options, work)

    with ThreadPoolExecutor(max_workers=2) as pool:
        records = dict(zip(BAD_SCRIPTS, pool.map(run, BAD_SCRIPTS)))
    for name, (status, error) in EXPECTED.items():  # (fit_fails_caught.py: below)
        record = records[name]
        assert set(RECORD_KEYS) <= set(record)
        assert (record["status"], record["error"]) == (status, error), record["log"][-2000:]
        assert record["history"] == {} and record["epochs"] == 0
    caught = records["fit_fails_caught.py"]
    assert caught["status"] == "error" and "the script carries on" in caught["log"]
    assert caught["error"].startswith("ValueError: Input 0 with name 'None' of layer 'dense' is incompatible")
    assert caught["error"].endswith(", 5) (at fit_fails_caught.py:6)")
    assert "Traceback" in records["crash.py"]["log"]  # the whole story stays in the log
    assert "waiting" in records["hangs.py"]["log"]


TWO_FITS = """
    import sys
    import numpy as np
    import keras
    import tensorflow as tf
    from helper import make_data  # next to the script, as with `python train.py`

    keras.utils.set_random_seed(42)
    print("args", sys.argv[1:], flush=True)
    x, y = make_data()
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=4, batch_size=16, verbose=0)  # pre-training: capped, not recorded
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    try:
        model.fit(data, epochs=10, validation_data=data)
    except Exception:
        print("a script's own except clause does not stop kerastips", flush=True)
    model.fit(x, y, epochs=1)
    print("never printed: the script stops after the recorded fit", flush=True)
"""


@needs_training
def test_fit_index_budget_seeds_and_arguments(tmp_path):
    (tmp_path / "train.py").write_text(textwrap.dedent(TWO_FITS).lstrip())
    (tmp_path / "helper.py").write_text(
        "import numpy as np\n\ndef make_data():\n"
        "    x = np.random.rand(400, 8).astype('float32')\n"
        "    return x, (x.sum(axis=1) > 4).astype('float32')\n"
    )
    options = runner.Options(strategy="one-device", epochs=3, steps_per_epoch=4, fit_index=1,
                             seeds=2, argv=("--lr", "0.1"))
    variant = runner.Variant(ORIGINAL, (tmp_path / "train.py").read_text())
    results = runner.run_all(tmp_path / "train.py", [variant], options)
    assert [(r["status"], r["seed"]) for r in results] == [("ok", 0), ("ok", 1)], results[0]["log"][-3000:]
    for record in results:
        assert record["strategy"] == {"name": "OneDeviceStrategy", "replicas": 1}
        assert record["epochs"] == 3 and sorted(record["history"]) == ["loss", "val_loss"]
        assert record["samples_per_s"] is None  # a dataset: its batch size is not known
        log = record["log"]
        assert "args ['--lr', '0.1']" in log
        assert "fit #0 (not recorded): epochs 4 -> 3, steps_per_epoch None -> 4" in log
        assert "fit #1 (recorded): epochs 10 -> 3, steps_per_epoch None -> 4, validation_steps None -> 4" in log
        assert "does not stop kerastips" not in log and "never printed" not in log
    assert results[0]["history"]["loss"] != results[1]["history"]["loss"]  # another seed, another run


CRASH_WITH_A_FIX = """
    import numpy as np
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                              layers.BatchNormalization(), layers.Dense(1)])
    model.compile("adam", "mse")
    x = np.load("features.npy")
    model.fit(x, x[:, :1], epochs=2)
"""


@needs_training
@needs_report
def test_the_command_reports_failed_runs_in_one_line_and_keeps_json_on_stdout(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(CRASH_WITH_A_FIX).lstrip())
    done = _kerastips("verify", str(script), "--rules", "KT101", "--seeds", "1", "--strategy", "one-device", "--json", "-",
                      "--debug", cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    document = json.loads(done.stdout)  # the table went to stderr
    assert [(r["variant"], r["status"]) for r in document["results"]] == [(ORIGINAL, "error"), ("KT101", "error")]
    line = "error: original seed 0: error: the script needs data that is missing: features.npy (at train.py:8)"
    assert line in done.stderr.splitlines()
    assert "Traceback" in done.stderr  # --debug shows each failed run's output

    quiet = _kerastips("verify", str(script), "--seeds", "1", "--strategy", "one-device",
                       "--rules", "KT101", cwd=tmp_path)
    assert quiet.returncode == 1
    assert line in quiet.stderr.splitlines() and "Traceback" not in quiet.stderr + quiet.stdout


def test_the_command_refuses_what_cannot_run(tmp_path):
    missing = _kerastips("verify", str(tmp_path / "nope.py"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.py: no such file or directory" in missing.stderr
    engine = _kerastips("verify", str(SAMPLE), "--backend", "jax", "--strategy", "mirrored", cwd=tmp_path)
    assert engine.returncode == 2
    assert engine.stderr.strip().endswith("tf.distribute strategy: use --backend tensorflow)")
    notebook = _kerastips("verify", str(tmp_path / "train.ipynb"), cwd=tmp_path)
    assert notebook.returncode == 2 and "export the notebook first" in notebook.stderr
    clean = tmp_path / "clean.py"
    clean.write_text("import keras\n")
    nothing = _kerastips("verify", str(clean), cwd=tmp_path)
    assert nothing.returncode == 0 and "nothing to verify" in nothing.stderr


@needs_training
@needs_report
@pytest.mark.parametrize(
    "backend, options, engine",
    [
        ("jax", ["--cpu-replicas", "2"], {"name": "DataParallel", "replicas": 2}),
        ("torch", [], {"name": "SingleDevice", "replicas": 1}),
    ],
)
def test_the_other_backends_train_through_their_engines(tmp_path, backend, options, engine):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (not in the dev extra)")
    out = tmp_path / "verify.json"
    done = _kerastips("verify", str(SAMPLE), "--rules", "KT101", "--epochs", "2", "--steps-per-epoch", "3",
                      "--seeds", "1", "--backend", backend, *options, "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())["results"]
    assert [(r["variant"], r["status"]) for r in results] == [(ORIGINAL, "ok"), ("KT101", "ok")]
    for record in results:
        assert record["backend"] == backend and record["strategy"] == engine
        assert len(record["history"]["val_loss"]) == 2
