"""The runtime shim of `kerastips verify`: runs ONE variant of a training script, in this process.

    python -m kerastips.verify.shim JOB.json OUT.json

JOB.json (written by the runner): {"script", "source", "variant", "seed", "backend", "strategy",
"cpu_replicas", "epochs", "steps_per_epoch", "max_samples", "fit_index", "argv", "argv0",
"diagnostics"}. OUT.json gets one
result record (kerastips.verify.RECORD_KEYS) however the script ends.

In order, before the script runs: the devices are configured (N logical CPUs), the framework and
Keras are imported, every seeding function the script may call is wrapped so that the run's seed
is folded into the script's own seeds, the run is seeded, the distribution engine is opened and
entered (so that the model the script builds is the engine's), and `keras.Model.fit` is wrapped.
Each fit is capped to the budget (epochs, steps per epoch, array samples); the fit at
`fit_index` also gets the symptom monitor and is timed and recorded, with what its val_* metrics
were measured on and the trained model's loss on the script's own held-out data (the first plain
`evaluate(...)` after the fit, see HeldOut), and the script is stopped right after it. The script runs as `__main__` with its own path, argv and sys.path[0]; its stdout
and stderr are the process's, which the runner captures. Nothing heavy is done besides what the
script does: no extra forward passes, no per-batch hooks.

This module imports TensorFlow/Keras; the lint path never imports it.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # before anything is imported: the process start is the runner's

import errno  # noqa: E402
import functools  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402

from kerastips.verify import strategies  # noqa: E402  (plain logic; imports no framework)

_PREFIX = "[kerastips verify]"
MONITOR_CHECKS = 2  # gradient/dead-unit checks in a recorded fit, besides one before training
_SEED_MODULUS = 2**31 - 1


class StopScript(BaseException):
    """Raised after the recorded fit: ends the script (a BaseException, so that the script's own
    `except Exception` does not swallow it)."""


def note(message: str) -> None:
    print(f"{_PREFIX} {message}", file=sys.stderr, flush=True)


# ---- seeding -------------------------------------------------------------------------------------


def mix_seed(user_seed, run_seed: int):
    """The seed a run gives a script that seeds itself with `user_seed`: the script's own seed for
    run seed 0 (the script as written), a different but fixed one for every other run seed."""
    if user_seed is None or isinstance(user_seed, bool) or not isinstance(user_seed, int):
        return user_seed  # None (reseed from entropy) or a non-integer: the function's own business
    if run_seed == 0:
        return user_seed
    return (user_seed + run_seed * 1_000_003) % _SEED_MODULUS


class Seeding:
    """Wraps keras.utils.set_random_seed, random.seed, numpy.random.seed, tf.random.set_seed (and
    torch.manual_seed on the torch backend) so that the run's seed is folded into every seed the
    script sets. Keras' own set_random_seed calls the others: only the outermost call mixes."""

    def __init__(self, run_seed: int) -> None:
        self.run_seed = run_seed
        self.depth = 0
        self.originals: dict = {}

    def wrap(self, function):
        seeding = self

        @functools.wraps(function)
        def seeded(seed=None, *args, **kwargs):
            if seeding.depth:
                return function(seed, *args, **kwargs)
            seeding.depth += 1
            try:
                return function(mix_seed(seed, seeding.run_seed), *args, **kwargs)
            finally:
                seeding.depth -= 1

        seeded.__kerastips_original__ = function
        return seeded

    def install(self, keras, backend: str) -> None:
        import numpy as np

        from keras.src.utils import rng_utils

        keras_seed = rng_utils.set_random_seed
        self.originals["keras"] = keras_seed
        wrapped = self.wrap(keras_seed)
        rng_utils.set_random_seed = wrapped  # modules imported later (tf.keras) bind this one
        for module in list(sys.modules.values()):  # ... and those already imported are rebound
            namespace = getattr(module, "__dict__", None)  # (a plain lookup: no lazy import runs)
            if isinstance(namespace, dict) and namespace.get("set_random_seed") is keras_seed:
                namespace["set_random_seed"] = wrapped
        self.originals["random"] = random.seed
        random.seed = self.wrap(random.seed)
        self.originals["numpy"] = np.random.seed
        np.random.seed = self.wrap(np.random.seed)
        tf = sys.modules.get("tensorflow")
        if tf is not None:
            self.originals["tensorflow"] = tf.random.set_seed
            tf.random.set_seed = self.wrap(tf.random.set_seed)
        if backend == "torch":
            import torch

            self.originals["torch"] = torch.manual_seed
            torch.manual_seed = self.wrap(torch.manual_seed)

    def seed_run(self) -> None:
        """Seed Python, NumPy and the framework for this run (Keras' own function does them all)."""
        self.originals["keras"](mix_seed(0, self.run_seed))


