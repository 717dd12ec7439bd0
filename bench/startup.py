"""`kerastips lint one_file.py` end to end, in a new process each time.

    python bench/startup.py [--reps 21] [FILE]

FILE (default: samples/cnn_digits.py) is copied into an empty folder, which is the working
directory of every run. Round-robin, median and best of --reps:

- `python -c pass`: the interpreter alone;
- `python -c "import libcst"`: the parser's import, which every libcst-based linter pays;
- `kerastips lint --no-cache FILE`, and `kerastips lint FILE` with its cache entry written.

Then one more run reports which modules a lint imports: never TensorFlow or Keras.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, ROOT, best, interleaved, machine, median, run_timed  # noqa: E402

PROBE = """\
import sys
from kerastips.cli import main
sys.argv = ["kerastips", "lint", "--no-cache", "--exit-zero", sys.argv[1]]
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "numpy", "jax", "torch"})
print("heavy modules imported:", heavy or "none", file=sys.stderr)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "samples" / "cnn_digits.py")
    parser.add_argument("--reps", type=int, default=21)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kerastips-startup-"))
    target = work / options.file.name
    shutil.copy(options.file, target)
    entry = Path(PYTHON).parent / "kerastips"  # the console script users run
    kerastips = [str(entry)] if entry.exists() else [PYTHON, "-m", "kerastips"]
    subprocess.run(kerastips + ["lint", target.name], cwd=work, capture_output=True)  # the cache entry

    runs = {
        "python -c pass": lambda: run_timed([PYTHON, "-c", "pass"], cwd=work),
        "import libcst": lambda: run_timed([PYTHON, "-c", "import libcst"], cwd=work),
        "lint --no-cache": lambda: run_timed(kerastips + ["lint", "--no-cache", target.name], cwd=work),
        "lint (cached)": lambda: run_timed(kerastips + ["lint", target.name], cwd=work),
    }
    times = interleaved(runs, options.reps)
    probe = subprocess.run([PYTHON, "-c", PROBE, target.name], cwd=work, capture_output=True, text=True)
    shutil.rmtree(work, ignore_errors=True)

    lines = options.file.read_bytes().count(b"\n")
    print(f"machine: {machine()}")
    print(f"file: {options.file.name} ({lines} lines); command: {' '.join(Path(c).name for c in kerastips)} lint FILE")
    for name, seconds in times.items():
        print(f"{name:16} median {median(seconds):.3f} s  best {best(seconds):.3f} s")
    print(probe.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
