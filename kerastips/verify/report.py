"""The report of `kerastips verify`: statistics across seeds, verdicts, table, JSON, plot, progress.

Input: one result record per (variant, seed), as the runner writes them::

    {"variant": "original" | rule code ("KT101") | "together", "seed": int,
     "status": "ok" | "error" | "timeout" | "no-fit", "error": str | None,
     "backend": str, "strategy": {"name": str, "replicas": int},
     "history": {metric: [float per epoch]}, "epochs": int, "wall_time_s": float,
     "fit_time_s": float, "samples_per_s": float | None,
     "diagnostics": [{"name": str, "epoch": int | None, "detail": str}],
     "validation": str | None,  # what val_* was measured on: "none", a data fingerprint, None unknown
     "evaluation": {"metrics": {name: float}, "data": str | None} | None}  # the held-out evaluate()

`summarize` turns them into the summary that the other functions render; the statistics need no
third-party package, the table and the progress display need rich (the `verify` extra) and the
plot needs matplotlib (the `plot` extra), each imported only when used.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import statistics
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

BASELINE = "original"
STATUSES = ("ok", "error", "timeout", "no-fit")
VERDICTS = ("improved", "neutral", "worse", "inconclusive")
NOISE_STDS = 2.0  # the noise band is this many pooled standard deviations across seeds ...
RELATIVE_TOLERANCE = 0.01  # ... and never narrower than this fraction of the original's mean
VERDICT_RULE = (
    "Δ = variant − original in the mean across seeds of the best val_loss (the final loss when "
    "neither side has validation; when the fix changes the validation data, the loss of the "
    "script's own evaluate() after the fit, on the same data on both sides, and inconclusive "
    "without one); improved when Δ < −band, worse when Δ > band, else neutral, where "
    f"band = max({NOISE_STDS:g} × pooled std across seeds, {RELATIVE_TOLERANCE:.0%} of the "
    "original's mean); a non-finite loss in more of a side's runs decides first; a failed run on "
    "either side makes it inconclusive."
)

# Which way a metric improves, from the words of its name (val_ prefix and _1 suffixes aside).
_LOWER_IS_BETTER = {
    "loss", "error", "mse", "mae", "mape", "msle", "rmse", "crossentropy", "hinge", "divergence",
    "kl", "kld", "poisson", "logcosh", "huber", "perplexity",
}
_HIGHER_IS_BETTER = {
    "accuracy", "acc", "auc", "precision", "recall", "f1", "fbeta", "iou", "r2", "similarity",
    "specificity", "sensitivity", "dice",
}


class MissingExtra(ImportError):
    """A report feature needs a package from one of kerastips' extras that is not installed."""


# --------------------------------------------------------------------------------------------
# summary


def metric_goal(name: str) -> str | None:
    """"min" for losses and errors, "max" for accuracy-like metrics, None when the name says
    neither (learning_rate, counts): such a metric gets a final value but no best."""
    base = name[4:] if name.startswith("val_") else name
    base = base.lower()
    if "false_positives" in base or "false_negatives" in base:
        return "min"
    if "true_positives" in base or "true_negatives" in base:
        return "max"
    words = set(base.replace("-", "_").split("_"))
    if words & _LOWER_IS_BETTER:
        return "min"
    if words & _HIGHER_IS_BETTER:
        return "max"
    return None