# ---- the budget -----------------------------------------------------------------------------------


def _is_dataset(value) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("tensorflow") and hasattr(value, "element_spec")


def _is_array(value) -> bool:
    shape = getattr(value, "shape", None)
    return shape is not None and not _is_dataset(value) and len(shape) >= 1 and shape[0] is not None


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _array_rows(value) -> int | None:
    """The number of rows of array data (arrays or nested lists/tuples/dicts of them), else None."""
    leaves = list(_leaves(value))
    if not leaves or not all(_is_array(leaf) for leaf in leaves):
        return None
    return int(leaves[0].shape[0])


def _take(value, rows):
    """`value` (an array structure) with only `rows` (sorted indices), structure kept."""
    if isinstance(value, dict):
        return type(value)((key, _take(item, rows)) for key, item in value.items())
    if isinstance(value, tuple):
        return tuple(_take(item, rows) for item in value)
    if isinstance(value, list):
        return [_take(item, rows) for item in value]
    if hasattr(value, "iloc"):  # pandas: positions, not labels or columns
        return value.iloc[rows]
    if type(value).__module__ == "numpy":
        return value[rows]
    import numpy as np

    return np.asarray(value)[rows]


def _sample_rows(count: int, limit: int):
    """A fixed, representative subset of `count` rows: seeded at 0 whatever the run seed, so that
    every variant and seed trains on the same rows; in the data's own order."""
    import numpy as np

    return np.sort(np.random.default_rng(0).choice(count, size=limit, replace=False))


class Budget:
    def __init__(self, job: dict) -> None:
        self.epochs = job.get("epochs")
        self.steps_per_epoch = job.get("steps_per_epoch")
        self.max_samples = job.get("max_samples")

    def cap(self, arguments: dict) -> tuple[dict, list[str]]:
        """The fit arguments within the budget, and what was changed (for the log)."""
        capped, changes = dict(arguments), []
        initial = int(capped.get("initial_epoch") or 0)
        epochs = capped.get("epochs", 1)
        if self.epochs is not None and isinstance(epochs, int) and epochs - initial > self.epochs:
            capped["epochs"] = initial + self.epochs
            changes.append(f"epochs {epochs} -> {capped['epochs']}")
        if self.max_samples is not None:
            self._cap_rows(capped, changes)
            validation = capped.get("validation_data")
            rows = _array_rows(validation) if isinstance(validation, (tuple, list)) else None
            if rows is not None and rows > self.max_samples:
                capped["validation_data"] = _take(validation, _sample_rows(rows, self.max_samples))
                changes.append(f"validation samples {rows} -> {self.max_samples}")
        if self.steps_per_epoch is not None:
            steps = capped.get("steps_per_epoch")
            # (array data whose epoch is within the cap keeps its own: Keras fails on steps past
            # the end of arrays under MirroredStrategy)
            rows = _train_rows(capped)
            batches = None if rows is None else math.ceil(rows / int(capped.get("batch_size") or 32))
            if (steps is None and (batches is None or batches > self.steps_per_epoch)) or (
                steps is not None and steps > self.steps_per_epoch
            ):
                capped["steps_per_epoch"] = self.steps_per_epoch
                changes.append(f"steps_per_epoch {steps} -> {self.steps_per_epoch}")
            validation = capped.get("validation_data")
            if validation is not None and not isinstance(validation, (tuple, list)):
                steps = capped.get("validation_steps")  # a dataset or generator: steps cap it
                if steps is None or steps > self.steps_per_epoch:
                    capped["validation_steps"] = self.steps_per_epoch
                    changes.append(f"validation_steps {steps} -> {self.steps_per_epoch}")
        if capped.get("verbose", "auto") in ("auto", 1):
            capped["verbose"] = 2  # one line an epoch in the log, no progress bar redrawn per batch
        return capped, changes

    def cap_evaluation(self, arguments: dict) -> tuple[dict, list[str]]:
        """evaluate() arguments within the budget: array samples, and steps for a dataset."""
        capped, changes = dict(arguments), []
        if self.max_samples is not None:
            self._cap_rows(capped, changes)
        if self.steps_per_epoch is not None and _array_rows(capped.get("x")) is None:
            steps = capped.get("steps")
            if steps is None or steps > self.steps_per_epoch:
                capped["steps"] = self.steps_per_epoch
                changes.append(f"steps {steps} -> {self.steps_per_epoch}")
        return capped, changes

    def _cap_rows(self, capped: dict, changes: list) -> None:
        """At most max_samples rows of x, y and sample_weight: the same rows in every run."""
        keys = [key for key in ("x", "y", "sample_weight") if capped.get(key) is not None]
        rows = _array_rows([capped[key] for key in keys])
        if rows is not None and rows > self.max_samples:
            chosen = _sample_rows(rows, self.max_samples)
            for key in keys:
                capped[key] = _take(capped[key], chosen)
            changes.append(f"samples {rows} -> {self.max_samples}")


