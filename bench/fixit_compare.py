"""kerastips against Fixit (a libcst-based linter) and Ruff on the same files.

    python bench/fixit_compare.py [--reps 2] [--venv DIR] [PATHS...]

Fixit and Ruff go into a throwaway virtual environment (`pip install fixit ruff`, in a temporary
folder unless --venv names one to reuse), never into kerastips' own. Without PATHS: the models,
trainers, optimizers, callbacks and applications packages of the installed Keras plus samples/
(about 45k lines: Fixit takes close to a minute per run). Each run is a new process, round-robin,
best of --reps:

- parse: `libcst.parse_module` of every file, the floor of a libcst-based linter;
- kerastips: `kerastips lint --no-cache --jobs 1`, and with its default jobs (every CPU);
- Fixit with its default rules: in one process through its API (`fixit_file` on each file), and
  `fixit lint PATHS` (its own process pool over every CPU);
- Ruff: `ruff check --select ALL --no-cache` (Rust, multi-threaded), for scale.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PARSE, PYTHON, ROOT, best, corpus_paths, count_lines, interleaved, machine, python_files, run_timed,
)

FIXIT_ONE_PROCESS = """\
import sys
from pathlib import Path
from fixit.api import fixit_file
reports = 0
for name in open(sys.argv[1], encoding="utf-8").read().splitlines():
    for result in fixit_file(Path(name)):
        reports += result.violation is not None
print(reports)
"""
PACKAGES = ("models", "trainers", "optimizers", "callbacks", "applications")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--venv", type=Path, help="Where to install Fixit and Ruff (reused if there).")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kerastips-fixit-"))
    # copies outside any git repository: Fixit skips what git ignores (a .venv) even when named
    paths = [copy(p.resolve(), work / "corpus" / str(i)) for i, p in enumerate(options.paths or default_paths())]
    files = python_files(paths)
    listing = work / "files.txt"
    listing.write_text("\n".join(map(str, files)), encoding="utf-8")
    tools = install(options.venv or work / "venv")
    python, fixit, ruff = tools / "python", tools / "fixit", tools / "ruff"
    named = [str(p) for p in paths]
    kerastips = [PYTHON, "-m", "kerastips", "lint", "--exit-zero", "--no-cache"]

    def timed(command: list) -> callable:
        return lambda: run_timed([str(part) for part in command], cwd=work)

    runs = {
        "parse (one process)": timed([PYTHON, "-c", PARSE, listing]),
        "kerastips --jobs 1": timed(kerastips + ["--jobs", "1", *named]),
        "kerastips (every CPU)": timed(kerastips + named),
        "fixit (one process)": timed([python, "-c", FIXIT_ONE_PROCESS, listing]),
        "fixit lint (every CPU)": timed([fixit, "lint", *named]),
    }
    if ruff.exists():
        runs["ruff --select ALL"] = timed([ruff, "check", "--select", "ALL", "--no-cache", "--exit-zero", "--quiet", *named])
    versions = subprocess.run([python, "-m", "pip", "list", "--format", "freeze"], capture_output=True,
                              text=True).stdout.split()
    times = interleaved(runs, options.reps)
    lines = count_lines(files)
    shutil.rmtree(work, ignore_errors=True)  # the copies (and the throwaway environment)
    print(f"machine: {machine()}")
    print(f"tools: {', '.join(v for v in versions if v.split('==')[0].lower() in ('fixit', 'ruff', 'libcst'))}")
    print(f"corpus: {', '.join(str(p) for p in options.paths or default_paths())} (copied to {work})")
    print(f"files: {len(files)}  lines: {lines}  reps: {options.reps} (best of)")
    parse = best(times["parse (one process)"])
    for name, seconds in times.items():
        print(f"{name:24} best {best(seconds):7.2f} s  {best(seconds) / parse:6.2f}x parse"
              f"   all {' '.join(f'{s:.2f}' for s in seconds)}")


def copy(source: Path, target: Path) -> Path:
    """`source` (a folder or a file) copied to `target/<its name>`."""
    copied = target / source.name
    if source.is_dir():
        shutil.copytree(source, copied)
    else:
        target.mkdir(parents=True)
        shutil.copy(source, copied)
    return copied


def default_paths() -> list[Path]:
    keras = next(p for p in corpus_paths() if p.name == "keras" and (p / "src").is_dir())
    return [keras / "src" / package for package in PACKAGES] + [ROOT / "samples"]


def install(folder: Path) -> Path:
    """A virtual environment with Fixit and Ruff; its bin folder."""
    tools = folder / "bin"
    if not (tools / "fixit").exists():
        venv.create(folder, with_pip=True)
        subprocess.run([tools / "python", "-m", "pip", "install", "--quiet", "fixit"], check=True)
        subprocess.run([tools / "python", "-m", "pip", "install", "--quiet", "ruff"])  # for scale only
    return tools


if __name__ == "__main__":
    main()
