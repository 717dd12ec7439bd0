"""The verify report on literal result records: statistics, verdicts, table, JSON, plot, progress."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("rich")

from kerastips.verify.report import (  # noqa: E402
    MissingExtra,
    Progress,
    metric_goal,
    plot,
    render_table,
    render_text,
    summarize,
    to_json,
    write_json,
)

NAN = float("nan")


def run(variant, seed, val_loss=(0.9, 0.5, 0.6), loss=(1.0, 0.8, 0.6), status="ok", **fields):
    """One result record as the runner writes it; `val_loss=None` for a fit without validation."""
    history = {"loss": list(loss), "accuracy": [0.5, 0.6, 0.7][: len(loss)]}
    if val_loss is not None:
        history["val_loss"] = list(val_loss)
        history["val_accuracy"] = [0.5, 0.55, 0.6][: len(val_loss)]
    record = {
        "variant": variant, "seed": seed, "status": status, "error": None, "backend": "tensorflow",
        "strategy": {"name": "default", "replicas": 1}, "history": history if status == "ok" else {},
        "epochs": len(loss), "wall_time_s": 10.0 + seed, "fit_time_s": 8.0,
        "samples_per_s": 1000.0 + 100 * seed, "diagnostics": [],
    }
    record.update(fields)
    return record


def seeds(variant, bests, **fields):
    """A run a seed (0, 1, ...) whose best val_loss (epoch 2) is each of `bests`."""
    return [run(variant, seed, val_loss=(0.9, best, 0.95), **fields) for seed, best in enumerate(bests)]


ORIGINAL = seeds("original", [0.50, 0.52, 0.48])  # mean 0.50, std 0.02


def verdict(results, variant):
    return summarize(results)["variants"][variant]["verdict"]


# --------------------------------------------------------------------------------------------
# verdicts


def test_improved_beyond_two_pooled_stds():
    v = verdict(ORIGINAL + seeds("KT101", [0.40, 0.42, 0.38]), "KT101")
    assert v["verdict"] == "improved"
    assert (v["metric"], v["statistic"]) == ("val_loss", "best")
    assert v["variant"] == {"mean": pytest.approx(0.40), "std": pytest.approx(0.02), "n": 3}
    assert v["original"] == {"mean": pytest.approx(0.50), "std": pytest.approx(0.02), "n": 3}
    assert v["difference"] == pytest.approx(-0.10)
    assert v["relative_difference"] == pytest.approx(-0.20)
    assert v["pooled_std"] == pytest.approx(0.02)
    assert v["band"] == pytest.approx(0.04)
    assert v["band_from"] == "pooled_std"
    assert v["diverged"] == {"variant": 0, "original": 0}
    assert v["failed"] == {"variant": 0, "original": 0}
    assert v["reason"] == (
        "best val_loss 0.4 vs 0.5: Δ -0.1 beyond the noise band ±0.04 (2 × pooled std 0.02)"
    )


def test_neutral_within_noise():
    v = verdict(ORIGINAL + seeds("KT102", [0.49, 0.51, 0.47]), "KT102")
    assert v["verdict"] == "neutral"
    assert v["difference"] == pytest.approx(-0.01)
    assert v["band"] == pytest.approx(0.04)
    assert "within the noise band" in v["reason"]


def test_worse():
    v = verdict(ORIGINAL + seeds("KT103", [0.60, 0.62, 0.58]), "KT103")
    assert v["verdict"] == "worse"
    assert v["difference"] == pytest.approx(0.10)


def test_unequal_spreads_pool_by_degrees_of_freedom():
    # stds 0.02 and 0.06: pooled sqrt((2*0.0004 + 2*0.0036) / 4) = sqrt(0.002)
    v = verdict(ORIGINAL + seeds("KT104", [0.35, 0.41, 0.29]), "KT104")
    assert v["pooled_std"] == pytest.approx(math.sqrt(0.002))
    assert v["band"] == pytest.approx(2 * math.sqrt(0.002))
    assert v["difference"] == pytest.approx(-0.15)
    assert v["verdict"] == "improved"


def test_relative_tolerance_when_seeds_agree():
    # identical seeds: pooled std 0, so the band is 1% of the original's mean (0.005)
    original = seeds("original", [0.5, 0.5, 0.5])
    v = verdict(original + seeds("KT105", [0.497, 0.497, 0.497]), "KT105")
    assert v["pooled_std"] == pytest.approx(0.0)
    assert v["band"] == pytest.approx(0.005)
    assert v["band_from"] == "relative_tolerance"
    assert v["verdict"] == "neutral"
    assert verdict(original + seeds("KT105", [0.49] * 3), "KT105")["verdict"] == "improved"


def test_one_seed_uses_the_relative_tolerance_only():
    original = seeds("original", [0.50])
    small = verdict(original + seeds("KT101", [0.497]), "KT101")
    assert small["verdict"] == "neutral"
    assert small["pooled_std"] is None
    assert small["variant"] == {"mean": pytest.approx(0.497), "std": None, "n": 1}
    assert small["band"] == pytest.approx(0.005)
    assert small["band_from"] == "relative_tolerance"
    assert small["reason"].endswith("(1% relative tolerance, one seed a side)")
    large = verdict(original + seeds("KT101", [0.52]), "KT101")
    assert large["verdict"] == "worse"
    assert large["difference"] == pytest.approx(0.02)


def test_failed_variant_is_inconclusive_with_the_numbers_of_its_ok_runs():
    variant = seeds("KT101", [0.40, 0.42]) + [
        run("KT101", 2, status="error", error="Traceback (most recent call last):\nValueError: bad shape")
    ]
    summary = summarize(ORIGINAL + variant)
    kt101 = summary["variants"]["KT101"]
    assert (kt101["runs"], kt101["ok"], kt101["failed"]) == (3, 2, 1)
    assert kt101["statuses"] == {"ok": 2, "error": 1, "timeout": 0, "no-fit": 0}
    assert kt101["failures"] == [
        {"seed": 2, "status": "error", "error": "Traceback (most recent call last):\nValueError: bad shape"}
    ]
    v = kt101["verdict"]
    assert v["verdict"] == "inconclusive"
    assert v["reason"] == "1/3 variant runs failed"
    assert v["failed"] == {"variant": 1, "original": 0}
    assert v["variant"]["mean"] == pytest.approx(0.41)
    assert v["difference"] == pytest.approx(-0.09)


def test_every_run_failing_and_failed_original_are_inconclusive():
    never = [run("KT201", seed, status="no-fit") for seed in range(3)]
    assert verdict(ORIGINAL + never, "KT201")["reason"] == "3/3 variant runs failed"
    original = ORIGINAL[:2] + [run("original", 2, status="timeout", error="timed out after 600 s")]
    v = verdict(original + seeds("KT101", [0.1, 0.1, 0.1]), "KT101")
    assert v["verdict"] == "inconclusive"
    assert v["reason"] == "1/3 original runs failed"
    alone = verdict(seeds("KT101", [0.4]), "KT101")
    assert (alone["verdict"], alone["reason"]) == ("inconclusive", "no runs of the original")


def test_final_loss_decides_without_validation():
    def finals(variant, values):
        return [run(variant, seed, val_loss=None, loss=(1.0, final)) for seed, final in enumerate(values)]

    original, variant = finals("original", [0.50, 0.52, 0.48]), finals("KT301", [0.60, 0.62, 0.58])
    v = verdict(original + variant, "KT301")
    assert (v["metric"], v["statistic"], v["verdict"]) == ("loss", "final", "worse")
    assert v["difference"] == pytest.approx(0.10)
    # one side with validation and one without: the final loss for both
    mixed = verdict(ORIGINAL + [run("KT302", 0, val_loss=None)], "KT302")
    assert mixed["metric"] == "loss"


def held_out(variant, validation, eval_losses, data="test-set"):
    """A run a seed whose val_* was measured on `validation` and whose held-out evaluate() gave
    each of `eval_losses` (None: the script evaluates nothing)."""
    return [
        run(variant, seed, validation=validation,
            evaluation=None if loss is None else {"metrics": {"loss": loss, "accuracy": 0.9}, "data": data})
        for seed, loss in enumerate(eval_losses)
    ]


def test_a_fix_that_changes_the_validation_data_is_judged_on_the_held_out_evaluation():
    # KT302: the original validates on the test set, the fix on a split of the training data; the
    # val_losses measure different data, the script's evaluate(x_test, y_test) the same
    original = held_out("original", "test-set", [0.30, 0.32, 0.28])
    fixed = held_out("KT302", "split", [0.40, 0.42, 0.38])
    v = verdict(original + fixed, "KT302")
    assert (v["metric"], v["statistic"], v["verdict"]) == ("eval_loss", "held-out", "worse")
    assert v["difference"] == pytest.approx(0.10)
    assert v["reason"].startswith("held-out eval_loss 0.4 vs 0.3")
    summary = summarize(original + fixed)
    assert summary["variants"]["KT302"]["evaluation"]["loss"]["mean"] == pytest.approx(0.40)
    text = render_text(summary)
    assert "KT302: decided on the loss of the script's held-out evaluate()" in text
    assert table_row(text, "KT302")[2:5] == ["0.5 ± 0", "0.6 ± 0", "0.4 ± 0.02"]  # val, final, held-out


def test_a_changed_validation_without_a_common_held_out_evaluation_is_inconclusive():
    # KT301: the original has no validation, the fix adds a split: neither loss compares
    original = held_out("original", "none", [None, None, None])
    fixed = held_out("KT301", "split", [0.40, 0.42, 0.38])
    v = verdict(original + fixed, "KT301")
    assert (v["verdict"], v["metric"]) == ("inconclusive", None)
    assert v["reason"] == (
        "the fix changes the validation data and the script evaluates no common held-out data "
        "after the fit: the losses are not comparable"
    )
    # evaluations on different data do not compare either
    elsewhere = held_out("KT301", "split", [0.40, 0.42, 0.38], data="other")
    assert verdict(held_out("original", "none", [0.3] * 3) + elsewhere, "KT301")["verdict"] == "inconclusive"


def test_the_same_or_an_unknown_validation_keeps_val_loss():
    # a fix that leaves the validation data alone (KT101), or data whose fingerprint is unknown
    # (a dataset): best val_loss, the held-out evaluation only reported
    same = held_out("original", "test-set", [0.3] * 3) + held_out("KT101", "test-set", [0.9] * 3)
    assert (verdict(same, "KT101")["metric"]) == "val_loss"
    unknown = held_out("original", None, [0.3] * 3) + held_out("KT101", "split", [0.9] * 3)
    assert verdict(unknown, "KT101")["metric"] == "val_loss"


# --------------------------------------------------------------------------------------------
# NaN


def test_nan_loss_is_divergence_and_decides_first():
    diverging = [run("KT401", s, val_loss=(0.3, NAN, NAN), loss=(1.0, NAN, NAN)) for s in range(2)]
    summary = summarize(ORIGINAL + diverging + seeds("KT401", [0.2]))
    kt401 = summary["variants"]["KT401"]
    assert kt401["diverged"] == 2
    loss = kt401["metrics"]["loss"]
    assert loss["final"] == {"mean": 0.6, "std": None, "min": 0.6, "max": 0.6, "n": 1, "nonfinite": 2}
    assert loss["best"]["mean"] == pytest.approx((1.0 + 1.0 + 0.6) / 3)  # NaN epochs are passed over
    assert kt401["metrics"]["val_loss"]["best_epoch"]["mean"] == pytest.approx((1 + 1 + 2) / 3)
    v = kt401["verdict"]
    assert v["verdict"] == "worse"
    assert v["diverged"] == {"variant": 2, "original": 0}
    assert v["reason"] == "diverged in 2/3 runs vs 0/3"
    assert v["variant"]["n"] == 1  # the numbers are over the runs that did not diverge


def test_fix_that_stops_divergence_is_improved_and_equal_shares_compare_the_rest():
    diverging = [run("original", s, loss=(1.0, NAN)) for s in range(3)]
    assert verdict(diverging + seeds("KT402", [0.9] * 3), "KT402")["verdict"] == "improved"
    assert verdict(diverging + [run("KT402", 0, loss=(1.0, NAN))], "KT402")["reason"] == "every run diverged"
    original = ORIGINAL[:2] + [run("original", 2, loss=(NAN,))]
    variant = seeds("KT403", [0.40, 0.42]) + [run("KT403", 2, loss=(NAN,))]
    v = verdict(original + variant, "KT403")
    assert v["diverged"] == {"variant": 1, "original": 1}
    assert v["verdict"] == "improved"
    assert v["difference"] == pytest.approx(0.41 - 0.51)


def test_numbers_from_numpy_and_infinities_are_plain():
    np = pytest.importorskip("numpy")
    record = run("original", 0, loss=[np.float32(1.0), np.float64(np.inf)], samples_per_s=np.float32(5.0))
    summary = summarize([record])
    assert summary["variants"]["original"]["metrics"]["loss"]["final"]["nonfinite"] == 1
    document = json.loads(to_json([record], summary))
    assert document["results"][0]["history"]["loss"] == [1.0, None]
    assert document["results"][0]["samples_per_s"] == 5.0


# --------------------------------------------------------------------------------------------
# summary


def test_summary_statistics_and_symptoms():
    results = seeds("KT101", [0.4, 0.4]) + ORIGINAL
    results[0]["diagnostics"] = [{"name": "overfitting", "epoch": 3, "detail": "val_loss rose 2 epochs"}]
    results[1]["diagnostics"] = [
        {"name": "overfitting", "epoch": 2, "detail": "…"},
        {"name": "slow-input", "epoch": None, "detail": "…"},
    ]
    summary = summarize(results)
    assert list(summary["variants"]) == ["original", "KT101"]
    assert (summary["runs"], summary["ok"], summary["seeds"]) == (5, 5, [0, 1, 2])
    assert summary["backends"] == ["tensorflow"]
    assert summary["strategies"] == [{"name": "default", "replicas": 1}]
    assert summary["rule"]["noise_stds"] == 2.0 and summary["rule"]["relative_tolerance"] == 0.01
    original = summary["variants"]["original"]
    assert original["verdict"] is None
    assert original["samples_per_s"] == {
        "mean": 1100.0, "std": pytest.approx(100.0), "min": 1000.0, "max": 1200.0, "n": 3, "nonfinite": 0
    }
    assert original["wall_time_s"]["mean"] == 11.0
    assert original["epochs"]["mean"] == 3
    assert list(original["metrics"]) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    accuracy = original["metrics"]["val_accuracy"]
    assert accuracy["goal"] == "max"
    assert accuracy["best"]["mean"] == 0.6 and accuracy["best_epoch"]["mean"] == 3
    val_loss = original["metrics"]["val_loss"]
    assert val_loss["goal"] == "min"
    assert val_loss["best"]["mean"] == pytest.approx(0.5)
    assert val_loss["final"]["mean"] == pytest.approx(0.95)
    assert summary["variants"]["KT101"]["diagnostics"] == {
        "overfitting": [[0, 3], [1, 2]], "slow-input": [[1, None]]
    }


def test_metric_goal_by_name():
    assert [metric_goal(name) for name in (
        "loss", "val_loss", "mean_squared_error", "val_mae", "binary_crossentropy", "kl_divergence",
        "false_positives", "output_1_loss",
    )] == ["min"] * 8
    assert [metric_goal(name) for name in (
        "accuracy", "val_acc", "sparse_categorical_accuracy", "auc_1", "val_precision", "recall",
        "mean_iou", "f1_score", "r2_score", "true_positives",
    )] == ["max"] * 10
    assert metric_goal("learning_rate") is None
    summary = summarize([{**run("original", 0), "history": {"loss": [1.0], "learning_rate": [0.1]}}])
    assert summary["variants"]["original"]["metrics"]["learning_rate"]["best"] is None


# --------------------------------------------------------------------------------------------
# table


def report_results():
    error = "Traceback (most recent call last):\nTimeoutError: 600 s"
    failed = run("together", 2, status="timeout", error=error)
    results = (
        ORIGINAL + seeds("KT101", [0.40, 0.42, 0.38]) + seeds("KT102", [0.49, 0.51, 0.47])
        + seeds("together", [0.3, 0.3]) + [failed]
    )
    results[3]["diagnostics"] = [{"name": "overfitting", "epoch": 3, "detail": "…"}]
    return results


def table_row(text: str, variant: str) -> list[str]:
    """The cells of a variant's row in `render_text`'s table."""
    line = next(line for line in text.splitlines() if line.startswith(f"| {variant} "))
    return [cell.strip() for cell in line.split("|")[1:-1]]


def test_render_text():
    text = render_text(summarize(report_results()))
    lines = text.splitlines()
    assert lines[0] == "kerastips verify"
    header = next(line for line in lines if line.startswith("| variant"))
    for column in ("runs ok", "best val_loss", "final loss", "best val_accuracy", "samples/s", "symptoms",
                   "verdict (Δ vs original)"):
        assert column in header
    assert table_row(text, "original") == [
        "original", "3/3", "0.5 ± 0.02", "0.6 ± 0", "0.6 ± 0", "1,100", "–", "baseline"
    ]
    assert table_row(text, "KT101") == [
        "KT101", "3/3", "0.4 ± 0.02", "0.6 ± 0", "0.6 ± 0", "1,100", "overfitting (1/3)",
        "improved Δ -0.1 vs ±0.04",
    ]
    assert table_row(text, "KT102")[-1] == "neutral Δ -0.01 vs ±0.04"
    assert table_row(text, "together")[1] == "2/3"
    assert table_row(text, "together")[-1].startswith("inconclusive: 1/3 variant runs")
    assert "together seed 2: timeout: TimeoutError: 600 s" in lines
    assert "improved when Δ < −band" in text
    assert all(line == line.rstrip() for line in lines)
    assert "\x1b" not in text


def test_render_table_is_a_rich_table_with_the_same_rows():
    from rich.table import Table

    table = render_table(summarize(report_results()))
    assert isinstance(table, Table)
    assert [column.header for column in table.columns] == [
        "variant", "runs ok", "best val_loss", "final loss", "best val_accuracy", "samples/s", "symptoms",
        "verdict (Δ vs original)",
    ]
    assert table.row_count == 4
    assert [str(cell) for cell in table.columns[0].cells] == ["original", "KT101", "KT102", "together"]


def test_nan_cells_and_missing_metrics():
    results = [run("original", seed, val_loss=None, loss=(1.0, last)) for seed, last in enumerate([NAN, 0.5])]
    for record in results:
        del record["history"]["accuracy"]
    text = render_text(summarize(results))
    cells = table_row(text, "original")
    assert cells[1:5] == ["2/2", "–", "0.5 (NaN×1)", "–"]
    assert cells[6] == "diverged (1/2)"
    assert "key metric" in text


# --------------------------------------------------------------------------------------------
# JSON


def test_json_round_trip(tmp_path):
    results = report_results() + [run("KT401", 0, loss=(1.0, NAN))]
    summary = summarize(results)
    path = tmp_path / "verify.json"
    write_json(results, summary, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert list(document) == ["schema", "summary", "results"]
    assert document["schema"] == 1
    assert document["summary"] == summary  # the summary is plain JSON already
    assert document["results"][-1]["history"]["loss"] == [1.0, None]
    assert [record["variant"] for record in document["results"]] == [record["variant"] for record in results]
    assert "NaN" not in path.read_text(encoding="utf-8")
    # stable keys: every variant record and verdict has the same keys, failed or not
    variants = document["summary"]["variants"]
    assert len({tuple(variant) for variant in variants.values()}) == 1
    assert len({tuple(variant["verdict"]) for variant in variants.values() if variant["verdict"]}) == 1


def test_write_json_to_stdout(capsys):
    results = ORIGINAL[:1]
    write_json(results, summarize(results), "-")
    assert json.loads(capsys.readouterr().out)["summary"]["runs"] == 1


# --------------------------------------------------------------------------------------------
# plot


def test_plot_writes_a_png(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    path = tmp_path / "curves.png"
    plot(report_results() + [run("KT401", 0, loss=(1.0, NAN, 0.5))], path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(str(path))
    assert pixels.shape == (550, 900, 4)
    assert pixels[..., :3].std() > 0.05  # something is drawn


def test_plot_without_finished_runs(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    path = tmp_path / "empty.png"
    plot([run("original", 0, status="error")], path)
    assert image.imread(str(path)).shape == (550, 900, 4)


def test_plot_names_the_extra_when_matplotlib_is_missing(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.modules["matplotlib"] = None  # as if not installed
        from kerastips.verify.report import MissingExtra, plot
        try:
            plot([], {str(tmp_path / "x.png")!r})
        except MissingExtra as error:
            print(error)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == (
        "matplotlib is not installed: it comes with the 'plot' extra (pip install 'kerastips[plot]')"
    )
    assert issubclass(MissingExtra, ImportError)


# --------------------------------------------------------------------------------------------
# progress


def test_progress_is_silent_when_not_a_tty(capfd):
    with Progress(total_runs=2) as progress:
        assert not progress.enabled
        progress.start("original", 0)
        progress.advance("original", 0, "ok")
        progress.start("KT101", 0)
        progress.advance("KT101", 0, "error")
    assert progress.counts == {"ok": 1, "error": 1}
    assert capfd.readouterr() == ("", "")


PROGRESS_SCRIPT = """
import sys
from kerastips.verify.report import Progress
with Progress(total_runs=2, quiet=sys.argv[1] == "quiet") as progress:
    progress.start("original", 0)
    progress.advance("original", 0, "ok")
    progress.start("KT101", 7)
    progress.advance("KT101", 7, "timeout")
"""


def on_a_terminal(quiet: str) -> bytes:
    """What the progress display writes to stderr when stderr is a pseudo-terminal."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
        process = subprocess.run(
            [sys.executable, "-c", PROGRESS_SCRIPT, quiet], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=follower, env=env, timeout=60,
        )
        assert process.returncode == 0 and process.stdout == b""
        os.close(follower)
        written = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal is closed and drained
                break
            if not chunk:
                break
            written += chunk
        return written
    finally:
        os.close(leader)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal test for Linux")
def test_progress_draws_on_a_terminal_unless_quiet():
    assert b"KT101 seed 7" in on_a_terminal("loud")
    assert on_a_terminal("quiet") == b""