def _train_rows(arguments: dict) -> int | None:
    """The rows of array data a fit trains on (validation_split's taken off); None when unknown."""
    rows = _array_rows(arguments.get("x"))
    split = arguments.get("validation_split") or 0.0
    if rows is not None and split and arguments.get("validation_data") is None:
        rows = int(math.floor(rows * (1.0 - split)))
    return rows


def samples_per_epoch(arguments: dict) -> int | None:
    """How many samples one epoch of this fit trains on, for array data; None when unknown."""
    rows = _train_rows(arguments)
    if rows is None:
        return None
    batch = arguments.get("batch_size") or 32
    steps = arguments.get("steps_per_epoch")
    return rows if steps is None else min(rows, int(steps) * int(batch))


def sample_batch(arguments: dict, rows: int = 128):
    """A small batch of the training inputs and targets for the symptom monitor (no copy of the
    data beyond these rows); None where the data is not arrays (the monitor takes a dataset's first
    batch itself)."""
    x, y = arguments.get("x"), arguments.get("y")
    if _array_rows(x) is None:
        return (x, None) if _is_dataset(x) else (None, None)

    def head(value):
        if isinstance(value, dict):
            return {key: head(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(head(item) for item in value)
        return value.iloc[:rows] if hasattr(value, "iloc") else value[:rows]

    return head(x), (head(y) if y is not None and _array_rows(y) is not None else None)


# ---- what the losses were measured on -----------------------------------------------------------

_FINGERPRINT_ROWS = 2048  # rows hashed at each end of an array: enough to tell data sets apart


def fingerprint(value) -> str | None:
    """A short hash of array data (arrays or nested lists/tuples/dicts of them; shapes, dtypes and
    the rows at both ends), to tell whether two runs measured on the same data; None when the data
    is not arrays (a dataset, a generator)."""
    import hashlib

    import numpy as np

    if _array_rows(value) is None:
        return None
    digest = hashlib.blake2b(digest_size=8)
    for leaf in _leaves(value):
        array = np.asarray(leaf.to_numpy() if hasattr(leaf, "to_numpy") else leaf)
        digest.update(f"{array.shape}{array.dtype}".encode())
        for part in (array[:_FINGERPRINT_ROWS], array[-_FINGERPRINT_ROWS:]):
            digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


def validation_fingerprint(arguments: dict) -> str | None:
    """What the fit's val_* metrics were measured on: "none", the fingerprint of its validation
    arrays (validation_data, or the rows validation_split holds out, as Keras takes them: the
    last ones), or None when that is not known (a dataset or generator)."""
    validation = arguments.get("validation_data")
    if validation is not None:
        return fingerprint(tuple(validation)) if isinstance(validation, (tuple, list)) else None
    split = arguments.get("validation_split") or 0.0
    if not split:
        return "none"
    data = tuple(arguments[key] for key in ("x", "y", "sample_weight") if arguments.get(key) is not None)
    rows = _array_rows(data)
    if rows is None:
        return None
    at = int(math.floor(rows * (1.0 - split)))
    return fingerprint(_take(data, list(range(at, rows))))


_EVALUATE_ARGUMENTS = ("x", "y", "batch_size", "sample_weight", "steps")


class HeldOut:
    """The script's own held-out data: the arguments of the first `evaluate(...)` call that follows
    the recorded fit in the same function (or at module level), found in the script's syntax tree
    and evaluated in the fit's calling frame right after the fit, so that every variant of a
    script is measured on the data the script tests on. Only plain expressions (names,
    attributes, subscripts with constant or slice indices, tuples) are evaluated: no user code
    runs after the fit."""

    def __init__(self, source: str, script: str) -> None:
        import ast

        self.script = script
        try:
            self.tree = ast.parse(source)
        except SyntaxError:
            self.tree = None

    def arguments(self, frame) -> dict | None:
        """The evaluate arguments as values, from the fit's calling frame; None when there is no
        such evaluate call or its arguments are not plain expressions in scope."""
        import ast

        if self.tree is None or frame is None:
            return None
        scope = self._scope(frame.f_code)
        if scope is None:
            return None
        fits, evaluates = [], []
        for node in _calls_in_scope(scope):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            (fits if name == "fit" else evaluates if name == "evaluate" else []).append(node)
        line = frame.f_lineno
        fit = next((n for n in fits if n.lineno <= line <= (n.end_lineno or n.lineno)), None)
        if fit is None:
            return None
        after = [n for n in evaluates if n.lineno > (fit.end_lineno or fit.lineno)]
        if not after:
            return None
        call = min(after, key=lambda n: (n.lineno, n.col_offset))
        names = dict(zip(_EVALUATE_ARGUMENTS, call.args))
        names.update((k.arg, k.value) for k in call.keywords if k.arg in _EVALUATE_ARGUMENTS)
        if len(call.args) > len(_EVALUATE_ARGUMENTS) or any(k.arg is None for k in call.keywords):
            return None  # *args or **kwargs: not plain
        if not all(_plain(node) for node in names.values()):
            return None
        try:
            return {
                key: eval(compile(ast.Expression(node), self.script, "eval"), frame.f_globals, frame.f_locals)
                for key, node in names.items()
            }
        except Exception:  # noqa: BLE001 - a name not bound yet (defined after the fit): no held-out data
            return None

    def _scope(self, code):
        """The module or the function definition whose code is running in `code`."""
        import ast

        if code.co_name == "<module>":
            return self.tree
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])  # as co_firstlineno
                if start <= code.co_firstlineno <= (node.end_lineno or node.lineno):
                    return node
        return None