def summarize(results: Sequence[Mapping[str, Any]]) -> dict:
    """Statistics across seeds for each variant and a verdict for each variant against "original".

    Returns ``{"baseline", "rule", "runs", "ok", "seeds", "backends", "strategies", "variants"}``;
    ``variants`` maps each variant ("original" first, the others in the order they first appear)
    to a record with these keys, always present:

    - ``runs``, ``ok``, ``failed`` (runs whose status is not "ok"), ``statuses`` (a count for each
      of ok/error/timeout/no-fit), ``seeds``, ``failures`` ([{seed, status, error}]);
    - ``diverged``: ok runs whose loss became NaN or infinite at some epoch;
    - ``metrics``: for each history key, ``{"goal", "final", "best", "best_epoch"}``: the goal is
      "min" (losses, errors) or "max" (accuracy-like), decided by the name (`metric_goal`);
      ``final`` is the last epoch's value, ``best`` the lowest or highest finite value of the run
      (None when the goal is unknown) and ``best_epoch`` its epoch, counted from 1;
    - ``epochs``, ``samples_per_s``, ``wall_time_s``, ``fit_time_s`` over the ok runs;
    - ``evaluation``: for each metric of the held-out evaluate() after the fit, its statistic over
      the ok runs that have one;
    - ``diagnostics``: symptom name -> [[seed, epoch], ...] over all runs;
    - ``verdict``: None for the original, else the record described below.

    Each statistic is ``{"mean", "std", "min", "max", "n", "nonfinite"}`` over the ok runs: ``n``
    finite values, ``nonfinite`` NaN/inf values left out of the others; ``std`` is the sample
    standard deviation (None with fewer than two values), the others None with none.

    The verdict rule, for each variant V against the original O:

    1. inconclusive when either side has no runs or a run that failed (error, timeout, no-fit):
       the seeds compared would differ and a crash is no question of noise;
    2. when the fix changes the validation data (a seed's validation fingerprints differ on the
       two sides, e.g. none vs a split, or the test set vs a split), val_loss and the training
       loss measure different things: the deciding metric is the loss of the held-out
       evaluate() when every run on both sides has one on the same data ("eval_loss",
       statistic "held-out"), else the verdict is inconclusive. Otherwise it is the best val_loss
       of each run when every run on both sides has a val_loss, else the final training loss;
       without either, inconclusive;
    3. a run diverged when its loss was ever NaN/inf or its deciding value is: when V diverged
       in a larger share of its runs than O, V is worse; in a smaller share, improved;
    4. otherwise, over the runs that did not diverge (inconclusive when a side has none):
       Δ = mean(V) − mean(O); pooled std = sqrt(((n_V−1)·s_V² + (n_O−1)·s_O²) / (n_V+n_O−2))
       (None with one seed a side); band = max(2 × pooled std, 1% of |mean(O)|), so with one seed
       the band is the relative tolerance alone; improved when Δ < −band, worse when Δ > band,
       neutral otherwise (within noise).

    The verdict record: ``{"verdict", "baseline", "metric", "statistic" ("best"/"final"/"held-out"),
    "variant": {mean, std, n}, "original": {mean, std, n}, "difference", "relative_difference",
    "pooled_std", "band", "band_from" ("pooled_std"/"relative_tolerance"), "diverged":
    {variant, original}, "failed": {variant, original}, "reason"}``; numbers it could not compute
    are None.
    """
    by_variant: dict[str, list[Mapping[str, Any]]] = {}
    for record in results:
        by_variant.setdefault(str(record["variant"]), []).append(record)
    names = sorted(by_variant, key=lambda name: name != BASELINE)  # stable: the original first
    variants = {name: _variant_summary(name, by_variant[name]) for name in names}
    baseline_runs = by_variant.get(BASELINE, [])
    for name in names:
        if name != BASELINE:
            variants[name]["verdict"] = _verdict(by_variant[name], baseline_runs)
    return {
        "baseline": BASELINE,
        "rule": {
            "noise_stds": NOISE_STDS,
            "relative_tolerance": RELATIVE_TOLERANCE,
            "text": VERDICT_RULE,
        },
        "runs": len(results),
        "ok": sum(1 for record in results if _ok(record)),
        "seeds": sorted({record["seed"] for record in results}),
        "backends": sorted({str(record.get("backend")) for record in results if record.get("backend")}),
        "strategies": _unique([dict(record["strategy"]) for record in results if record.get("strategy")]),
        "variants": variants,
    }


