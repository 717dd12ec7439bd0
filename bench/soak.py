"""Soak: lint, then fix with --apply (unsafe fixes too), thousands of generated Keras scripts (one
in five as a notebook) in one process, and watch memory: after a warm-up it must stay flat.

Memory is sampled after a full garbage collection every `--every` files: the blocks Python has
allocated (sys.getallocatedblocks: every live object, strings included), the objects the garbage
collector tracks, and the resident set size (Linux). The scripts come from tests/kerasgen.py with
seeds 0..N-1, so every run lints the same files. tests/test_soak.py runs a small one in CI.

    python bench/soak.py --files 5000 --every 500
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from kerasgen import as_notebook, random_module  # noqa: E402

from kerastips.diagnostic import FileError  # noqa: E402
from kerastips.engine import lint_file  # noqa: E402
from kerastips.fixer import fix_file  # noqa: E402
from kerastips.rules import ALL_RULES  # noqa: E402

NOTEBOOK_EVERY = 5
SLOTS = 64  # files on disk at once: each is overwritten by a later script


@dataclass
class Sample:
    files: int  # linted and fixed so far
    seconds: float
    blocks: int
    objects: int
    rss: int | None  # bytes; None where /proc is not there


def soak(files: int, every: int, folder: Path) -> tuple[list[Sample], list[FileError]]:
    """Lint and fix `files` scripts in `folder`, sampling memory every `every` files; the samples
    and the internal errors (which should be none)."""
    rules = [rule() for rule in ALL_RULES]
    samples, internal = [], []
    start = time.perf_counter()
    for index in range(files):
        source = random_module(index).encode()
        notebook = index % NOTEBOOK_EVERY == 0
        path = folder / f"script_{index % SLOTS}{'.ipynb' if notebook else '.py'}"
        path.write_bytes(as_notebook(source) if notebook else source)
        for outcome in (lint_file(path, rules), fix_file(path, rules, unsafe=True, apply=True)):
            if isinstance(outcome, FileError) and "internal error" in outcome.message:
                internal.append(outcome)
        if (index + 1) % every == 0:
            samples.append(sample(index + 1, time.perf_counter() - start))
    return samples, internal


def sample(files: int, seconds: float) -> Sample:
    gc.collect()
    return Sample(files, seconds, sys.getallocatedblocks(), len(gc.get_objects()), _rss())


def _rss() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--every", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        samples, internal = soak(args.files, args.every, Path(folder))
    from common import machine  # bench/common.py

    print(f"# {machine()}; {args.files} files, {args.files // NOTEBOOK_EVERY} of them notebooks")
    print("| files | seconds | ms/file | allocated blocks | gc objects | RSS MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    previous = None
    for s in samples:
        per_file = 1000 * (s.seconds - (previous.seconds if previous else 0)) / (s.files - (previous.files if previous else 0))
        rss = f"{s.rss / 2**20:.1f}" if s.rss is not None else "-"
        print(f"| {s.files:,} | {s.seconds:.1f} | {per_file:.1f} | {s.blocks:,} | {s.objects:,} | {rss} |")
        previous = s
    print(f"internal errors: {len(internal)}" + "".join(f"\n  {e.path}: {e.message}" for e in internal))


if __name__ == "__main__":
    main()
