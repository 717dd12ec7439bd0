"""What `kerastips verify`'s harness costs a run, against a plain model.fit of the same model, data
and budget, in the same run of this script, on the CPU.

    python bench/verify_overhead.py [--reps 5] [--epochs 5]

The training script (written to a temporary folder) trains an MLP on scikit-learn's digits for a
fixed number of epochs with its own budget in its fit call, and prints how long it took from the
end of its framework imports to the end of its fit. It runs:

- plain: `python train.py`, opening the same engine itself as a user would (`with
  strategy.scope():` around the model), one device or MirroredStrategy over 2 logical CPUs;
- harness: through the runner (`python -m kerastips.verify.shim`), whose budget leaves the fit as
  it is (every cap above the script's own), with the engine opened by the shim; with and without
  the symptom monitor.

"Beyond process start" compares the spans after the framework imports: plain = end of imports to
end of fit; harness = the shim's setup (seeding, engine, fit wrapper) + the script to the end of the
recorded fit, both read from the run's own output, in wall time and in the process's CPU time (all
threads; steadier than wall time when other work shares the machine). The whole process
(interpreter, imports, exit) is shown too, measured by the parent. Plain and harness runs
alternate; minimum and median over the reps.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kerastips.verify import ORIGINAL, runner  # noqa: E402

TRAIN = '''
import os
import time

import numpy as np
import tensorflow as tf

PLAIN = os.environ.get("PLAIN_ENGINE")  # set: this run opens its engine itself (no harness)
if PLAIN == "mirrored":
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
import keras

IMPORTED, IMPORTED_CPU = time.perf_counter(), time.process_time()  # the harness has imported as much
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

if PLAIN == "mirrored":
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
elif PLAIN == "one-device":
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
else:
    strategy = tf.distribute.get_strategy()  # the harness's, entered before this script runs
if PLAIN:
    keras.utils.set_random_seed(0)

digits = load_digits()
x = StandardScaler().fit_transform(digits.data).astype("float32")
y = digits.target
with strategy.scope():
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=EPOCHS, batch_size=32, validation_split=0.2, verbose=2)
print(f"PLAIN_SPAN {time.perf_counter() - IMPORTED:.4f} CPU {time.process_time() - IMPORTED_CPU:.4f}", flush=True)
'''

_TIMINGS = re.compile(r"timings: imports ([\d.]+) s, setup ([\d.]+) s, script ([\d.]+) s \(fit ([\d.]+) s\)"
                      r".*\(CPU after imports ([\d.]+) s\)")


def plain_run(script: Path, engine: str) -> tuple[float, float, float]:
    """(span after imports, its CPU time, whole process wall time)."""
    env = dict(os.environ, PLAIN_ENGINE=engine, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="",
               KERAS_BACKEND="tensorflow", PYTHONHASHSEED="0")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    process = time.perf_counter() - started
    found = re.search(r"PLAIN_SPAN ([\d.]+) CPU ([\d.]+)", done.stdout)
    if found is None:  # (a crash in TensorFlow's teardown after the line is printed does not count)
        sys.exit(f"plain run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    span, cpu = map(float, found.groups())
    return span, cpu, process


def harness_run(script: Path, engine: str, diagnostics: bool, work: Path) -> tuple[float, float, float]:
    """(setup + script to the end of the recorded fit, its CPU time, whole process wall time)."""
    options = runner.Options(
        backend="tensorflow", strategy="mirrored" if engine == "mirrored" else "one-device",
        cpu_replicas=2 if engine == "mirrored" else None, epochs=None, steps_per_epoch=None,
        max_samples=None, diagnostics=diagnostics, timeout=600,
        env={"CUDA_VISIBLE_DEVICES": ""},
    )
    started = time.perf_counter()
    record = runner.run_variant(script, runner.Variant(ORIGINAL, script.read_text()), 0, options, work)
    process = time.perf_counter() - started
    if record["status"] != "ok":
        sys.exit(f"harness run failed: {record['error']}\n{record['log'][-3000:]}")
    if "within the budget" not in record["log"]:
        sys.exit("the harness changed the fit: the budget must leave it as it is")
    _imports, setup, script_s, _fit, cpu = map(float, _TIMINGS.search(record["log"]).groups())
    return setup + script_s, cpu, process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    kinds = ("plain", "harness", "harness, no diagnostics")
    rows = []
    with tempfile.TemporaryDirectory(prefix="kerastips-bench-") as folder:
        work = Path(folder)
        script = work / "train.py"
        script.write_text(TRAIN.replace("EPOCHS", str(args.epochs)))
        for engine in ("one-device", "mirrored"):
            runs: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in kinds}
            for rep in range(args.reps + 1):  # the first round warms the caches and is dropped
                measured = (plain_run(script, engine), harness_run(script, engine, True, work),
                            harness_run(script, engine, False, work))
                if rep:
                    for kind, values in zip(kinds, measured):
                        runs[kind].append(values)
            base_min = min(span for span, _, _ in runs["plain"])
            base_median = statistics.median(span for span, _, _ in runs["plain"])
            base_cpu = min(cpu for _, cpu, _ in runs["plain"])
            for kind in kinds:
                spans = [span for span, _, _ in runs[kind]]
                cpu = min(c for _, c, _ in runs[kind])
                rows.append((engine, kind, min(spans), min(spans) / base_min - 1,
                             statistics.median(spans), statistics.median(spans) / base_median - 1,
                             cpu, cpu / base_cpu - 1, statistics.median(p for _, _, p in runs[kind])))
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, CPython {platform.python_version()}"
    import importlib.metadata as metadata

    versions = f"tensorflow {metadata.version('tensorflow')}, keras {metadata.version('keras')}"
    print(f"date: {datetime.date.today()}  machine: {machine}  {versions}")
    print(f"digits MLP 64-256-128-10, {args.epochs} epochs x 45 steps of 32, validation_split 0.2; "
          f"{args.reps} reps, alternating")
    print("| engine | run | span after imports: min | extra | median | extra | its CPU time: min | extra "
          "| whole process (median) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for engine, kind, low, low_x, mid, mid_x, cpu, cpu_x, process in rows:
        print(f"| {engine} | {kind} | {low:.2f} s | {low_x:+.1%} | {mid:.2f} s | {mid_x:+.1%} | "
              f"{cpu:.2f} s | {cpu_x:+.1%} | {process:.2f} s |")


if __name__ == "__main__":
    main()