def _variant_summary(name: str, runs: list[Mapping[str, Any]]) -> dict:
    ok = [run for run in runs if _ok(run)]
    statuses = {status: 0 for status in STATUSES}
    for run in runs:
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1
    metrics: dict[str, dict] = {}
    for metric in _unique(key for run in ok for key in _history(run)):
        goal = metric_goal(metric)
        curves = [_history(run)[metric] for run in ok if _history(run).get(metric)]
        bests = [_best(curve, goal) for curve in curves] if goal else []
        metrics[metric] = {
            "goal": goal,
            "final": _stats(curve[-1] for curve in curves),
            "best": _stats(value for value, _ in bests) if goal else None,
            "best_epoch": _stats(epoch for _, epoch in bests if epoch is not None) if goal else None,
        }
    diagnostics: dict[str, list[list]] = {}
    for run in runs:
        for diagnostic in run.get("diagnostics") or ():
            diagnostics.setdefault(diagnostic["name"], []).append([run["seed"], diagnostic.get("epoch")])
    return {
        "variant": name,
        "runs": len(runs),
        "ok": len(ok),
        "failed": len(runs) - len(ok),
        "statuses": statuses,
        "seeds": sorted({run["seed"] for run in runs}),
        "failures": [
            {"seed": run["seed"], "status": run["status"], "error": run.get("error")}
            for run in runs if not _ok(run)
        ],
        "diverged": sum(1 for run in ok if _diverged(run)),
        "metrics": metrics,
        "epochs": _stats(run.get("epochs") for run in ok),
        "samples_per_s": _stats(run.get("samples_per_s") for run in ok),
        "wall_time_s": _stats(run.get("wall_time_s") for run in ok),
        "fit_time_s": _stats(run.get("fit_time_s") for run in ok),
        "evaluation": {
            name: _stats(_evaluation(run).get(name) for run in ok)
            for name in _unique(key for run in ok for key in _evaluation(run))
        },
        "diagnostics": diagnostics,
        "verdict": None,
    }


def _verdict(variant_runs: list[Mapping[str, Any]], original_runs: list[Mapping[str, Any]]) -> dict:
    v_failed = sum(1 for run in variant_runs if not _ok(run))
    o_failed = sum(1 for run in original_runs if not _ok(run))
    v_ok = [run for run in variant_runs if _ok(run)]
    o_ok = [run for run in original_runs if _ok(run)]
    record: dict[str, Any] = {
        "verdict": "inconclusive",
        "baseline": BASELINE,
        "metric": None,
        "statistic": None,
        "variant": {"mean": None, "std": None, "n": 0},
        "original": {"mean": None, "std": None, "n": 0},
        "difference": None,
        "relative_difference": None,
        "pooled_std": None,
        "band": None,
        "band_from": None,
        "diverged": {"variant": None, "original": None},
        "failed": {"variant": v_failed, "original": o_failed},
        "reason": "",
    }
    if not original_runs:
        record["reason"] = "no runs of the original"
        return record
    metric, statistic, incomparable = _deciding_metric(v_ok, o_ok)
    record["metric"], record["statistic"] = metric, statistic

    def values(runs):  # the deciding values of the runs that did not diverge, and how many did
        out, diverged = [], 0
        for run in runs:
            value = _deciding_value(run, metric, statistic) if metric else None
            if _diverged(run) or (metric and value is None):
                diverged += 1
            elif value is not None:
                out.append(value)
        return out, diverged

    (v_values, v_diverged), (o_values, o_diverged) = values(v_ok), values(o_ok)
    record["diverged"] = {"variant": v_diverged, "original": o_diverged}
    record["variant"] = _side(v_values)
    record["original"] = _side(o_values)
    if v_values and o_values:
        _compare(record, v_values, o_values)
    if v_failed or o_failed:  # (a side without ok runs has failed runs)
        sides = (("variant", v_failed, len(variant_runs)), ("original", o_failed, len(original_runs)))
        record["verdict"] = "inconclusive"
        record["reason"] = "; ".join(
            f"{failed}/{total} {label} runs failed" for label, failed, total in sides if failed
        )
    elif metric is None:
        record["verdict"] = "inconclusive"
        record["reason"] = incomparable or "no loss recorded"
    elif v_diverged * len(o_ok) != o_diverged * len(v_ok):  # compare shares without division
        worse = v_diverged * len(o_ok) > o_diverged * len(v_ok)
        record["verdict"] = "worse" if worse else "improved"
        record["reason"] = f"diverged in {v_diverged}/{len(v_ok)} runs vs {o_diverged}/{len(o_ok)}"
    elif not v_values or not o_values:
        record["verdict"] = "inconclusive"
        record["reason"] = "every run diverged"
    else:
        difference, band = record["difference"], record["band"]
        record["verdict"] = "improved" if difference < -band else "worse" if difference > band else "neutral"
        relation = "within" if record["verdict"] == "neutral" else "beyond"
        record["reason"] = (
            f"{statistic} {metric} {record['variant']['mean']:.4g} vs {record['original']['mean']:.4g}: "
            f"Δ {difference:+.3g} {relation} the noise band ±{band:.2g} ({_band_words(record)})"
        )
    return record


