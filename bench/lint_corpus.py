"""Lint a large tree of Keras code and compare with what libcst alone takes to parse it.

    python bench/lint_corpus.py [PATHS...]

Without PATHS: the installed `keras` package's sources (found without importing it) plus samples/.
Each measurement runs in this one process, cold (first pass), on the same files.
"""

from __future__ import annotations

import collections
import datetime
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

import libcst

from kerastips.engine import decode, lint_file
from kerastips.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent


def default_paths() -> list[Path]:
    spec = importlib.util.find_spec("keras")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("keras is not installed: pip install keras, or pass PATHS")
    return [Path(next(iter(spec.submodule_search_locations))), ROOT / "samples"]


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or default_paths()
    files = sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*.py"))})
    sources = [decode(f.read_bytes()) for f in files]
    lines = sum(s.count("\n") for s in sources)

    start = time.perf_counter()
    for source in sources:
        try:
            libcst.parse_module(source)
        except libcst.ParserSyntaxError:
            pass
    parse = time.perf_counter() - start

    rules = [rule() for rule in ALL_RULES]
    counts: collections.Counter = collections.Counter()
    start = time.perf_counter()
    for path in files:
        result = lint_file(path, rules)
        if isinstance(result, list):
            counts.update(d.code for d in result)
        else:
            counts["file errors"] += 1
    lint = time.perf_counter() - start

    print(f"date: {datetime.date.today()}  machine: {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{platform.python_implementation()} {platform.python_version()}, libcst {libcst_version()}")
    print(f"corpus: {', '.join(str(p) for p in paths)}")
    print(f"files: {len(files)}  lines: {lines}")
    print(f"libcst.parse_module alone: {parse:.2f} s")
    print(f"kerastips lint (all rules, one process): {lint:.2f} s  ratio: {lint / parse:.2f}x")
    print(f"findings: {dict(sorted(counts.items()))}")


def libcst_version() -> str:
    from importlib.metadata import version

    return version("libcst")


if __name__ == "__main__":
    main()