def _calls_in_scope(scope):
    """The calls in a module or function body, not those inside nested functions or classes."""
    import ast

    stack = list(scope.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _plain(node) -> bool:
    import ast

    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Attribute):
        return _plain(node.value)
    if isinstance(node, ast.Subscript):
        return _plain(node.value) and _plain(node.slice)
    if isinstance(node, ast.Slice):
        return all(part is None or _plain(part) for part in (node.lower, node.upper, node.step))
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_plain(item) for item in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _plain(node.operand)
    return False


# ---- the fit ------------------------------------------------------------------------------------------


class EpochTimer:
    """Training time per epoch without the validation pass: epoch start to validation start (or
    the epoch's end). Epoch-level hooks only."""

    def __init__(self, keras) -> None:
        timer = self

        class _Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                timer.started = time.perf_counter()

            def on_test_begin(self, logs=None):
                timer.stop()

            def on_epoch_end(self, epoch, logs=None):
                timer.stop()

        self.callback = _Timer()
        self.started: float | None = None
        self.epochs: list[float] = []  # seconds of training in each epoch

    def stop(self) -> None:
        if self.started is not None:
            self.epochs.append(time.perf_counter() - self.started)
            self.started = None

    def throughput(self, samples_per_epoch: int | None) -> float | None:
        """Samples per second of training: over the epochs after the first when there are some
        (the first one traces and compiles the step), else over the first."""
        timed = self.epochs[1:] or self.epochs
        seconds = sum(timed)
        if samples_per_epoch is None or not timed or seconds <= 0:
            return None
        return samples_per_epoch * len(timed) / seconds


