"""Overhead of chatimg's diffusers path against raw diffusers, measured in the same run.

1. In one process: ``Studio.generate`` on a random-weight SD-architecture pipeline (its raw call
   takes at least 1 s here; steps are calibrated up until it does) vs calling the very same
   pipeline object (taken from chatimg's cache) with the same arguments. Runs are interleaved;
   medians are compared (target ratio <= 1.05; first load excluded). The Studio path also
   encodes the PNG, hashes and stores it, and writes the rows.
2. Whole process: ``python -m chatimg gen`` vs a minimal script that imports diffusers, loads the
   same folder and runs the same call (both include Python start, imports and the load).
3. Switching back to a cached model (A -> B -> A): time to get A from the cache vs A's cold load
   (target < 1%).

Run: ``.venv/bin/python benchmarks/bench_diffusers_overhead.py [--runs N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _random_sd import build_pipeline, parameter_count

PROMPT = "a lighthouse on a cliff at dusk, oil painting"
SIZE = 256
GUIDANCE = 5.0

MINIMAL_SCRIPT = """
import sys, torch
from diffusers import DiffusionPipeline
torch.set_num_threads({threads})
pipe = DiffusionPipeline.from_pretrained({folder!r}, local_files_only=True)
pipe.set_progress_bar_config(disable=True)
image = pipe({prompt!r}, num_inference_steps={steps}, guidance_scale={guidance}, width={size},
             height={size}, generator=[torch.Generator("cpu").manual_seed(1)]).images[0]
