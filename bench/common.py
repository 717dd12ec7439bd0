"""What the benchmark scripts share: the corpus, the machine line, and timing in fresh processes.

The machine this was first measured on is a shared 2-CPU VM, so every figure is a ratio against a
reference measured in the same run, interleaved with it, as the best of several repetitions.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The reference: read, decode and `libcst.parse_module` every file named in the file argv[1]
# (one path a line), in a process of its own. With argv[2] == "paused", the garbage collector is
# paused around each parse, as kerastips pauses it around each file.
PARSE = """\
import gc, io, sys, tokenize, libcst
paused = sys.argv[2:] == ["paused"]
for name in open(sys.argv[1], encoding="utf-8").read().splitlines():
    data = open(name, "rb").read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        if paused:
            gc.disable()
        libcst.parse_module(data.decode(encoding))
    except (SyntaxError, UnicodeDecodeError, libcst.ParserSyntaxError, RecursionError):
        pass
    finally:
        gc.enable()
"""


def corpus_paths() -> list[Path]:
    """The installed Keras sources (keras, and tensorflow's own tensorflow/python/keras when
    present), found without importing them, plus samples/."""
    paths = []
    for package, below in (("keras", ""), ("tensorflow", "python/keras")):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations))) / below
            if folder.is_dir():
                paths.append(folder)
    if not paths:
        sys.exit("neither keras nor tensorflow is installed: pip install keras, or pass PATHS")
    return paths + [ROOT / "samples"]


def python_files(paths: Sequence[Path]) -> list[Path]:
    """The .py files kerastips lints under `paths` (its own discovery, default settings)."""
    from kerastips.config import load_settings
    from kerastips.discovery import discover

    files, _ = discover(paths, load_settings([]))
    return [f for f in files if f.suffix == ".py"]


def count_lines(files: Sequence[Path]) -> int:
    return sum(f.read_bytes().count(b"\n") for f in files)


def machine() -> str:
    from importlib.metadata import version

    return (f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
            f"{platform.python_implementation()} {platform.python_version()}, libcst {version('libcst')}, "
            f"load average {os.getloadavg()[0]:.2f}")


def run_timed(command: Sequence[str], cwd: Path | None = None, env: dict | None = None) -> float:
    """Wall-clock seconds of a command in a new process (its output discarded)."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def interleaved(runs: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Each of `runs` (a function returning seconds) `reps` times, round-robin, so that load from
    elsewhere hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for rep in range(reps):
        for name, run in runs.items():
            times[name].append(run())
            print(f"  rep {rep + 1}/{reps} {name}: {times[name][-1]:.3f} s", file=sys.stderr, flush=True)
    return times


def best(times: Sequence[float]) -> float:
    return min(times)


def median(times: Sequence[float]) -> float:
    return statistics.median(times)


def parallel_ceiling(seconds: float = 0.5) -> float:
    """How much faster two processes finish two equal CPU-bound loops than one process does one
    after the other, right now: 2.0 on two idle cores, about 1 when something else takes a core."""
    code = ("import time\nt=time.perf_counter()\nn=0\nwhile time.perf_counter()-t<%r: n+=1\n"
            "print(n)" % seconds)
    one = int(subprocess.run([PYTHON, "-c", code], capture_output=True, text=True).stdout)
    both = [subprocess.Popen([PYTHON, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    together = sum(int(p.communicate()[0]) for p in both)
    return together / one
