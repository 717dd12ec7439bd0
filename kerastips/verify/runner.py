"""The parent side of `kerastips verify`: the variants of a script and one subprocess per
(variant, seed).

Each run is `python -m kerastips.verify.shim JOB.json OUT.json` in its own process group, in the
user's working directory, with its stdout and stderr captured (the record's "log"). A run that
crashes, hangs past the timeout or writes no record becomes that variant's result (status
"error" or "timeout"); nothing a script does can take the parent down. Imports no framework.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from kerastips.fixer import fix_source
from kerastips.rules.base import Rule
from kerastips.verify import ORIGINAL, RECORD_KEYS, strategies

TOGETHER = "together"  # the variant with every verified fix applied at once
LOG_LIMIT = 20_000  # characters of a run's output kept in its record (the end of it)
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


@dataclass(frozen=True)
class Variant:
    name: str  # "original", a rule code, or "together"
    source: str
    codes: tuple[str, ...] = ()  # the rules whose fixes it carries
    applied: tuple[str, ...] = ()  # one line per fix applied ("12:5: KT101 ...")


@dataclass(frozen=True)
class Options:
    backend: str = "tensorflow"
    strategy: str = "auto"
    cpu_replicas: int | None = None
    epochs: int | None = 3
    steps_per_epoch: int | None = 20
    max_samples: int | None = 4096
    fit_index: int = 0
    seeds: int = 1
    timeout: float = 900.0
    diagnostics: bool = True  # the symptom monitor on the recorded fit
    argv: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment for every run

    def check(self) -> None:
        """Refuse what cannot run (StrategyError / ValueError), before any process starts."""
        strategies.check(self.backend, self.strategy, self.cpu_replicas, {**os.environ, **self.env})
        for module, extra in (("keras", "verify"), (self.backend, None)):
            if importlib.util.find_spec(module) is None:
                hint = f"pip install 'kerastips[{extra}]'" if extra else f"install {module}"
                raise ValueError(f"verification runs need {module}, which is not installed ({hint})")
        for name in ("epochs", "steps_per_epoch", "max_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        if self.fit_index < 0:
            raise ValueError("--fit-index must be 0 or more")
        if self.seeds < 1:
            raise ValueError("--seeds must be at least 1")
        if self.timeout <= 0:
            raise ValueError("--timeout must be positive")


def plan_variants(source: str, path: str, rules: Sequence[Rule], together: bool = False
                  ) -> tuple[list[Variant], list[str]]:
    """The original and one variant per rule whose fixes (safe and unsafe) change the script, or
    the original and one variant with all of them (`together`); and a note per rule left out.
    Raises kerastips.engine.SourceError when the script cannot be parsed."""
    variants, notes, fixed = [Variant(ORIGINAL, source)], [], []
    for rule in rules:
        if rule.fix_applicability is None:
            notes.append(f"{rule.code}: this rule has no fix to verify")
            continue
        result = fix_source(source, path, [rule], unsafe=True)
        if not result.changed:
            notes.append(f"{rule.code}: nothing to fix in {path}")
            continue
        fixed.append(rule)
        variants.append(Variant(rule.code, result.fixed, (rule.code,), _applied(result)))
    if together and len(fixed) > 1:
        result = fix_source(source, path, fixed, unsafe=True)
        codes = tuple(rule.code for rule in fixed)
        variants = [variants[0], Variant(TOGETHER, result.fixed, codes, _applied(result))]
    return variants, notes


def _applied(result) -> tuple[str, ...]:
    return tuple(f"{d.line}:{d.column}: {d.code} {d.message}" for d in result.applied)


def run_all(script: str | os.PathLike, variants: Sequence[Variant], options: Options,
            on_start: Callable[[str, int], None] | None = None,
            on_result: Callable[[dict], None] | None = None) -> list[dict]:
    """Every (seed, variant) run, seed by seed (so that an interrupted run still has pairs)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="kerastips-verify-") as work:
        for seed in range(options.seeds):
            for variant in variants:
                if on_start is not None:
                    on_start(variant.name, seed)
                record = run_variant(script, variant, seed, options, Path(work))
                results.append(record)
                if on_result is not None:
                    on_result(record)
    return results