def _compare(record: dict, v_values: list[float], o_values: list[float]) -> None:
    """The difference of the means, the pooled std and the noise band, into `record`."""
    v_mean, o_mean = statistics.fmean(v_values), statistics.fmean(o_values)
    difference = v_mean - o_mean
    freedom = len(v_values) + len(o_values) - 2
    pooled = None
    if len(v_values) > 1 or len(o_values) > 1:
        squares = sum((len(vs) - 1) * statistics.variance(vs) for vs in (v_values, o_values) if len(vs) > 1)
        pooled = math.sqrt(squares / freedom)
    tolerance = RELATIVE_TOLERANCE * abs(o_mean)
    noise = NOISE_STDS * pooled if pooled is not None else None
    record["difference"] = difference
    record["relative_difference"] = difference / abs(o_mean) if o_mean else None
    record["pooled_std"] = pooled
    record["band"] = max(noise, tolerance) if noise is not None else tolerance
    record["band_from"] = "pooled_std" if noise is not None and noise > tolerance else "relative_tolerance"


def _band_words(record: dict) -> str:
    if record["band_from"] == "pooled_std":
        return f"{NOISE_STDS:g} × pooled std {record['pooled_std']:.2g}"
    if record["pooled_std"] is None:
        return f"{RELATIVE_TOLERANCE:.0%} relative tolerance, one seed a side"
    return f"{RELATIVE_TOLERANCE:.0%} relative tolerance"


def _side(values: list[float]) -> dict:
    return {
        "mean": statistics.fmean(values) if values else None,
        "std": statistics.stdev(values) if len(values) > 1 else None,
        "n": len(values),
    }


def _deciding_metric(v_runs: list[Mapping[str, Any]], o_runs: list[Mapping[str, Any]]
                     ) -> tuple[str | None, str | None, str | None]:
    """(metric, statistic, None), or (None, None, why the sides cannot be compared)."""
    runs = v_runs + o_runs
    if _validation_changed(v_runs, o_runs):
        held_out = [(_evaluation(run).get("loss"), (run.get("evaluation") or {}).get("data")) for run in runs]
        data = {fingerprint for _, fingerprint in held_out if fingerprint is not None}
        if runs and all(loss is not None for loss, _ in held_out) and len(data) <= 1:
            return "eval_loss", "held-out", None
        return None, None, ("the fix changes the validation data and the script evaluates no common "
                            "held-out data after the fit: the losses are not comparable")
    if runs and all(_history(run).get("val_loss") for run in runs):
        return "val_loss", "best", None
    if runs and all(_history(run).get("loss") for run in runs):
        return "loss", "final", None
    return None, None, None


def _validation_changed(v_runs: list[Mapping[str, Any]], o_runs: list[Mapping[str, Any]]) -> bool:
    """Whether a seed's runs measured val_* on different data (known fingerprints that differ)."""
    original = {run["seed"]: run.get("validation") for run in o_runs}
    return any(
        run.get("validation") is not None and original.get(run["seed"]) is not None
        and run["validation"] != original[run["seed"]]
        for run in v_runs
    )


def _deciding_value(run: Mapping[str, Any], metric: str, statistic: str) -> float | None:
    if statistic == "held-out":
        value = _evaluation(run).get("loss")
    else:
        curve = _history(run)[metric]
        value = _best(curve, "min")[0] if statistic == "best" else curve[-1]
    return value if _finite(value) else None


def _diverged(run: Mapping[str, Any]) -> bool:
    return any(not _finite(value) for value in _history(run).get("loss") or ())


def _best(curve: Sequence[Any], goal: str) -> tuple[float, int | None]:
    """The best finite value of a curve and its epoch (from 1); NaN and None when none is finite."""
    finite = [(float(value), epoch) for epoch, value in enumerate(curve, 1) if _finite(value)]
    if not finite:
        return math.nan, None
    pick = min if goal == "min" else max
    return pick(finite, key=lambda pair: pair[0])