class FitPatch:
    """keras.Model.fit within the budget; the fit at `fit_index` is monitored, timed, recorded,
    and ends the script."""

    def __init__(self, keras, job: dict, record: dict, monitor_class) -> None:
        self.keras = keras
        self.script = os.path.abspath(job["script"])
        self.budget = Budget(job)
        self.fit_index = int(job.get("fit_index") or 0)
        self.record = record
        self.monitor_class = monitor_class
        self.calls = 0
        self.done = False
        self.original = keras.Model.fit
        self.signature = inspect.signature(self.original)
        self.held_out = HeldOut(job["source"], self.script)

    def install(self) -> None:
        patch = self

        @functools.wraps(self.original)
        def fit(model, *args, **kwargs):
            return patch.fit(model, args, kwargs)

        self.keras.Model.fit = fit

    def fit(self, model, args, kwargs):
        if self.done:
            raise StopScript  # the script caught the stop and went on: end it at its next fit
        try:
            arguments = self.signature.bind(model, *args, **kwargs).arguments
        except TypeError:
            return self.original(model, *args, **kwargs)  # let Keras say what is wrong
        arguments.pop("self", None)
        extra = arguments.pop("kwargs", {})  # a backend's fit may take **kwargs
        index, self.calls = self.calls, self.calls + 1
        capped, changes = self.budget.cap(arguments)
        capped.update(extra)
        what = "recorded" if index == self.fit_index else "not recorded"
        note(f"fit #{index} ({what}): " + (", ".join(changes) if changes else "within the budget"))
        if index != self.fit_index:
            return self.original(model, **capped)
        return self._recorded_fit(model, capped)

    def _recorded_fit(self, model, capped: dict):
        keras = self.keras
        callbacks = list(capped.get("callbacks") or [])
        monitor = None
        if self.monitor_class is not None:
            x_sample, y_sample = sample_batch(capped)
            try:
                monitor = self.monitor_class(x_sample, y_sample, **self._monitor_pace(capped))
                callbacks.append(monitor)
            except Exception as exc:  # noqa: BLE001 - a diagnostic never stops the training
                self._unavailable(f"SymptomMonitor could not start: {type(exc).__name__}: {exc}")
        timer = EpochTimer(keras)
        callbacks.append(timer.callback)
        capped["callbacks"] = callbacks
        self.record["status"] = "error"  # until fit returns
        started = time.perf_counter()
        try:
            history = self.original(model, **capped)
        except Exception as exc:  # the run's result even if the script catches it and goes on
            traceback.print_exc()
            self.record["error"] = describe_error(exc, self.script)
            raise
        finally:
            self.record["fit_time_s"] = time.perf_counter() - started
            if monitor is not None:
                self.record["diagnostics"] += list(getattr(monitor, "symptoms", None) or [])
        values = {key: [_float(value) for value in series]
                  for key, series in (getattr(history, "history", None) or {}).items()}
        self.record["history"] = values
        self.record["epochs"] = max((len(series) for series in values.values()), default=0)
        self.record["samples_per_s"] = timer.throughput(samples_per_epoch(capped))
        self.record["validation"] = validation_fingerprint(capped)
        self.record["evaluation"] = self._evaluate_held_out(model)
        self.record["status"] = "ok"
        self.done = True
        raise StopScript

    def _evaluate_held_out(self, model) -> dict | None:
        """The trained model on the script's own held-out data (see HeldOut), within the budget:
        {"metrics": {name: value}, "data": fingerprint}; None when the script evaluates nothing
        that can be found."""
        frame = sys._getframe()
        while frame is not None and os.path.abspath(frame.f_code.co_filename) != self.script:
            frame = frame.f_back
        arguments = self.held_out.arguments(frame)
        if arguments is None:
            return None
        capped, changes = self.budget.cap_evaluation(arguments)
        note("held-out evaluate: " + (", ".join(changes) if changes else "within the budget"))
        try:
            metrics = model.evaluate(**capped, verbose=0, return_dict=True)
        except Exception as exc:  # noqa: BLE001 - the fit's record stands without it
            note(f"held-out evaluate failed: {type(exc).__name__}: {_first_line(str(exc))}")
            return None
        data = tuple(capped[key] for key in ("x", "y", "sample_weight") if capped.get(key) is not None)
        return {"metrics": {key: _float(value) for key, value in metrics.items()},
                "data": fingerprint(data)}

    def _monitor_pace(self, capped: dict) -> dict:
        """Check the gradients and units on about MONITOR_CHECKS epochs of the fit, the last one
        included: each check is a forward and backward pass of its own, and eager passes between
        the compiled steps slow the training around them too (bench/verify_overhead.py)."""
        try:
            if "every" not in inspect.signature(self.monitor_class).parameters:
                return {}
        except (TypeError, ValueError):
            return {}
        epochs = capped.get("epochs", 1) - int(capped.get("initial_epoch") or 0)
        return {"every": max(1, math.ceil(epochs / MONITOR_CHECKS))} if isinstance(epochs, int) else {}

    def _unavailable(self, detail: str) -> None:
        self.record["diagnostics"].append({"name": "diagnostics-unavailable", "epoch": None, "detail": detail})


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# ---- errors -------------------------------------------------------------------------------------