def job_for(script: str | os.PathLike, variant: Variant, seed: int, options: Options) -> dict:
    return {
        "script": str(Path(script).resolve()),
        "argv0": str(script),
        "argv": list(options.argv),
        "source": variant.source,
        "variant": variant.name,
        "seed": seed,
        "backend": options.backend,
        "strategy": options.strategy,
        "cpu_replicas": options.cpu_replicas,
        "epochs": options.epochs,
        "steps_per_epoch": options.steps_per_epoch,
        "max_samples": options.max_samples,
        "fit_index": options.fit_index,
        "diagnostics": options.diagnostics,
    }


def run_environment(options: Options, seed: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(strategies.environment(options.backend, options.cpu_replicas))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONHASHSEED"] = str(seed)
    env["PYTHONUNBUFFERED"] = "1"  # the log keeps the order of the script's prints
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = _PACKAGE_ROOT + (os.pathsep + path if path else "")  # the shim, installed or not
    env.update(options.env)
    return env


def run_variant(script: str | os.PathLike, variant: Variant, seed: int, options: Options,
                work: Path) -> dict:
    """One run in its own process; always returns a record (with its "log")."""
    stem = f"{_safe(variant.name)}-{seed}"
    job_path, out_path = work / f"{stem}.job.json", work / f"{stem}.out.json"
    job_path.write_text(json.dumps(job_for(script, variant, seed, options)), encoding="utf-8")
    out_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "kerastips.verify.shim", str(job_path), str(out_path)]
    started = time.perf_counter()
    timed_out = False
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=run_environment(options, seed), start_new_session=True,
        )
    except OSError as exc:
        return failed_record(variant.name, seed, options, "error",
                             f"could not start the run: {exc.strerror or exc}", 0.0, "")
    try:
        output, _ = process.communicate(timeout=options.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(process)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # something outside the group holds the pipe open
            output = b""
    except BaseException:  # Ctrl-C: the run goes down with us
        _kill(process)
        process.wait()
        raise
    elapsed = time.perf_counter() - started
    log = _tail(output.decode("utf-8", errors="replace"))
    if timed_out:
        return failed_record(variant.name, seed, options, "timeout",
                             f"did not finish within the {options.timeout:g} s timeout", elapsed, log)
    try:
        record = json.loads(out_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        why = _signal_words(process.returncode)
        return failed_record(variant.name, seed, options, "error",
                             f"the run's process ended ({why}) without a result", elapsed, log)
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        return failed_record(variant.name, seed, options, "error",
                             f"the run's result lacks {', '.join(missing)}", elapsed, log)
    record["log"] = log
    return record


def failed_record(variant: str, seed: int, options: Options, status: str, error: str,
                  wall_time_s: float, log: str) -> dict:
    return {
        "variant": variant,
        "seed": seed,
        "status": status,
        "error": error,
        "backend": options.backend,
        "strategy": {"name": options.strategy, "replicas": 0},
        "history": {},
        "epochs": 0,
        "wall_time_s": wall_time_s,
        "fit_time_s": 0.0,
        "samples_per_s": None,
        "diagnostics": [],
        "validation": None,
        "evaluation": None,
        "log": log,
    }


def _kill(process: subprocess.Popen) -> None:
    """End the run's whole process group (the run and anything it started), by its id."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            process.kill()
        except ProcessLookupError:
            pass


def _signal_words(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _tail(text: str) -> str:
    return text if len(text) <= LOG_LIMIT else "…" + text[-LOG_LIMIT:]


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def failures(results: Iterable[dict]) -> list[dict]:
    return [record for record in results if record.get("status") != "ok"]
