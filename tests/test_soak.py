"""Soak, CI-sized: lint and fix (--apply, unsafe fixes too) hundreds of generated Keras scripts in
one process; after a warm-up, memory stays flat. bench/soak.py runs the same loop on thousands of
files and prints the samples (bench/README.md has a run)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from soak import soak  # noqa: E402

WARM_UP, WINDOW = 150, 300
# A leaked file's tree or IR is thousands of blocks; the caches of a warm process grow by a few
# blocks a file at first (names and literals seen for the first time), then not at all.
BLOCKS_PER_FILE = 20
RSS_GROWTH = 16 * 2**20


def test_memory_stays_flat_over_hundreds_of_lint_and_fix_runs(tmp_path):
    samples, internal = soak(WARM_UP + WINDOW, WARM_UP, tmp_path)
    assert internal == []
    warm, end = samples[0], samples[-1]
    assert (warm.files, end.files) == (WARM_UP, WARM_UP + WINDOW)
    assert end.blocks - warm.blocks < BLOCKS_PER_FILE * WINDOW, samples
    assert end.objects - warm.objects < BLOCKS_PER_FILE * WINDOW, samples
    if warm.rss is not None:
        assert end.rss - warm.rss < RSS_GROWTH, samples
