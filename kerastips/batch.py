"""Many files at once: the cache first, then the files left to lint, in worker processes when there
is enough work to pay for them. Outcomes come back in the order of the files, whatever the jobs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from kerastips.cache import Cache
from kerastips.config import Settings
from kerastips.diagnostic import FileError
from kerastips.engine import lint_data, per_file, read_file

R = TypeVar("R")
# Below this much source to lint, workers cost about what they save: one CPU lints about 0.6 MB of
# Keras' sources a second (64 KB: 0.1 s), and starting and stopping forked workers, with the
# imports that takes, costs 10-30 ms.
MIN_PARALLEL_BYTES = 64 * 1024
CHUNKS_PER_JOB = 4  # several chunks per worker even out files of very different sizes


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def lint_files(files: Sequence[Path], settings: Settings, jobs: int, cache: Cache | None) -> list:
    """The outcome of each file (its diagnostics or its FileError), in the order of `files`."""
    outcomes: list = [None] * len(files)
    todo = []  # (index, key, (data, name, rules)) of the files the cache does not answer
    for index, path in enumerate(files):
        name = str(path)
        data = per_file(name, lambda: read_file(path))
        if isinstance(data, FileError):
            outcomes[index] = data
            continue
        rules = settings.rules_for(path)
        key = cache.key(data, name, rules) if cache is not None else None
        outcomes[index] = cache.load(key, name) if key is not None else None
        if outcomes[index] is None:
            todo.append((index, key, (data, name, rules)))
    sizes = [len(arguments[0]) for _, _, arguments in todo]
    linted = map_files(lint_data, [arguments for _, _, arguments in todo], sizes, jobs)
    for (index, key, _), (outcome, cacheable) in zip(todo, linted):
        outcomes[index] = outcome
        if key is not None and cacheable:
            cache.store(key, outcome)
    return outcomes


def map_files(work: Callable[..., R], calls: Sequence[tuple], sizes: Sequence[int], jobs: int) -> list[R]:
    """`work(*arguments)` for each of `calls` (one per file, `sizes` its bytes), in order.

    With `jobs` > 1 and enough bytes, the calls run in that many worker processes, in chunks of
    files of about the same total size. `work` must not raise (the callers make every failure a
    per-file outcome); a chunk whose worker fails is run again in this process."""
    total = sum(sizes)
    if jobs <= 1 or len(calls) < 2 or total < MIN_PARALLEL_BYTES:
        return [work(*arguments) for arguments in calls]
    from concurrent.futures import ProcessPoolExecutor, as_completed  # only a parallel run pays for it

    chunks = _chunks(sizes, total / (jobs * CHUNKS_PER_JOB))
    results: list = [None] * len(calls)
    workers = min(jobs, len(chunks))
    with ProcessPoolExecutor(workers, mp_context=_context(), initializer=_worker_start) as pool:
        try:
            futures = {
                pool.submit(_run_chunk, work, [calls[i] for i in chunk]): chunk
                for chunk in sorted(chunks, key=lambda chunk: -sum(sizes[i] for i in chunk))
            }
            for future in as_completed(futures):
                chunk = futures[future]
                try:
                    done = future.result()
                except Exception:  # the worker died or its results could not come back
                    done = [work(*calls[i]) for i in chunk]
                for i, result in zip(chunk, done):
                    results[i] = result
        except BaseException:  # Ctrl-C: stop the workers now rather than after their chunks
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            raise
    return results


def _chunks(sizes: Sequence[int], target: float) -> list[list[int]]:
    """Consecutive indices grouped into chunks of about `target` bytes (a bigger file alone)."""
    chunks: list[list[int]] = [[]]
    filled = 0
    for index, size in enumerate(sizes):
        if chunks[-1] and filled + size > target:
            chunks.append([])
            filled = 0
        chunks[-1].append(index)
        filled += size
    return chunks


def _run_chunk(work: Callable[..., R], calls: list[tuple]) -> list[R]:
    return [work(*arguments) for arguments in calls]


def _context():
    """Forked workers start in milliseconds with everything imported; where fork is not the
    platform's safe default (macOS, Windows), its default method."""
    import multiprocessing

    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)


def _worker_start() -> None:
    """Ctrl-C is the parent's to handle: workers ignore it and end with the pool."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)