def describe_error(exc: BaseException, script: str) -> str:
    """One line for the user: what went wrong and where in the script."""
    where = ""
    # the innermost line of the script: in the traceback, or (an exception caught on its way up,
    # inside the fit) in the stack that called the fit
    for frames in (traceback.extract_tb(exc.__traceback__), traceback.extract_stack()):
        lines = [frame.lineno for frame in frames if os.path.abspath(frame.filename) == script]
        if lines:
            where = f" (at {os.path.basename(script)}:{lines[-1]})"
            break
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"the script needs a module that is not installed: {exc.name}{where}"
    if isinstance(exc, FileNotFoundError) or (
        isinstance(exc, OSError) and exc.errno == errno.ENOENT
    ):
        missing = exc.filename or str(exc)
        return f"the script needs data that is missing: {missing}{where}"
    text = f"{exc}"
    if "URL fetch failure" in text or type(exc).__name__ in ("URLError", "gaierror", "ConnectionError"):
        return f"the script needs data that is missing: it tried to download it ({_first_line(text)}){where}"
    message = _first_line(text)
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_KERAS_PREAMBLE = re.compile(r"^Exception encountered when calling .*\.$")


def _first_line(text: str, limit: int = 300) -> str:
    """The line that says what went wrong: Keras' 'Exception encountered when calling X.' preamble
    and terminal colours left out."""
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines() if line.strip()]
    if len(lines) > 1 and _KERAS_PREAMBLE.match(lines[0]):
        lines = lines[1:]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ---- the run ------------------------------------------------------------------------------------


def new_record(job: dict) -> dict:
    return {
        "variant": job["variant"],
        "seed": int(job["seed"]),
        "status": "error",
        "error": None,
        "backend": job["backend"],
        "strategy": {"name": job.get("strategy") or "auto", "replicas": 0},
        "history": {},
        "epochs": 0,
        "wall_time_s": 0.0,
        "fit_time_s": 0.0,
        "samples_per_s": None,
        "diagnostics": [],
        "validation": None,
        "evaluation": None,
    }


def _monitor_tools():
    """SymptomMonitor and symptoms_from_history when the diagnostics module is there."""
    try:
        from kerastips.verify import diagnostics
    except ImportError:
        return None, None
    except Exception as exc:  # noqa: BLE001 - diagnostics are an extra, never a reason to fail
        note(f"diagnostics unavailable: {type(exc).__name__}: {exc}")
        return None, None
    try:
        monitor = diagnostics.SymptomMonitor
    except Exception as exc:  # noqa: BLE001
        note(f"SymptomMonitor unavailable: {type(exc).__name__}: {exc}")
        monitor = None
    return monitor, getattr(diagnostics, "symptoms_from_history", None)


MARKS: dict = {}  # perf_counter() when the framework was imported, the script started and ended
CPU_MARKS: dict = {}  # process_time() (all threads) when the framework was imported and the script ended


