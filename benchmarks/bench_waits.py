"""Every "where a person waits" figure of issue 15 in one run, each against its own floor.

Runs the benchmark that owns each row (each measures its floor in the same run as the figure)
one after the other, and prints, per row, the lines that give the figure, then a summary:

| row | script | floor |
|---|---|---|
| app first paint, 1,000 conversations | ``bench_tui.py paint`` | a one-label Textual app |
| the same in a terminal (a pty), empty store | ``bench_terminal_probe.py --frame`` | the same |
| ``chatimg ls --json``, 50,000 messages | ``bench_startup.py`` | ``chatimg --version`` |
| last denoising step to the card, 1 and 4 steps | ``gpu_overhead.py`` | the raw ``pipe(...)`` call |
| opening a 500-generation thread | ``bench_tui.py thread`` | an empty thread |
| export of 1,000 generations, 24 KB images | ``bench_export.py --size 90`` | ``zipfile``, stored |
| typography check of a 4096x4096 image | ``bench_typography.py --skip-set`` | the same at 1024x1024 |

``gpu_overhead.py`` measures an SD-Turbo-size pipeline on CUDA; without CUDA it prints the CPU
figure with a small pipeline. A row whose script fails says so and the others still run.

Run: ``.venv/bin/python benchmarks/bench_waits.py [--only NAME[,NAME]]`` (about 6 minutes on 2
cores; names: paint, pty, ls, gpu, thread, export, typography).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    name: str
    what: str
    goal: str
    args: tuple[str, ...]
    shows: str
    """A regular expression for the output lines that carry the figure."""


ROWS = (
    Row("paint", "app first paint (1,000 conversations)", "≤ 1.5x",
        ("bench_tui.py", "paint"), r"launch → first paint|heavy modules"),
    Row("pty", "the chatimg command's first frame on a pty (empty store)", "≤ 1.5x",
        ("bench_terminal_probe.py", "--frame"), r"first frame"),
    Row("ls", "chatimg ls --json (50,000 messages)", "≤ 3x",
        ("bench_startup.py",), r"ls --json"),
    Row("gpu", "last step → image on the card", "≤ 1.05x",
        ("gpu_overhead.py",), r"no CUDA|^device|step\(s\)|raw pipeline|to the card|to stored"),
    Row("thread", "opening a 500-generation thread", "≤ 2x",
        ("bench_tui.py", "thread"), r"open thread|first frame that shows it|scrolling \(page up"),
    Row("export", "export of 1,000 generations, 24 KB images", "≤ 1.5x",
        ("bench_export.py", "--size", "90", "--rounds", "5"), r"^images:|ratio"),
    Row("typography", "typography check of a 4096x4096 image", "≤ 1.5 s",
        ("bench_typography.py", "--skip-set"), r"typography check|same verdict"),
)


def run(row: Row, timeout: float) -> tuple[list[str], str | None]:
    """The figure lines of ``row``'s benchmark, and a failure (if it did not finish)."""
    command = [sys.executable, str(ROOT / "benchmarks" / row.args[0]), *row.args[1:]]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return [], f"did not finish in {timeout:.0f} s"
    pattern = re.compile(row.shows)
    lines = [line.rstrip() for line in done.stdout.splitlines() if pattern.search(line)]
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return lines, f"exit {done.returncode}: {tail}"
    return lines, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated row names")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per row")
    args = parser.parse_args()
    wanted = {name for name in args.only.split(",") if name}
    unknown = wanted - {row.name for row in ROWS}
    if unknown:
        parser.error(f"unknown row(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    for row in ROWS:
        if wanted and row.name not in wanted:
            continue
        print(f"\n## {row.what} (goal {row.goal}): {' '.join(row.args)}", flush=True)
        clock = time.perf_counter()
        lines, failure = run(row, args.timeout)
        for line in lines:
            print(f"  {line.strip()}")
        if failure:
            print(f"  FAILED: {failure}")
        print(f"  ({time.perf_counter() - clock:.0f} s)", flush=True)
    print(f"\nall rows in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