def _stats(values: Iterable[Any]) -> dict:
    values = [value for value in values if value is not None]
    finite = [float(value) for value in values if _finite(value)]
    return {
        "mean": statistics.fmean(finite) if finite else None,
        "std": statistics.stdev(finite) if len(finite) > 1 else None,
        "min": min(finite) if finite else None,
        "max": max(finite) if finite else None,
        "n": len(finite),
        "nonfinite": len(values) - len(finite),
    }


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _ok(record: Mapping[str, Any]) -> bool:
    return record.get("status") == "ok"


def _history(record: Mapping[str, Any]) -> Mapping[str, Sequence[Any]]:
    return record.get("history") or {}


def _evaluation(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The metrics of the run's held-out evaluate(), {} without one."""
    return (record.get("evaluation") or {}).get("metrics") or {}


def _unique(items: Iterable[Any]) -> list:
    out: list = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


# --------------------------------------------------------------------------------------------
# table


def render_table(summary: Mapping[str, Any]):
    """The summary as a rich Table: one row a variant, the verdict rule and the failures below."""
    return _table(summary)


def render_text(summary: Mapping[str, Any]) -> str:
    """The same table as plain text: no colour, ASCII borders, as wide as its cells need, then the
    caption's lines unwrapped; no trailing spaces."""
    rich_box = _require("rich.box", "verify")
    console_module = _require("rich.console", "verify")
    table = _table(summary)
    table.box = rich_box.ASCII2
    caption, table.caption = table.caption, None
    probe = console_module.Console(file=io.StringIO(), width=10_000)
    width = min(10_000, probe.measure(table).maximum)
    buffer = io.StringIO()
    console = console_module.Console(
        file=buffer, width=width, color_system=None, force_terminal=False, no_color=True,
        highlight=False, emoji=False, legacy_windows=False,
    )
    console.print(table)
    lines = buffer.getvalue().splitlines() + str(caption).splitlines()
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _table(summary: Mapping[str, Any]):
    table_module = _require("rich.table", "verify")
    text_module = _require("rich.text", "verify")
    Text = text_module.Text
    variants = summary.get("variants", {})
    key = _key_metric(variants.values())
    table = table_module.Table(
        title="kerastips verify", title_justify="left", caption_justify="left",
        caption=_caption(summary),
    )
    held_out = any("loss" in variant.get("evaluation", {}) for variant in variants.values())
    table.add_column("variant", no_wrap=True)
    table.add_column("runs ok", justify="right", no_wrap=True)
    headers = ["best val_loss", "final loss", f"best {key}" if key else "key metric"]
    if held_out:
        headers.insert(2, "held-out loss")
    for header in headers:
        table.add_column(header, justify="right")
    table.add_column("samples/s", justify="right", no_wrap=True)
    table.add_column("symptoms")
    table.add_column("verdict (Δ vs original)")
    for name, variant in variants.items():
        metrics = variant.get("metrics", {})
        samples = variant["samples_per_s"]["mean"]
        verdict = variant.get("verdict")
        style = _VERDICT_STYLE.get(verdict["verdict"], "") if verdict else "dim"
        losses = [_mean_std(metrics.get("val_loss"), "best"), _mean_std(metrics.get("loss"), "final")]
        if held_out:
            losses.append(_mean_std({"held-out": variant["evaluation"].get("loss")}, "held-out"))
        table.add_row(
            Text(name, style="bold" if name == BASELINE else ""),
            Text(f"{variant['ok']}/{variant['runs']}", style="red" if variant["failed"] else ""),
            *losses,
            _mean_std(metrics.get(key), "best") if key else "–",
            f"{samples:,.0f}" if samples is not None else "–",
            Text(_symptoms(variant), style="yellow"),
            Text(_verdict_cell(verdict), style=style),
        )
    return table


_VERDICT_STYLE = {"improved": "bold green", "neutral": "", "worse": "bold red", "inconclusive": "yellow"}


def _key_metric(variants: Iterable[Mapping[str, Any]]) -> str | None:
    """The first compiled metric that is not the loss, as its validation value when recorded."""
    variants = list(variants)
    names = _unique(name for variant in variants for name in variant.get("metrics", {}))
    for name in names:
        if name != "loss" and not name.startswith("val_") and metric_goal(name):
            return f"val_{name}" if f"val_{name}" in names else name
    return None


def _mean_std(metric: Mapping[str, Any] | None, statistic: str) -> str:
    stats = metric.get(statistic) if metric else None
    if not stats or (not stats["n"] and not stats["nonfinite"]):
        return "–"
    nan = f"NaN×{stats['nonfinite']}" if stats["nonfinite"] else ""
    if not stats["n"]:
        return nan
    text = f"{stats['mean']:.4g}"
    if stats["std"] is not None:
        text += f" ± {stats['std']:.2g}"
    return f"{text} ({nan})" if nan else text


def _symptoms(variant: Mapping[str, Any]) -> str:
    parts = []
    for name, seen in variant.get("diagnostics", {}).items():
        seeds = len({seed for seed, _ in seen})
        parts.append(f"{name} ({seeds}/{variant['runs']})")
    if variant.get("diverged"):
        parts.append(f"diverged ({variant['diverged']}/{variant['ok']})")
    return ", ".join(parts) or "–"


def _verdict_cell(verdict: Mapping[str, Any] | None) -> str:
    if verdict is None:
        return "baseline"
    word = verdict["verdict"]
    by_noise_band = word != "inconclusive" and not verdict["reason"].startswith("diverged")
    if by_noise_band:
        return f"{word} Δ {verdict['difference']:+.3g} vs ±{verdict['band']:.2g}"
    return f"{word}: {verdict['reason']}" if verdict["reason"] else word


def _caption(summary: Mapping[str, Any]) -> str:
    lines = []
    for name, variant in summary.get("variants", {}).items():
        verdict = variant.get("verdict")
        if verdict and verdict["metric"] == "loss":
            lines.append(f"{name}: decided on the final training loss (no val_loss on both sides)")
        if verdict and verdict["metric"] == "eval_loss":
            lines.append(f"{name}: decided on the loss of the script's held-out evaluate() "
                         "(the fix changes the validation data)")
        for failure in variant.get("failures", []):
            error = (failure.get("error") or "").strip().splitlines()
            detail = f": {_clip(error[-1], 160)}" if error else ""
            lines.append(f"{name} seed {failure['seed']}: {failure['status']}{detail}")
    seeds = len(summary.get("seeds", []))
    lines.append(f"{_plural(seeds, 'seed')}; {VERDICT_RULE}")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------------------------
# JSON


def to_json(results: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> str:
    """Everything as JSON text: ``{"schema": 1, "summary": ..., "results": [...]}``; NaN and
    infinities become null, tuples lists, numpy scalars plain numbers."""
    document = {"schema": 1, "summary": summary, "results": list(results)}
    return json.dumps(_plain(document), indent=2, allow_nan=False) + "\n"


def write_json(results: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], path) -> None:
    """`to_json` into `path` ("-" for stdout)."""
    text = to_json(results, summary)
    if str(path) == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if hasattr(value, "tolist"):  # numpy arrays
        return _plain(value.tolist())
    return str(value)


# --------------------------------------------------------------------------------------------
# plot


def plot(results: Sequence[Mapping[str, Any]], path) -> None:
    """One PNG figure: each variant's loss (solid) and val_loss (dashed) per epoch, one colour a
    variant: the mean across its ok seeds, with a band from the lowest to the highest seed where
    there are several. NaN epochs leave gaps; the y axis is logarithmic when the losses are all
    positive and span more than a factor of 20. Needs matplotlib (the `plot` extra)."""
    figure_module = _require("matplotlib.figure", "plot")
    agg = _require("matplotlib.backends.backend_agg", "plot")
    lines_module = _require("matplotlib.lines", "plot")
    ticker = _require("matplotlib.ticker", "plot")
    colormaps = _require("matplotlib", "plot").colormaps

    curves: dict[str, dict[str, list[Sequence[Any]]]] = {}
    for record in results:
        if _ok(record):
            for metric in ("loss", "val_loss"):
                curve = _history(record).get(metric)
                if curve:
                    curves.setdefault(str(record["variant"]), {}).setdefault(metric, []).append(curve)
    names = sorted(curves, key=lambda name: name != BASELINE)
    figure = figure_module.Figure(figsize=(9, 5.5), dpi=100, layout="constrained")
    agg.FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    palette = colormaps["tab10" if len(names) <= 10 else "tab20"]
    handles, seen = [], []
    for index, name in enumerate(names):
        colour = palette(index % palette.N)
        for metric, style in (("loss", "-"), ("val_loss", "--")):
            runs = curves[name].get(metric)
            if not runs:
                continue
            epochs, means, lows, highs = _per_epoch(runs)
            marker = "o" if len(epochs) <= 30 else None  # a lone epoch between NaNs stays visible
            axes.plot(epochs, means, linestyle=style, color=colour, linewidth=1.8, marker=marker, markersize=3)
            if len(runs) > 1:
                axes.fill_between(epochs, lows, highs, color=colour, alpha=0.15, linewidth=0)
            seen.extend(value for value in means if _finite(value))
        seeds = max(len(runs) for runs in curves[name].values())
        handles.append(lines_module.Line2D([], [], color=colour, label=f"{name} ({_plural(seeds, 'seed')})"))
    handles.append(lines_module.Line2D([], [], color="black", linestyle="-", label="loss"))
    handles.append(lines_module.Line2D([], [], color="black", linestyle="--", label="val_loss"))
    if seen and min(seen) > 0 and max(seen) / min(seen) > 20:
        axes.set_yscale("log")
    if not names:
        axes.text(0.5, 0.5, "no training curves: no run finished", ha="center", va="center",
                  transform=axes.transAxes)
    axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title("kerastips verify: loss (solid) and val_loss (dashed), mean across seeds")
    axes.grid(True, alpha=0.3)
    axes.legend(handles=handles, fontsize="small", loc="best")
    figure.savefig(str(path), format="png")


def _per_epoch(runs: list[Sequence[Any]]) -> tuple[list[int], list[float], list[float], list[float]]:
    """Epochs from 1, and the mean, lowest and highest finite value of the runs at each (NaN where
    no run has a finite value: a gap in the line)."""
    epochs, means, lows, highs = [], [], [], []
    for index in range(max(len(run) for run in runs)):
        values = [float(run[index]) for run in runs if index < len(run) and _finite(run[index])]
        epochs.append(index + 1)
        means.append(statistics.fmean(values) if values else math.nan)
        lows.append(min(values) if values else math.nan)
        highs.append(max(values) if values else math.nan)
    return epochs, means, lows, highs


# --------------------------------------------------------------------------------------------
# progress


class Progress:
    """A transient progress bar on stderr while the runs train: which variant and seed is
    running, how many runs are done and how they ended, time elapsed. A silent no-op when stderr
    is not a terminal or `quiet` is set; `counts` tallies the statuses either way.

    Use: ``with Progress(total) as progress: progress.start(v, s); ...; progress.advance(v, s, status)``.
    """

    def __init__(self, total_runs: int, quiet: bool = False):
        self.total_runs = total_runs
        self.quiet = quiet
        self.counts: dict[str, int] = {}
        self._progress = None
        self._task = None

    @property
    def enabled(self) -> bool:
        """Whether it draws anything: not quiet and stderr is a terminal."""
        stream = sys.stderr
        isatty = getattr(stream, "isatty", None)
        return not self.quiet and stream is not None and isatty is not None and isatty()

    def __enter__(self) -> Progress:
        if self.enabled and self._progress is None:
            progress = _require("rich.progress", "verify")
            console = _require("rich.console", "verify").Console(stderr=True)
            self._progress = progress.Progress(
                progress.SpinnerColumn(),
                progress.TextColumn("{task.description}"),
                progress.BarColumn(),
                progress.MofNCompleteColumn(),
                progress.TextColumn("{task.fields[tally]}"),
                progress.TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("verify", total=self.total_runs, tally="")
        return self

    def __exit__(self, *exc_info) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None

    def start(self, variant: str, seed: int) -> None:
        """A run begins."""
        if self._progress is not None:
            self._progress.update(self._task, description=f"training {variant} seed {seed}")

    def advance(self, variant: str, seed: int, status: str) -> None:
        """A run ended with `status` (ok/error/timeout/no-fit)."""
        self.counts[status] = self.counts.get(status, 0) + 1
        if self._progress is not None:
            tally = ", ".join(f"{count} {name}" for name, count in self.counts.items())
            self._progress.update(
                self._task, advance=1, tally=tally, description=f"{variant} seed {seed}: {status}",
            )


def _require(module: str, extra: str):
    """Import `module`, or say which kerastips extra brings it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        raise MissingExtra(
            f"{package} is not installed: it comes with the '{extra}' extra "
            f"(pip install 'kerastips[{extra}]')"
        ) from error
