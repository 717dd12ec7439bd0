"""Lint a large tree of Keras code, cold and warm, serial and parallel, against libcst's parser.

    python bench/lint_corpus.py [--reps 3] [PATHS...]

Without PATHS: the installed keras package's sources, tensorflow's tensorflow/python/keras (when
installed) and samples/, found without importing them. Every measurement is a new process, timed
from the outside (interpreter start to exit), round-robin with the others, best of --reps, in
wall-clock seconds and in CPU seconds (the process and its workers: steadier on a shared machine):

- parse: read, decode and `libcst.parse_module` every file kerastips would lint (the floor for a
  libcst-based linter), as it is and with the garbage collector paused around each file (as
  kerastips pauses it);
- `kerastips lint --no-cache --jobs 1` with the default selection and with `--select ALL`;
- `kerastips lint --no-cache --jobs 2`;
- `kerastips lint --jobs 1` into an empty cache (cold), then again (warm).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PARSE, PYTHON, best, corpus_paths, count_lines, interleaved, machine, parallel_ceiling, python_files,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--reps", type=int, default=3)
    options = parser.parse_args()
    paths = [p.resolve() for p in options.paths] or corpus_paths()
    files = python_files(paths)
    work = Path(tempfile.mkdtemp(prefix="kerastips-bench-"))  # the runs' folder: their cache goes here
    listing = work / "files.txt"
    listing.write_text("\n".join(map(str, files)), encoding="utf-8")
    kerastips = [PYTHON, "-m", "kerastips", "lint", "--exit-zero", *map(str, paths)]
    outputs: dict[str, str] = {}
    cpu: dict[str, list[float]] = {}  # CPU seconds of the run and its workers

    def timed(name: str, command: list[str]):
        def run() -> float:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(command, cwd=work, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.setdefault(name, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            outputs.setdefault(name, done.stdout)
            return seconds
        return run

    cold = timed("cache cold", kerastips + ["--jobs", "1"])

    def cache_cold() -> float:
        shutil.rmtree(work / ".kerastips_cache", ignore_errors=True)
        return cold()

    runs = {
        "parse": timed("parse", [PYTHON, "-c", PARSE, str(listing)]),
        "parse, GC paused": timed("parse, GC paused", [PYTHON, "-c", PARSE, str(listing), "paused"]),
        "lint default -j1": timed("lint default -j1", kerastips + ["--no-cache", "--jobs", "1"]),
        "lint ALL -j1": timed("lint ALL -j1", kerastips + ["--no-cache", "--jobs", "1", "--select", "ALL"]),
        "lint default -j2": timed("lint default -j2", kerastips + ["--no-cache", "--jobs", "2"]),
        "cache cold": cache_cold,
        "cache warm": timed("cache warm", kerastips + ["--jobs", "1"]),
    }
    ceiling_before = parallel_ceiling()
    times = interleaved(runs, options.reps)
    ceiling_after = parallel_ceiling()
    shutil.rmtree(work, ignore_errors=True)

    print(f"machine: {machine()}")
    print(f"corpus: {', '.join(map(str, paths))} ({versions()})")
    print(f"files: {len(files)}  lines: {count_lines(files)}  reps: {options.reps} (best of)")
    for name, seconds in times.items():
        print(f"{name:18} wall best {best(seconds):7.2f} s, CPU best {best(cpu[name]):7.2f} s   "
              f"wall all {' '.join(f'{s:.2f}' for s in seconds)}")
    for name in ("lint default -j1", "lint ALL -j1"):
        for measure, of in (("wall", times), ("CPU", cpu)):
            print(f"{name} / parse ({measure}): {best(of[name]) / best(of['parse']):.2f}x  (/ parse with "
                  f"the GC paused as kerastips pauses it: {best(of[name]) / best(of['parse, GC paused']):.2f}x)")
    print(f"-j1 / -j2:            {best(times['lint default -j1']) / best(times['lint default -j2']):.2f}x "
          f"(two CPU-bound processes ran {ceiling_before:.2f}x / {ceiling_after:.2f}x as fast as one, "
          "before / after)")
    print(f"CPU seconds -j2 / -j1: {best(cpu['lint default -j2']) / best(cpu['lint default -j1']):.3f} "
          "(what the workers cost beyond the work itself)")
    print(f"warm / cold cache:    {best(times['cache warm']) / best(times['cache cold']):.3f} (wall), "
          f"{best(cpu['cache warm']) / best(cpu['cache cold']):.3f} (CPU)")
    same = outputs["lint default -j1"] == outputs["lint default -j2"] == outputs["cache cold"] == outputs["cache warm"]
    print(f"same output with -j1, -j2, cold and warm cache: {same}")
    for name in ("lint default -j1", "lint ALL -j1"):
        print(f"{name} findings: {summary(outputs[name])}")


def summary(output: str) -> str:
    """Findings per rule, from the concise output."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        parts = line.split(" ", 2)
        if len(parts) > 1 and parts[1][:2] == "KT":
            counts[parts[1]] = counts.get(parts[1], 0) + 1
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items())) + f" ({sum(counts.values())})"


def versions() -> str:
    found = []
    for package in ("keras", "tensorflow"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            pass
    return ", ".join(found)


if __name__ == "__main__":
    main()