def run(job: dict, record: dict) -> None:
    backend = job["backend"]
    script = os.path.abspath(job["script"])
    strategies.prepare(backend, job.get("cpu_replicas"))
    import keras

    if keras.backend.backend() != backend:
        raise RuntimeError(f"Keras runs the {keras.backend.backend()} backend, not {backend}")
    MARKS["imported"], CPU_MARKS["imported"] = time.perf_counter(), time.process_time()
    seeding = Seeding(int(job["seed"]))
    seeding.install(keras, backend)
    seeding.seed_run()
    engine = strategies.open_engine(backend, job.get("strategy") or "auto", job.get("cpu_replicas"))
    record["strategy"] = engine.describe()
    strategies.stand_in(engine, note)
    note(f"{engine.name} with {engine.replicas} replica(s) on {', '.join(engine.devices)}; seed {job['seed']}")
    monitor_class, from_history = _monitor_tools() if job.get("diagnostics", True) else (None, None)
    patch = FitPatch(keras, job, record, monitor_class)
    patch.install()

    module = types.ModuleType("__main__")
    module.__file__ = script
    module.__builtins__ = __builtins__
    sys.modules["__main__"] = module
    sys.argv = [job.get("argv0") or script, *job.get("argv", [])]
    sys.path[0] = os.path.dirname(script)
    code = compile(job["source"], script, "exec")
    MARKS["script"] = time.perf_counter()
    try:
        exec(code, module.__dict__)
    except StopScript:
        pass
    except SystemExit as exc:
        if exc.code not in (None, 0) and not patch.done:
            record["status"] = "error"
            record["error"] = f"the script exited with status {exc.code}"
    except BaseException as exc:
        if not patch.done:
            if record["error"] is None:  # (the recorded fit's own failure is logged already)
                traceback.print_exc()
                record["error"] = describe_error(exc, script)
            record["status"] = "error"
    MARKS["ended"], CPU_MARKS["ended"] = time.perf_counter(), time.process_time()
    known = strategies.known_failure(engine.name, record["error"] or "") if not patch.done else None
    if known:
        record["error"] = f"{known}: {record['error']}"
    if not patch.done and record["error"] is None:
        record["status"] = "no-fit"
        if patch.calls == 0:
            record["error"] = "the script ended without training a Keras model (no Model.fit call)"
        else:
            record["error"] = (f"the script called Model.fit {patch.calls} time(s); "
                               f"--fit-index {patch.fit_index} needs {patch.fit_index + 1}")
    if from_history is not None and record["history"]:
        try:
            known = {(item.get("name"), item.get("epoch")) for item in record["diagnostics"]}
            record["diagnostics"] += [item for item in from_history(record["history"])
                                      if (item.get("name"), item.get("epoch")) not in known]
        except Exception as exc:  # noqa: BLE001
            note(f"symptoms_from_history failed: {type(exc).__name__}: {exc}")


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m kerastips.verify.shim JOB.json OUT.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        job = json.load(handle)
    record = new_record(job)
    try:
        run(job, record)
    except BaseException as exc:  # the shim's own failure (framework, engine) is the run's result
        traceback.print_exc()
        record["status"] = "error"
        record["error"] = f"verification setup failed: {type(exc).__name__}: {_first_line(str(exc))}"
    record["wall_time_s"] = time.perf_counter() - _STARTED
    if len(MARKS) == 3:
        note("timings: imports {:.3f} s, setup {:.3f} s, script {:.3f} s (fit {:.3f} s), total {:.3f} s".format(
            MARKS["imported"] - _STARTED, MARKS["script"] - MARKS["imported"],
            MARKS["ended"] - MARKS["script"], record["fit_time_s"], record["wall_time_s"])
            + " (CPU after imports {:.3f} s)".format(CPU_MARKS["ended"] - CPU_MARKS["imported"]))
    record["diagnostics"] = _plain_diagnostics(record["diagnostics"])
    temporary = argv[2] + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(temporary, argv[2])
    return 0


def _plain_diagnostics(items) -> list:
    plain = []
    for item in items:
        if isinstance(item, dict) and "name" in item:
            epoch = item.get("epoch")
            plain.append({"name": str(item["name"]),
                          "epoch": int(epoch) if isinstance(epoch, (int, float)) and math.isfinite(epoch) else None,
                          "detail": str(item.get("detail", ""))})
    return plain


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip the framework's teardown (thread pools, strategies): the record is written