image.save({out!r})
"""


def _raw_call(pipe: Any, steps: int, seed: int) -> Any:
    import torch

    return pipe(PROMPT, num_inference_steps=steps, guidance_scale=GUIDANCE, width=SIZE,
                height=SIZE, num_images_per_prompt=1, output_type="pil",
                generator=[torch.Generator("cpu").manual_seed(seed)]).images[0]


def _write_config(home: Path, threads: int, steps: int, folder_a: Path, folder_b: Path) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    tables = [f"[validation]\nenabled = []\n\n[diffusers]\nthreads = {threads}\n"]
    for name, folder in (("bench", folder_a), ("bench-b", folder_b)):
        tables.append(
            f'[models.{name}]\nengine = "diffusers"\nsource = {json.dumps(str(folder))}\n'
            f"steps = {steps}\nwidth = {SIZE}\nheight = {SIZE}\nguidance = {GUIDANCE}\n"
        )
    config.write_text("\n".join(tables), encoding="utf-8")


def _studio_generation(studio: Any, loop: asyncio.AbstractEventLoop, model: str,
                       seed: int) -> Any:
    from chatimg.spec import GenerationSpec

    outcome = loop.run_until_complete(
        studio.generate(PROMPT, [model], GenerationSpec.build(seed=seed), validate=False)
    )
    (generation,) = outcome.generations
    if generation.status != "succeeded":
        raise SystemExit(f"generation failed: {generation.error}")
    return generation


def _wall(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    clock = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - clock
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr[-600:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="interleaved runs per path")
    parser.add_argument("--process-runs", type=int, default=3, help="whole-process runs each")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both paths (1 is steadiest on a busy machine)")
    args = parser.parse_args()

    import numpy as np
    import torch
    from PIL import Image

    work = Path(tempfile.mkdtemp(prefix="chatimg-bench-"))
    try:
        home = work / "home"
        os.environ["CHATIMG_HOME"] = str(home)
        os.environ["HF_HUB_OFFLINE"] = "1"
        torch.set_num_threads(args.threads)
        threads = torch.get_num_threads()

        clock = time.perf_counter()
        pipe = build_pipeline("medium")
        folder_a = work / "model-a"
        pipe.save_pretrained(str(folder_a))
        folder_b = Path(shutil.copytree(folder_a, work / "model-b"))
        print(f"built medium SD pipeline: {parameter_count(pipe) / 1e6:.1f}M params "
              f"in {time.perf_counter() - clock:.1f} s; {threads} torch threads; {SIZE}x{SIZE}")

        # Calibrate steps so the raw call takes at least 1 s.
        _raw_call(pipe, 2, 0)
        steps = 4
        for _ in range(5):
            clock = time.perf_counter()
            _raw_call(pipe, steps, 0)
            per_call = time.perf_counter() - clock
            if per_call >= 1.5:  # margin: the machine's load varies
                break
            steps = max(steps + 1, math.ceil(steps * 1.8 / per_call))
        del pipe
        _write_config(home, threads, steps, folder_a, folder_b)

        from chatimg.engines.pipeline_cache import shared_cache
        from chatimg.studio import Studio

        studio = Studio.open()
        loop = asyncio.new_event_loop()
        first = _studio_generation(studio, loop, "bench", 1)  # cold load, excluded
        cold_a = first.receipt_data["engine"]["fetch_seconds"]
        (entry,) = shared_cache(studio.context).entries()
        loaded = entry.pipe

        # 1. In-process overhead, interleaved.
        raw_times: list[float] = []
        studio_times: list[float] = []
        raw_cpu: list[float] = []
        studio_cpu: list[float] = []
        same_pixels = True
        for run in range(args.runs):
            seed = 100 + run
            clock, cpu = time.perf_counter(), time.process_time()
            raw_image = _raw_call(loaded, steps, seed)
            raw_times.append(time.perf_counter() - clock)
            raw_cpu.append(time.process_time() - cpu)
            clock, cpu = time.perf_counter(), time.process_time()
            generation = _studio_generation(studio, loop, "bench", seed)
            studio_times.append(time.perf_counter() - clock)
            studio_cpu.append(time.process_time() - cpu)
            stored = Image.open(generation.assets[0].path).convert("RGB")
            same_pixels &= bool(np.array_equal(np.asarray(stored), np.asarray(raw_image)))
        raw_med, studio_med = statistics.median(raw_times), statistics.median(studio_times)
        print(f"\n1. in-process, {steps} steps, median of {args.runs} interleaved runs")
        print(f"   raw pipeline call:   {raw_med * 1000:8.1f} ms")
        print(f"   Studio.generate:     {studio_med * 1000:8.1f} ms "
              f"(run, PNG encode, store, rows)")
        print(f"   added:               {(studio_med - raw_med) * 1000:8.1f} ms")
        print(f"   ratio:               {studio_med / raw_med:8.3f}  (target <= 1.05)")
        raw_min, studio_min = min(raw_times), min(studio_times)
        print(f"   best of each:        raw {raw_min * 1000:.1f} ms, Studio "
              f"{studio_min * 1000:.1f} ms, ratio {studio_min / raw_min:.3f}")
        raw_c, studio_c = statistics.median(raw_cpu), statistics.median(studio_cpu)
        print(f"   CPU time (this process, all threads; robust to other load): raw "
              f"{raw_c * 1000:.1f} ms, Studio {studio_c * 1000:.1f} ms, added "
              f"{(studio_c - raw_c) * 1000:.1f} ms, ratio {studio_c / raw_c:.3f}")
        print(f"   same pixels as raw:  {same_pixels}")

        # 3. Switch back to a cached model.
        to_b = _studio_generation(studio, loop, "bench-b", 1)
        back = _studio_generation(studio, loop, "bench", 1)
        cold_b = to_b.receipt_data["engine"]["fetch_seconds"]
        hit = back.receipt_data["engine"]["fetch_seconds"]
        stats = shared_cache(studio.context).stats
        print("\n3. model switch A -> B -> A")
        print(f"   cold load A: {cold_a * 1000:8.1f} ms, cold load B: {cold_b * 1000:8.1f} ms")
        print(f"   back to A from cache: {hit * 1000:8.3f} ms "
              f"({back.receipt_data['engine']['cache']}) = {100 * hit / cold_a:.4f}% of cold "
              f"(target < 1%); loads={stats.loads} hits={stats.hits}")
        loop.close()
        studio.close()

        # 2. Whole process.
        env = {**os.environ, "CHATIMG_HOME": str(home)}
        script = work / "minimal.py"
        script.write_text(MINIMAL_SCRIPT.format(
            threads=threads, folder=str(folder_a), prompt=PROMPT, steps=steps,
            guidance=GUIDANCE, size=SIZE, out=str(work / "minimal.png")), encoding="utf-8")
        cli = [sys.executable, "-m", "chatimg", "gen", PROMPT, "-m", "bench", "--seed", "1",
               "-q", "--json"]
        minimal = [sys.executable, str(script)]
        cli_runs, minimal_runs = [], []
        for _ in range(args.process_runs):
            minimal_runs.append(_wall(minimal, env))
            cli_runs.append(_wall(cli, env))
        print(f"\n2. whole process, median of {args.process_runs} interleaved runs")
        for label, index in (("wall", 0), ("CPU (user+sys)", 1)):
            cli_med = statistics.median(run[index] for run in cli_runs)
            min_med = statistics.median(run[index] for run in minimal_runs)
            print(f"   {label}: minimal diffusers script {min_med:6.2f} s, chatimg gen "
                  f"{cli_med:6.2f} s, added {(cli_med - min_med) * 1000:.0f} ms, "
                  f"ratio {cli_med / min_med:.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
