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
from kerastips.config import ConfigError, load_settings
from kerastips.diagnostic import Diagnostic, FileError
from kerastips.discovery import discover
from kerastips.engine import REPORT_BUGS, lint_file
from kerastips.fixer import fix_file
from kerastips.rules import ALL_RULES, rule_by_code

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

_SELECTORS = dict(multiple=True, metavar="CODES", default=())  # repeatable, comma-separated


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kerastips")
def cli() -> None:
    """A static linter for TensorFlow/Keras training code."""


def _selection(command):
    """The options that say which files and rules a command works on (shared by lint and fix)."""
    options = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=str)),
        click.option(
            "--select",
            help="Rules to enable, replacing the configured selection: codes, prefixes (KT3) or ALL.",
            **_SELECTORS,
        ),
        click.option("--extend-select", help="Rules to enable on top of the selection.", **_SELECTORS),
        click.option("--ignore", help="Rules to disable.", **_SELECTORS),
        click.option(
            "--config",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Read [tool.kerastips] from this TOML file instead of the nearest pyproject.toml.",
        ),
        click.option(
            "--force-exclude", is_flag=True, help="Apply the exclusions to paths named explicitly too."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _files(paths, select, extend_select, ignore, config, force_exclude):
    """The settings and the files they select, or exit 2 on a configuration error."""
    try:
        settings = load_settings(
            paths,
            config=config,
            select=_split(select) if select else None,
            extend_select=_split(extend_select),
            ignore=_split(ignore),
        )
    except ConfigError as exc:
        _fail(str(exc))
    files, errors = discover(paths, settings, force_exclude=force_exclude)
    return settings, files, errors


@cli.command()
@_selection
@click.option(
    "--output-format", type=click.Choice(report.FORMATS), default="concise", show_default=True
)
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
    output_format: str,
    exit_zero: bool,
    statistics: bool,
    output_file: Path | None,
) -> None:
    """Lint PATHS (files and folders; default: the current folder)."""
    settings, files, errors = _files(paths, select, extend_select, ignore, config, force_exclude)
    diagnostics: list[Diagnostic] = []
    for path in files:
        result = lint_file(path, settings.rules_for(path), str(path))
        if isinstance(result, FileError):
            errors.append(result)
        else:
            diagnostics.extend(result)
    errors.sort()
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
def fix(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    config: Path | None,
    force_exclude: bool,
    apply: bool,
    unsafe_fixes: bool,
) -> None:
    """Show the fixes for PATHS as a unified diff; write them with --apply.

    Exit codes: without --apply, 1 when a diff is pending and 0 when there is nothing to fix;
    with --apply, 0 once written; 2 when a file could not be read, parsed or written.
    """
    settings, files, errors = _files(paths, select, extend_select, ignore, config, force_exclude)
    results = []
    for path in files:
        result = fix_file(path, settings.rules_for(path), unsafe_fixes, apply, str(path))
        if isinstance(result, FileError):
            errors.append(result)
        else:
            results.append(result)
    errors.sort()
    for error in errors:
        click.echo(report.file_error_line(error), err=True)
    changed = [result for result in results if result.changed]
    if not apply:
        click.echo("".join(result.diff() for result in changed), nl=False)
    click.echo(report.fix_summary(results, apply, unsafe_fixes, len(errors)), err=True, nl=False)
    if errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if changed and not apply else EXIT_CLEAN)


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
        click.echo(f"error: internal error ({type(exc).__name__}: {exc}); {REPORT_BUGS}", err=True)
        sys.exit(EXIT_ERROR)
