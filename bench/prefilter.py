"""What files without Keras cost kerastips, against reading them.

    python bench/prefilter.py [--reps 5] [--parse] [PATHS...]

Without PATHS: Python's own standard library (every .py file below it that the pre-filter skips).
In one process, round-robin, best of --reps, in CPU seconds of the process (steadier than wall time
on a shared machine; the files are in the OS cache after the first pass):

- read: `open(path, "rb").read()` of each file, what any linter does;
- kerastips: what `kerastips lint --jobs 1 --no-cache` does per file (read, its rules, decode,
  pre-filter), through the same function;
- with --parse, once: `libcst.parse_module` of the same files, which the pre-filter saves.
"""

from __future__ import annotations

import argparse
import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best, count_lines, interleaved, machine  # noqa: E402

import libcst  # noqa: E402

from kerastips.batch import lint_files  # noqa: E402
from kerastips.config import load_settings  # noqa: E402
from kerastips.engine import SourceError, decode  # noqa: E402
from kerastips.ir.names import mentions_keras  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--parse", action="store_true")
    options = parser.parse_args()
    roots = options.paths or [Path(sysconfig.get_paths()["stdlib"])]
    files = [f for root in roots for f in sorted(root.rglob("*.py"))
             if "site-packages" not in f.parts and skipped(f)]
    settings = load_settings([])
    size = sum(f.stat().st_size for f in files)

    def read() -> float:
        start = time.process_time()
        for f in files:
            with open(f, "rb") as handle:
                handle.read()
        return time.process_time() - start

    def kerastips() -> float:
        start = time.process_time()
        outcomes = lint_files(files, settings, jobs=1, cache=None)
        seconds = time.process_time() - start
        assert all(outcome == [] for outcome in outcomes)
        return seconds

    read()  # into the OS cache
    times = interleaved({"read": read, "kerastips": kerastips}, options.reps)
    print(f"machine: {machine()}")
    print(f"files: {len(files)} without Keras under {', '.join(map(str, roots))}: "
          f"{count_lines(files)} lines, {size / 1e6:.1f} MB")
    for name, seconds in times.items():
        print(f"{name:10} best {best(seconds) * 1000:8.1f} ms  ({size / 1e6 / best(seconds):6.0f} MB/s)"
              f"   all {' '.join(f'{s * 1000:.1f}' for s in seconds)}")
    print(f"kerastips / read: {best(times['kerastips']) / best(times['read']):.1f}x, "
          f"{(best(times['kerastips']) - best(times['read'])) / len(files) * 1e6:.0f} us more per file")
    if options.parse:
        start = time.process_time()
        for f in files:
            try:
                libcst.parse_module(decode(f.read_bytes()))
            except (libcst.ParserSyntaxError, SourceError, RecursionError):
                pass
        parse = time.process_time() - start
        print(f"libcst.parse_module of the same files (once): {parse:.1f} s, "
              f"{parse / best(times['kerastips']):.0f}x what the pre-filter costs")


def skipped(path: Path) -> bool:
    """Whether the pre-filter skips the file (one that cannot be decoded is left out)."""
    try:
        return not mentions_keras(decode(path.read_bytes()))
    except (OSError, SourceError):
        return False


if __name__ == "__main__":
    main()
