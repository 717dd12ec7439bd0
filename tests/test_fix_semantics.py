"""The fixes, checked in Keras itself: for each sample and each rule whose fix changes it, the
original and the fixed script really run (TensorFlow backend, CPU), and the models they fit are
compared.

Every script runs in a subprocess under a small runtime shim (SHIM below): it seeds everything,
makes each `Model.fit` train exactly one step (epochs=1, steps_per_epoch=1, validation_steps=1;
the real fit, once) and, after that step, records for each fitted model its layers in call order
(class, depth, key config, which earlier layer call fed each one), its output shape, the optimizer
and its learning rate (a schedule is evaluated at a few steps), the arguments fit was given, and
the loss of the step. The scripts then run to their end, so whatever they do with the History after
the fix (e.g. read val_accuracy) works too. One subprocess per sample runs the original and each
fixed variant (a fresh Keras session each); the subprocesses run in parallel.

Needs the `verify` extra and scikit-learn (both in the `dev` extra); skipped without them.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kerastips.fixer import fix_source
from kerastips.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "samples").glob("*.py"))
FIXED_CODES = ("KT101", "KT301", "KT302", "KT401")  # fixes every sample set must exercise
SUBPROCESS_TIMEOUT_S = 600


def _cases() -> dict:
    """(sample stem, rule code) -> FixResult, for every rule whose fix changes a sample."""
    cases = {}
    for sample in SAMPLES:
        source = sample.read_text()
        for rule in ALL_RULES:
            result = fix_source(source, f"samples/{sample.name}", [rule()], unsafe=True)
            if result.changed:
                cases[(sample.stem, rule.code)] = result
    return cases


CASES = _cases()

HAVE_KERAS = all(importlib.util.find_spec(name) for name in ("tensorflow", "keras", "sklearn"))
needs_keras = pytest.mark.skipif(
    not HAVE_KERAS, reason="needs the verify extra and scikit-learn: pip install -e '.[dev]'"
)

# ---- the runtime shim (runs in the subprocess; imports nothing from kerastips) ------------------

SHIM = textwrap.dedent('''
    import inspect, json, math, sys, traceback

    import keras
    import numpy as np

    SEED = 0
    RECORDS = []      # one entry per fit of the variant being run
    TRACE = None      # list while a traced forward pass runs
    DEPTH = 0
    PRODUCER = {}     # id(tensor) -> index of the traced layer call that returned it
    KEEP = []         # keeps traced tensors alive so that their ids stay unique
    DROP = {"name", "dtype", "trainable"}

    def plain(value):
        return json.loads(json.dumps(value, default=lambda o: type(o).__name__))

    _layer_call = keras.layers.Layer.__call__

    def traced_call(self, *args, **kwargs):
        global DEPTH
        if TRACE is None:
            return _layer_call(self, *args, **kwargs)
        index = len(TRACE)
        inputs = [PRODUCER.get(id(t), -1) for t in keras.tree.flatten((args, kwargs))
                  if hasattr(t, "shape")]
        TRACE.append({"depth": DEPTH, "layer": self, "inputs": inputs})
        DEPTH += 1
        try:
            outputs = _layer_call(self, *args, **kwargs)
        finally:
            DEPTH -= 1
        for t in keras.tree.flatten(outputs):
            PRODUCER[id(t)] = index
            KEEP.append(t)
        return outputs

    keras.layers.Layer.__call__ = traced_call

    def layer_calls(model, x):
        """Run one eager inference pass; every layer call in order, nested ones included."""
        global TRACE
        TRACE, calls = [], None
        PRODUCER.clear(); KEEP.clear()
        try:
            out = model(x, training=False)
            calls = TRACE
        finally:
            TRACE = None
        described = []
        for i, call in enumerate(calls):
            container = i + 1 < len(calls) and calls[i + 1]["depth"] > call["depth"]
            try:
                config = call["layer"].get_config()
            except Exception:
                config = {}
            described.append({
                "depth": call["depth"],
                "class": type(call["layer"]).__name__,
                # a container's config repeats its sub-layers, which are listed themselves
                "config": None if container else plain({k: v for k, v in config.items() if k not in DROP}),
                "inputs": call["inputs"],
            })
        PRODUCER.clear(); KEEP.clear()
        return described, [list(t.shape) for t in keras.tree.flatten(out)]

    def optimizer_facts(opt):
        config = opt.get_config()
        lr = config.pop("learning_rate")
        config.pop("name", None)
        facts = {"class": type(opt).__name__, "config": plain(config)}
        if isinstance(lr, dict):  # a serialized LearningRateSchedule
            schedule = keras.optimizers.schedules.deserialize(lr)
            lr_config = plain(schedule.get_config())
            steps = sorted({0, 1, int(lr_config.get("warmup_steps") or 0),
                            int(lr_config.get("warmup_steps") or 0) + int(lr_config.get("decay_steps") or 0)})
            facts["learning_rate"] = {
                "schedule": type(schedule).__name__, "config": lr_config,
                "at": {str(s): float(keras.ops.convert_to_numpy(schedule(s))) for s in steps},
            }
        else:
            facts["learning_rate"] = {"constant": float(lr)}
        return facts

    def loss_facts(loss):
        if isinstance(loss, str) or loss is None:
            return loss
        if hasattr(loss, "get_config"):
            config = plain({k: v for k, v in loss.get_config().items() if k not in ("name", "reduction")})
            return {"class": type(loss).__name__, "config": config}
        return getattr(loss, "__name__", type(loss).__name__)

    def describe(value):
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            return {"array": list(value.shape), "dtype": str(value.dtype)}
        if isinstance(value, (list, tuple)):
            return [describe(v) for v in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        return type(value).__name__

    _fit = keras.Model.fit
    _fit_signature = inspect.signature(_fit)

    def one_step_fit(self, *args, **kwargs):
        passed = _fit_signature.bind(self, *args, **kwargs).arguments
        passed.pop("self")
        run = dict(passed, epochs=1, initial_epoch=0, steps_per_epoch=1)
        if passed.get("validation_data") is not None or passed.get("validation_split"):
            run["validation_steps"] = 1
        before = int(keras.ops.convert_to_numpy(self.optimizer.iterations)) if self.optimizer else 0
        history = _fit(self, **run)
        steps = int(keras.ops.convert_to_numpy(self.optimizer.iterations)) - before
        layers, output_shape = layer_calls(self, passed["x"][: passed.get("batch_size") or 32])
        RECORDS.append({
            "model": type(self).__name__,
            "layers": layers,
            "output_shape": output_shape,
            "optimizer": optimizer_facts(self.optimizer),
            "loss_fn": loss_facts(self.loss),
            "fit": {k: describe(v) for k, v in passed.items()},
            "steps": steps,
            "loss": [float(v) for v in history.history["loss"]],
            "history_keys": sorted(history.history),
        })
        return history

    keras.Model.fit = one_step_fit

    def main(job_path, out_path):
        with open(job_path) as handle:
            job = json.load(handle)
        results = {}
        for variant, source in job["variants"].items():
            keras.backend.clear_session()
            keras.utils.set_random_seed(SEED)
            RECORDS.clear()
            error = None
            print(f"==== {job['path']} [{variant}]", flush=True)
            try:
                exec(compile(source, f"{job['path']} [{variant}]", "exec"), {"__name__": "__main__"})
            except BaseException:
                error = traceback.format_exc()
                print(error, flush=True)
            results[variant] = {"fits": list(RECORDS), "error": error}
        with open(out_path, "w") as handle:
            json.dump(results, handle, indent=1)

    main(sys.argv[1], sys.argv[2])
''')


def _run_sample(shim: Path, work: Path, stem: str, job: dict) -> dict:
    job_path, out_path = work / f"{stem}.job.json", work / f"{stem}.out.json"
    job_path.write_text(json.dumps(job))
    env = dict(
        os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0",
        TF_CPP_MIN_LOG_LEVEL="2", TF_USE_LEGACY_KERAS="0",
    )
    proc = subprocess.run(
        [sys.executable, str(shim), str(job_path), str(out_path)], cwd=work, env=env,
        capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, check=False,
    )
    log = (proc.stdout + proc.stderr)[-6000:]
    if proc.returncode != 0 or not out_path.is_file():
        return {variant: {"fits": [], "error": f"shim exited {proc.returncode}:\n{log}"} for variant in job["variants"]}
    results = json.loads(out_path.read_text())
    for result in results.values():
        result["log"] = log
    return results


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """sample stem -> variant ("original" or a rule code) -> {"fits": [...], "error": ...}."""
    work = tmp_path_factory.mktemp("fix-semantics")
    shim = work / "shim.py"
    shim.write_text(SHIM)
    jobs: dict = {}
    for (stem, code), result in CASES.items():
        job = jobs.setdefault(stem, {"path": f"samples/{stem}.py", "variants": {"original": result.original}})
        job["variants"][code] = result.fixed
    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        futures = {stem: pool.submit(_run_sample, shim, work, stem, job) for stem, job in jobs.items()}
        return {stem: future.result() for stem, future in futures.items()}


# ---- what each fix must (and must only) change --------------------------------------------------


def _kt101_moves(layers: list) -> list:
    """Every model that one KT101 fix can make of `layers` (a call trace): an Activation layer and
    the BatchNormalization right after it swapped, or a layer with a non-linear activation
    followed by BatchNormalization split into linear layer -> BatchNormalization -> Activation.
    Producer indices are renumbered so that the data flow is exactly the intended one."""
    moves = []
    for i in range(len(layers) - 1):
        first, bn = layers[i], layers[i + 1]
        if (bn["class"] != "BatchNormalization" or bn["inputs"] != [i] or first["config"] is None
                or bn["depth"] != first["depth"]):
            continue
        activation = first["config"].get("activation")
        if first["class"] == "Activation":
            # [..., act(x), bn(act)] -> [..., bn(x), act(bn)]; consumers of position i+1 keep it
            moves.append(layers[:i] + [dict(bn, inputs=first["inputs"]), dict(first, inputs=[i])] + layers[i + 2:])
        elif activation not in (None, "linear"):
            # [..., lin_act(x), bn(lin)] -> [..., lin(x), bn(lin), Activation(act)(bn)]; one more call
            def shift(index: int) -> int:
                return index + 1 if index > i else index
            linear = dict(first, config=dict(first["config"], activation="linear"))
            act = {"depth": first["depth"], "class": "Activation", "config": {"activation": activation},
                   "inputs": [i + 1]}
            rest = [dict(layer, inputs=[shift(k) for k in layer["inputs"]]) for layer in layers[i + 2:]]
            moves.append(layers[:i] + [linear, dict(bn, inputs=[i]), act] + rest)
    return moves


def _model_and_fit(record: dict) -> dict:
    return {key: record[key] for key in ("layers", "optimizer", "fit", "loss_fn")}


def _without(fit: dict, *keys: str) -> dict:
    return {k: v for k, v in fit.items() if k not in keys}


def _check_kt101(original: dict, fixed: dict, applied: int) -> None:
    candidates = [original["layers"]]
    for _ in range(applied):
        candidates = [moved for layers in candidates for moved in _kt101_moves(layers)]
    assert fixed["layers"] in candidates, (
        "the fixed model is not the original with the intended BatchNormalization/activation move"
    )
    assert fixed["fit"] == original["fit"]
    assert fixed["optimizer"] == original["optimizer"]


def _same_model(original: dict, fixed: dict) -> None:
    assert fixed["layers"] == original["layers"]
    assert fixed["optimizer"] == original["optimizer"]
    assert fixed["loss_fn"] == original["loss_fn"]


def _check_kt301(original: dict, fixed: dict, applied: int) -> None:
    _same_model(original, fixed)
    assert original["fit"].get("validation_data") is None and not original["fit"].get("validation_split")
    assert fixed["fit"] == dict(original["fit"], validation_split=0.2)
    assert "val_loss" in fixed["history_keys"]


def _check_kt302(original: dict, fixed: dict, applied: int) -> None:
    _same_model(original, fixed)
    assert original["fit"].get("validation_data") is not None
    assert fixed["fit"] == dict(_without(original["fit"], "validation_data"), validation_split=0.2)
    assert "val_loss" in fixed["history_keys"]


def _check_kt401(original: dict, fixed: dict, applied: int) -> None:
    before, after = original["optimizer"], fixed["optimizer"]
    assert fixed["layers"] == original["layers"]
    assert fixed["fit"] == original["fit"]
    assert after["class"] == before["class"] and after["config"] == before["config"]
    target = before["learning_rate"]["constant"]  # float32 in the optimizer, float64 in the schedule
    schedule = after["learning_rate"]
    assert schedule["schedule"] == "CosineDecay"
    config, at = schedule["config"], schedule["at"]
    assert config["warmup_steps"] > 0 and config["decay_steps"] > 0
    assert math.isclose(config["warmup_target"], target, rel_tol=1e-6)
    assert config["initial_learning_rate"] < config["warmup_target"]
    assert at["0"] == pytest.approx(config["initial_learning_rate"], abs=1e-9)
    assert at[str(config["warmup_steps"])] == pytest.approx(target, rel=1e-5)  # the peak is the old rate
    assert at["0"] < at["1"] < at[str(config["warmup_steps"])]


def _check_kt305(original: dict, fixed: dict, applied: int) -> None:
    _same_model(original, fixed)
    assert original["fit"].get("shuffle") is False
    assert fixed["fit"] == _without(original["fit"], "shuffle")  # Keras' default: shuffle=True


def _check_kt402(original: dict, fixed: dict, applied: int) -> None:
    before, after = original["optimizer"], fixed["optimizer"]
    assert fixed["layers"] == original["layers"] and fixed["fit"] == original["fit"]
    assert before["class"] == after["class"] == "SGD"
    assert before["config"]["momentum"] == 0 and after["config"]["momentum"] == pytest.approx(0.9)
    assert _without(after["config"], "momentum") == _without(before["config"], "momentum")
    assert after["learning_rate"] == before["learning_rate"]


def _check_kt501(original: dict, fixed: dict, applied: int) -> None:
    _same_model(original, fixed)
    assert fixed["fit"] == dict(original["fit"], callbacks=[*(original["fit"].get("callbacks") or []),
                                                             "EarlyStopping"])


def _check_kt201(original: dict, fixed: dict, applied: int) -> None:
    """The one-unit softmax output becomes a sigmoid; nothing else changes."""
    assert fixed["fit"] == original["fit"] and fixed["optimizer"] == original["optimizer"]
    changed = [(a, b) for a, b in zip(original["layers"], fixed["layers"]) if a != b]
    assert len(original["layers"]) == len(fixed["layers"]) and len(changed) == applied
    for before, after in changed:
        assert before["config"]["activation"] == "softmax" and before["config"]["units"] == 1
        assert after["config"] == dict(before["config"], activation="sigmoid")


def _check_kt202(original: dict, fixed: dict, applied: int) -> None:
    """The loss reads the output as what it is: logits or probabilities; the model is unchanged."""
    assert fixed["layers"] == original["layers"]
    assert fixed["fit"] == original["fit"] and fixed["optimizer"] == original["optimizer"]
    after = fixed["loss_fn"]
    assert isinstance(after, dict) and after["config"].get("from_logits") is not None
    before = original["loss_fn"]
    before_logits = before["config"].get("from_logits") if isinstance(before, dict) else False
    assert after["config"]["from_logits"] != before_logits


def _repeatedly(step, layers: list, at_least: int) -> list:
    """The models `step` makes of `layers` applied `at_least` times or more: a fix of one line in a
    helper changes every model call of that helper."""
    found, level = [], [layers]
    for depth in range(1, len(layers) + 1):
        level = list({json.dumps(made): made for each in level for made in step(each)}.values())
        if not level:
            break
        if depth >= at_least:
            found += level
    return found


def _kt105_removals(layers: list) -> list:
    """Every model that one KT105 fix can make of `layers`: an activation layer that repeats the
    relu/relu6 of the layer feeding it, removed; what read it reads that layer instead."""
    removals = []
    for i, layer in enumerate(layers):
        if layer["class"] not in ("Activation", "ReLU") or len(layer["inputs"]) != 1 or not layer["config"]:
            continue
        source, config = layer["inputs"][0], layer["config"]
        name = config.get("activation") if layer["class"] == "Activation" else "relu"
        if layer["class"] == "ReLU" and (config.get("max_value") is not None or config.get("negative_slope")
                                         or config.get("threshold")):
            continue
        if name not in ("relu", "relu6") or source < 0 or (layers[source]["config"] or {}).get("activation") != name:
            continue

        def moved(index: int, i=i, source=source) -> int:
            return source if index == i else (index - 1 if index > i else index)
        removals.append([dict(other, inputs=[moved(k) for k in other["inputs"]])
                         for other in layers[:i] + layers[i + 1:]])
    return removals


def _check_kt105(original: dict, fixed: dict, applied: int) -> None:
    """The repeated activation layer is gone and nothing else changed: the same function."""
    assert fixed["layers"] in _repeatedly(_kt105_removals, original["layers"], applied), (
        "the fixed model is not the original without a repeated relu")
    assert fixed["fit"] == original["fit"] and fixed["optimizer"] == original["optimizer"]
    assert fixed["loss"] == pytest.approx(original["loss"], rel=1e-5)  # a safe fix: the same step


def _kt107_swaps(layers: list) -> list:
    """Every model that one KT107 fix can make of `layers`: a Dropout and the pooling layer it
    feeds swapped (what read the pooling reads the Dropout now)."""
    swaps = []
    for i in range(len(layers) - 1):
        drop, pool = layers[i], layers[i + 1]
        if drop["class"] not in ("Dropout", "AlphaDropout", "GaussianDropout") or "Pool" not in pool["class"] \
                or pool["inputs"] != [i] or pool["depth"] != drop["depth"]:
            continue
        swaps.append(layers[:i] + [dict(pool, inputs=drop["inputs"]), dict(drop, inputs=[i])] + layers[i + 2:])
    return swaps


def _check_kt107(original: dict, fixed: dict, applied: int) -> None:
    assert fixed["layers"] in _repeatedly(_kt107_swaps, original["layers"], applied), (
        "the fixed model is not the original with Dropout and pooling swapped")
    assert fixed["fit"] == original["fit"] and fixed["optimizer"] == original["optimizer"]


CHECKS = {"KT101": _check_kt101, "KT105": _check_kt105, "KT107": _check_kt107, "KT201": _check_kt201,
          "KT202": _check_kt202, "KT301": _check_kt301, "KT302": _check_kt302, "KT305": _check_kt305,
          "KT401": _check_kt401, "KT402": _check_kt402, "KT501": _check_kt501}


# ---- tests ---------------------------------------------------------------------------------------


def test_every_fix_is_exercised_by_a_sample():
    assert {code for _, code in CASES} >= set(FIXED_CODES)
    for (stem, code), result in CASES.items():
        assert result.applied and {d.code for d in result.applied} == {code}, (stem, code)


def _ran(result: dict, what: str) -> None:
    assert result["error"] is None, f"the {what} script fails:\n{result['error']}\n{result.get('log', '')}"


@needs_keras
@pytest.mark.parametrize("stem,code", sorted(CASES), ids=[f"{s}-{c}" for s, c in sorted(CASES)])
def test_fixed_model_is_the_intended_one_and_trains(runs, stem, code):
    original, fixed = runs[stem]["original"], runs[stem][code]
    _ran(original, "original")
    _ran(fixed, "fixed")
    assert fixed["fits"] and len(fixed["fits"]) == len(original["fits"])
    for fit in original["fits"] + fixed["fits"]:
        assert fit["steps"] == 1
        assert fit["loss"] and all(math.isfinite(v) for v in fit["loss"])
    if code not in CHECKS:
        pytest.fail(f"no semantic check is written for the {code} fix yet")
    applied = len(CASES[(stem, code)].applied)
    changed = 0
    for before, after in zip(original["fits"], fixed["fits"]):
        assert after["model"] == before["model"]
        assert after["output_shape"] == before["output_shape"]
        if _model_and_fit(after) == _model_and_fit(before):
            continue  # a fit this fix does not touch
        CHECKS[code](before, after, applied)
        changed += 1
    assert changed, f"the {code} fix changed the source but no fitted model or fit call"


def _training_steps(fit: dict) -> int:
    """How many steps the unshimmed fit() would run: epochs x ceil(training rows / batch size)."""
    rows = fit["x"]["array"][0]
    split = fit.get("validation_split") or 0.0
    rows = math.ceil(rows * (1.0 - split)) if split else rows  # as Keras splits the arrays
    return (fit.get("epochs") or 1) * math.ceil(rows / (fit.get("batch_size") or 32))


# The KT401 fix falls back to decay_steps=10000 (warmup 5%: 500 steps) when the script's own step
# count is not literal in the code; these samples train for fewer steps than the warmup lasts.
SHORT_RUN = pytest.mark.xfail(strict=True, reason=(
    "KT401 fix: warmup_steps=500 (default decay_steps 10000 x 5%) outlasts the whole run, so the "
    "fixed model never reaches the original learning rate"
))
KT401_CASES = [
    pytest.param(stem, id=stem, marks=[SHORT_RUN] if stem in ("large_batch_sgd", "transformer_digits_rows") else [])
    for stem, code in sorted(CASES) if code == "KT401"
]


@needs_keras
@pytest.mark.parametrize("stem", KT401_CASES)
def test_warmup_ends_within_the_training_run(runs, stem):
    fixed = runs[stem]["KT401"]
    _ran(fixed, "fixed")
    for fit in fixed["fits"]:
        steps = _training_steps(fit["fit"])
        warmup = fit["optimizer"]["learning_rate"]["config"]["warmup_steps"]
        assert warmup < steps, f"warmup_steps={warmup}, but fit() runs {steps} steps in all"
