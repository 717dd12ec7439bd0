"""The `kerastips` command line.

Exit codes: 0 no findings, 1 findings, 2 a file could not be linted or the configuration or usage
is wrong. Errors are one line each on stderr, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn, Sequence

import click

from kerastips import __version__, docs, report
from kerastips.batch import default_jobs, lint_files, map_files
from kerastips.cache import Cache
from kerastips.config import ConfigError, load_settings, snippet, with_section
from kerastips.diagnostic import Diagnostic, FileError
from kerastips.discovery import discover, excluded_with_parents
from kerastips.engine import REPORT_BUGS, described, lint_bytes, per_file
from kerastips.rules import ALL_RULES, rule_by_code

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = "-"  # the path that means: read the source from stdin

_SELECTORS = dict(multiple=True, metavar="CODES", default=())  # repeatable, comma-separated


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kerastips")
def cli() -> None:
    """A static linter for TensorFlow/Keras training code."""


def _selection(command):
    """The options that say which files and rules a command works on (shared by lint and fix)."""
    options = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=str, readable=False)),
        click.option(
            "--select",
            help="Rules to enable, replacing the configured selection: codes, prefixes (KT3) or ALL.",
            **_SELECTORS,
        ),
        click.option("--extend-select", help="Rules to enable on top of the selection.", **_SELECTORS),
        click.option("--ignore", help="Rules to disable.", **_SELECTORS),
        click.option(
            "--config",
            type=click.Path(dir_okay=False, readable=False, path_type=Path),
            help="Read [tool.kerastips] from this TOML file instead of the nearest pyproject.toml.",
        ),
        click.option(
            "--force-exclude", is_flag=True, help="Apply the exclusions to paths named explicitly too."
        ),
        click.option(
            "--stdin-filename",
            metavar="NAME",
            help="Read the source from stdin (the path `-`) and report it as NAME; NAME picks the "
            "configuration and per-file-ignores.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _jobs(command):
    """--jobs, shared by lint and fix."""
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        metavar="N",
        default=default_jobs,
        show_default="the number of CPUs",
        help="Worker processes across files; 1 lints in this process.",
    )(command)


def _settings(paths, select, extend_select, ignore, config):
    """The settings for PATHS, or exit 2 on a configuration error."""
    try:
        return load_settings(
            paths,
            config=config,
            select=_split(select) if select else None,
            extend_select=_split(extend_select),
            ignore=_split(ignore),
        )
    except ConfigError as exc:
        _fail(str(exc))


def _stdin_name(paths: Sequence[str], stdin_filename: str | None) -> str | None:
    """The name the stdin source is reported under, or None when PATHS are files and folders.

    As in Ruff, `--stdin-filename` without paths reads stdin too."""
    if STDIN not in paths and not (stdin_filename is not None and not paths):
        if stdin_filename is not None:
            _fail("--stdin-filename goes with the path `-` (the source read from stdin)")
        return None
    if len(paths) > 1:
        _fail("`-` (stdin) cannot be combined with other paths")
    return stdin_filename or STDIN


def _read_stdin(name: str) -> bytes | FileError:
    if sys.stdin is None:  # started with stdin closed
        return FileError(name, "cannot read stdin: it is closed")
    try:
        return sys.stdin.buffer.read()
    except (OSError, ValueError) as exc:  # ValueError: closed while running
        return FileError(name, f"cannot read stdin: {getattr(exc, 'strerror', None) or exc}")


def _lint_all(paths, stdin_name, settings, force_exclude, jobs, use_cache) -> tuple[list[Diagnostic], list[FileError]]:
    """Every finding and file error of one run, over the files of PATHS or the stdin source."""
    if stdin_name is None:
        files, errors = discover(paths, settings, force_exclude=force_exclude)
        cache = Cache(settings.cache_folder) if use_cache else None
        results = lint_files(files, settings, jobs, cache)
    else:
        data, errors, results = _read_stdin(stdin_name), [], []
        if isinstance(data, FileError):
            results.append(data)
        elif not (force_exclude and excluded_with_parents(Path(stdin_name), settings)):
            rules = settings.rules_for(stdin_name)
            results.append(per_file(stdin_name, lambda: lint_bytes(data, stdin_name, rules)))
    found, failed = _partition(results)
    return [d for diagnostics in found for d in diagnostics], sorted(errors + failed)


def _partition(outcomes: list) -> tuple[list, list[FileError]]:
    """Per-file outcomes split into results and FileErrors (None, a skipped file, dropped); the
    FileError of a notebook linted in part comes out of its findings."""
    results: list = []
    errors: list[FileError] = []
    for outcome in outcomes:
        if isinstance(outcome, FileError):
            errors.append(outcome)
        elif isinstance(outcome, list):
            results.append([item for item in outcome if not isinstance(item, FileError)])
            errors += [item for item in outcome if isinstance(item, FileError)]
        elif outcome is not None:
            results.append(outcome)
    return results, errors


@cli.command()
@_selection
@click.option(
    "--output-format",
    type=click.Choice(report.FORMATS),
    default="concise",
    show_default=True,
    help="concise/full: text; json: records (see the README); sarif: SARIF 2.1.0 for code "
    "scanning; github: GitHub Actions annotations.",
)
@_jobs
@click.option("--no-cache", is_flag=True, help="Lint every file afresh; neither read nor write the cache.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Count the findings per rule, not list them.")
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of stdout.",
)
def lint(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    config: Path | None,
    force_exclude: bool,
    stdin_filename: str | None,
    output_format: str,
    jobs: int,
    no_cache: bool,
    exit_zero: bool,
    statistics: bool,
    output_file: Path | None,
) -> None:
    """Lint PATHS (files and folders; default: the current folder; `-`: stdin)."""
    if statistics and output_format not in report.STATISTICS_FORMATS:
        _fail(f"--statistics works with --output-format {', '.join(report.STATISTICS_FORMATS)}")
    stdin_name = _stdin_name(paths, stdin_filename)
    settings = _settings([stdin_name] if stdin_name else paths, select, extend_select, ignore, config)
    diagnostics, errors = _lint_all(paths, stdin_name, settings, force_exclude, jobs, not no_cache)
    for error in errors:
        click.echo(report.file_error_line(error), err=True)

    text = report.render(diagnostics, errors, output_format, statistics)
    if output_file is None:
        click.echo(text, nl=False)
    else:
        try:
            output_file.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"{output_file}: cannot write: {exc.strerror or exc}")

    if errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if diagnostics and not exit_zero else EXIT_CLEAN)


@cli.command()
@_selection
@click.option("--apply", is_flag=True, help="Write the fixes to the files (atomically).")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that change training on purpose.")
@_jobs
def fix(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    config: Path | None,
    force_exclude: bool,
    stdin_filename: str | None,
    apply: bool,
    unsafe_fixes: bool,
    jobs: int,
) -> None:
    """Show the fixes for PATHS as a unified diff; write them with --apply.

    With the path `-`, the source is read from stdin; --apply prints the fixed source on stdout
    (the source as read when it cannot be fixed) instead of writing a file.

    Exit codes: without --apply, 1 when a diff is pending and 0 when there is nothing to fix;
    with --apply, 0 once written; 2 when a file could not be read, parsed or written.
    """
    from kerastips.fixer import fix_file  # libcst's codemod tooling: only the fix path pays for it

    stdin_name = _stdin_name(paths, stdin_filename)
    settings = _settings([stdin_name] if stdin_name else paths, select, extend_select, ignore, config)
    if stdin_name is None:
        files, errors = discover(paths, settings, force_exclude=force_exclude)
        calls = [(path, settings.rules_for(path), unsafe_fixes, apply, str(path)) for path in files]
        outcomes = map_files(fix_file, calls, [_size(path) for path in files], jobs)
    else:
        errors, outcomes = [], [_fix_stdin(stdin_name, settings, force_exclude, unsafe_fixes, apply)]
    results, failed = _partition(outcomes)
    errors = sorted(errors + failed)
    for error in errors:
        click.echo(report.file_error_line(error), err=True)
    changed = [result for result in results if result.changed]
    if not apply:
        click.echo("".join(result.diff() for result in changed), nl=False)
    click.echo(report.fix_summary(results, apply, unsafe_fixes, len(errors)), err=True, nl=False)
    if errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if changed and not apply else EXIT_CLEAN)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # reported when the file is read
        return 0


def _fix_stdin(name: str, settings, force_exclude: bool, unsafe: bool, apply: bool):
    """The FixResult of the stdin source (None when --force-exclude excludes its name), or its
    FileError. With `apply` the source goes to stdout, fixed or else as read, so an editor that
    pipes its buffer through `kerastips fix - --apply` never gets an empty one back."""
    from kerastips.engine import SourceError
    from kerastips.fixer import WriteError, fix_bytes

    data = _read_stdin(name)
    if isinstance(data, FileError):
        return data
    if apply and sys.stdout is None:  # started with stdout closed: the source has nowhere to go
        return FileError(name, "cannot write stdout: it is closed")
    outcome, fixed = None, data
    if not (force_exclude and excluded_with_parents(Path(name), settings)):
        rules = settings.rules_for(name)

        def work():
            result = fix_bytes(data, name, rules, unsafe)
            return result, result.fixed_bytes() if apply else data

        outcome = per_file(name, work, (SourceError, WriteError))
        if not isinstance(outcome, FileError):
            outcome, fixed = outcome
    if apply:
        sys.stdout.buffer.write(fixed)
        sys.stdout.buffer.flush()
    return outcome


@cli.command(context_settings={"show_default": True})
@click.argument("script", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.option("--rules", "rules_", metavar="CODES", multiple=True,
              help="Verify only these rules' fixes (comma-separated codes) [default: every enabled rule].")
@click.option("--together", is_flag=True, help="One variant with every fix, instead of one per fix.")
@click.option("--backend", type=click.Choice(["tensorflow", "jax", "torch"]), default=None,
              help="Keras backend of the runs [default: $KERAS_BACKEND, else tensorflow].")
@click.option("--strategy", type=click.Choice(["auto", "mirrored", "multiworker", "one-device",
                                                "jax-data-parallel"]), default="auto",
              help="Distribution engine; auto: MultiWorkerMirrored with TF_CONFIG, Mirrored over "
                   "several devices, else one device (JAX: DataParallel).")
@click.option("--cpu-replicas", type=click.IntRange(min=1), default=None, metavar="N",
              help="Train on N logical CPU devices instead of the GPUs.")
@click.option("--epochs", type=click.IntRange(min=1), default=3, help="Most epochs a fit trains.")
@click.option("--steps-per-epoch", type=click.IntRange(min=1), default=20, help="Most steps an epoch trains.")
@click.option("--max-samples", type=click.IntRange(min=1), default=4096,
              help="Most training (and validation) samples of array data.")
@click.option("--seeds", type=click.IntRange(min=1), default=3, help="Runs of each variant (seeds 0..K-1).")
@click.option("--fit-index", type=click.IntRange(min=0), default=0,
              help="Which Model.fit call of the script to record (0: the first); the script stops after it.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=900.0,
              help="Seconds one run may take before it is stopped.")
@click.option("--json", "json_path", metavar="PATH", default=None,
              help="Write every result and the summary as JSON to PATH ('-': stdout).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the loss/val_loss curves to a PNG (needs the plot extra).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
              help="Read [tool.kerastips] from this TOML file instead of the nearest pyproject.toml.")
@click.option("--diagnostics/--no-diagnostics", default=True,
              help="Watch the recorded fit for symptoms (NaN loss, exploding gradients, dead ReLUs...).")
@click.option("--debug", is_flag=True, help="Show each failed run's output and kerastips' own tracebacks.")
def verify(script: Path, script_args: tuple[str, ...], rules_: tuple[str, ...], together: bool,
           backend: str | None, strategy: str, cpu_replicas: int | None, epochs: int,
           steps_per_epoch: int, max_samples: int, seeds: int, fit_index: int, timeout: float,
           json_path: str | None, plot_path: Path | None, config: Path | None, diagnostics: bool,
           debug: bool) -> None:
    """Train SCRIPT as written and with each fix, on a small seeded budget, and say whether each
    fix helped. Arguments after `--` go to the script.

    Each (variant, seed) runs in its own process through a real distribution engine
    (tf.distribute on TensorFlow, keras.distribution on JAX). Needs the verify extra.

    Exit codes: 0 every run trained; 1 some run failed (error, timeout, no fit); 2 nothing could be
    verified (usage, configuration, an unreadable script).
    """
    try:
        _verify(script, script_args, _split(rules_), together, backend, strategy, cpu_replicas,
                epochs, steps_per_epoch, max_samples, seeds, fit_index, timeout, json_path,
                plot_path, config, diagnostics, debug)
    except Exception:
        if debug:
            import traceback

            traceback.print_exc()
            sys.exit(EXIT_ERROR)
        raise


def _verify(script, script_args, codes, together, backend, strategy, cpu_replicas, epochs,
            steps_per_epoch, max_samples, seeds, fit_index, timeout, json_path, plot_path, config,
            diagnostics, debug) -> None:
    import os

    from kerastips.engine import SourceError, decode_with_encoding, read_file
    from kerastips.verify import runner
    from kerastips.verify.strategies import StrategyError

    if script.suffix == ".ipynb":
        _fail(f"{script}: verify runs Python scripts; export the notebook first "
              "(jupyter nbconvert --to script)")
    try:
        source, _ = decode_with_encoding(read_file(script))
    except SourceError as exc:
        _fail(f"{script}: {exc}")
    try:
        settings = load_settings([str(script)], config=config, select=codes or None)
    except ConfigError as exc:
        _fail(str(exc))
    backend = backend or os.environ.get("KERAS_BACKEND") or "tensorflow"
    options = runner.Options(
        backend=backend, strategy=strategy, cpu_replicas=cpu_replicas, epochs=epochs,
        steps_per_epoch=steps_per_epoch, max_samples=max_samples, fit_index=fit_index, seeds=seeds,
        timeout=timeout, argv=tuple(script_args), diagnostics=diagnostics,
    )
    try:
        options.check()
    except (ValueError, StrategyError) as exc:
        _fail(str(exc))
    try:
        variants, notes = runner.plan_variants(source, str(script), settings.rules_for(script), together)
    except SourceError as exc:
        _fail(f"{script}: {exc}")
    for line in notes:
        if codes:  # only the rules asked for by name deserve a word
            click.echo(f"note: {line}", err=True)
    if len(variants) == 1:
        click.echo(f"nothing to verify: no fix of the selected rules changes {script}", err=True)
        sys.exit(EXIT_CLEAN)
    try:
        from kerastips.verify import report as verify_report
    except ImportError as exc:
        _fail(f"the verify report is not available ({exc})")

    fixes = ", ".join(variant.name if variant.name != runner.TOGETHER else "together (" + "+".join(variant.codes) + ")"
                      for variant in variants[1:])
    budget = f"{epochs} epoch(s) x {steps_per_epoch} step(s), at most {max_samples} samples"
    engine = strategy + (f", {cpu_replicas} CPU replica(s)" if cpu_replicas else "")
    click.echo(f"verifying {script}: original vs {fixes}; {seeds} seed(s); {backend}, {engine}; "
               f"budget {budget}", err=True)
    for variant in variants[1:]:
        for line in variant.applied:
            click.echo(f"  {variant.name}: {line}", err=True)

    with verify_report.Progress(len(variants) * seeds) as progress:
        results = runner.run_all(script, variants, options, on_start=progress.start,
                                 on_result=lambda r: progress.advance(r["variant"], r["seed"], r["status"]))
    summary = verify_report.summarize(results)

    failed = runner.failures(results)
    for record in failed:
        click.echo(f"error: {record['variant']} seed {record['seed']}: {record['status']}: "
                   f"{record['error']}", err=True)
        if debug and record.get("log"):
            click.echo(f"---- output of {record['variant']} seed {record['seed']} (end) ----", err=True)
            click.echo(record["log"][-6000:].rstrip("\n"), err=True)
            click.echo("----", err=True)

    to_stderr = json_path == "-"  # stdout carries the JSON alone
    stream = sys.stderr if to_stderr else sys.stdout
    if not stream.isatty() and hasattr(verify_report, "render_text"):
        table = verify_report.render_text(summary)  # a file or a pipe: plain text, full width
    else:
        table = verify_report.render_table(summary)
    if isinstance(table, str):
        click.echo(table, nl=False, err=to_stderr)
    else:
        from rich.console import Console

        Console(stderr=to_stderr).print(table)
    if json_path is not None:
        try:
            verify_report.write_json(results, summary, json_path)
        except OSError as exc:
            _fail(f"{json_path}: cannot write: {exc.strerror or exc}")
    if plot_path is not None:
        try:
            verify_report.plot(results, plot_path)
        except ImportError as exc:
            _fail(str(exc))
        except OSError as exc:
            _fail(f"{plot_path}: cannot write: {exc.strerror or exc}")
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


@cli.command()
@click.option("--print", "print_only", is_flag=True, help="Print the section on stdout; write nothing.")
def init(print_only: bool) -> None:
    """Add a [tool.kerastips] section to ./pyproject.toml (created if missing): every setting,
    commented out at its default. The rest of the file is kept byte for byte.

    Exit codes: 0 written (or printed); 2 the file already has a [tool.kerastips] table, is not
    valid TOML, or cannot be read or written.
    """
    section = snippet()
    if print_only:
        click.echo(section, nl=False)
        return
    path = Path("pyproject.toml")
    try:
        data: bytes | None = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        _fail(f"{path}: cannot read: {exc.strerror or exc}")
    try:
        text = with_section(None if data is None else data.decode("utf-8"), section)
    except UnicodeDecodeError:
        _fail(f"{path}: not UTF-8, so not TOML; not changed")
    except ConfigError as exc:
        _fail(f"{path}: {exc}; not changed (`kerastips init --print` shows the section)")
    try:
        if data is None:
            with path.open("xb") as handle:  # x: never over a file created meanwhile
                handle.write(text.encode("utf-8"))
        else:
            from kerastips.fixer import WriteError, write_atomic

            try:
                write_atomic(path, data, text.encode("utf-8"))
            except WriteError as exc:
                _fail(f"{path}: {exc}")
    except OSError as exc:
        _fail(f"{path}: cannot write: {exc.strerror or exc}")
    verb = "Created" if data is None else "Added a [tool.kerastips] section to"
    click.echo(f"{verb} {path}: every setting at its default, commented out.", err=True)


@cli.command()
@click.argument("code")
def rule(code: str) -> None:
    """Show the documentation of the rule CODE (the text of rules/CODE-name.md)."""
    found = rule_by_code(code)
    if found is None:
        _fail(f"unknown rule code {code!r} (`kerastips rules` lists them)")
    click.echo(docs.render(found), nl=False)


@cli.command()
def rules() -> None:
    """List every rule: code, name, severity, summary."""
    width = max((len(r.name) for r in ALL_RULES), default=0)
    for r in ALL_RULES:
        opt_in = "" if r.default_enabled else " (off by default)"
        click.echo(f"{r.code} {r.name:<{width}}  {r.severity.value:<7}  {r.summary}{opt_in}")


def _split(values: Sequence[str]) -> list[str]:
    """`--select KT1,KT401 --select KT3` -> ["KT1", "KT401", "KT3"]."""
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def main() -> None:
    """Console entry point: any unexpected exception becomes one line and exit code 2."""
    try:
        cli.main(prog_name="kerastips")
    except Exception as exc:  # a bug in kerastips; the user gets a line, not a traceback
        click.echo(f"error: internal error ({described(exc)}); {REPORT_BUGS}", err=True)
        sys.exit(EXIT_ERROR)
