"""On a GPU: chatimg's Studio-path overhead on a real-size SD-Turbo pipeline, and s/image.

Builds a random-weight pipeline with SD-Turbo's real shapes (see ``_random_sd.SHAPES``; nothing
is downloaded) directly on CUDA in fp16, saves it to a temp folder, and lets chatimg load it through
its real loader (``[models.turbo]``, device cuda, fp16). After warm-up it interleaves, per step
count, calls of the very same pipeline object (from chatimg's cache) with the same arguments and
``Studio.generate`` (which also encodes the PNG, stores it and writes the rows), and prints
medians, the added milliseconds, the ratio and seconds per image. Stops itself after ~4 minutes.

Two Studio figures per step count: until the image is shown (the ``image`` event that the card
and the CLI get, before the PNG is encoded) and until it is stored (``finished``).

Run (repo root, deps installed): ``python benchmarks/gpu_overhead.py``
Without CUDA it prints the CPU figure with a small pipeline at 128x128 (``--dry-run`` does the
same with fewer runs, to check the script).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # the repo root: chatimg need not be installed

PROMPT = "a lighthouse on a cliff at dusk, oil painting"


def _raw_call(pipe: Any, steps: int, size: int, seed: int) -> Any:
    import torch

    return pipe(PROMPT, num_inference_steps=steps, guidance_scale=0.0, width=size, height=size,
                num_images_per_prompt=1, output_type="pil",
                generator=[torch.Generator("cpu").manual_seed(seed)]).images[0]


def _studio_run(studio: Any, loop: asyncio.AbstractEventLoop, steps: int,
                seed: int) -> tuple[Any, float]:
    """The stored generation, and when (perf_counter) its image was shown."""
    from chatimg.spec import GenerationSpec

    shown: list[float] = []

    def on_event(event: Any) -> None:
        if event.kind == "image" and not shown:
            shown.append(time.perf_counter())

    outcome = loop.run_until_complete(studio.generate(
        PROMPT, ["turbo"], GenerationSpec.build(seed=seed, steps=steps), validate=False,
        on_event=on_event))
    (generation,) = outcome.generations
    if generation.status != "succeeded" or not shown:
        raise SystemExit(f"Studio generation failed: {generation.error}")
    return generation, shown[0]


def _timeout(_signum: int, _frame: Any) -> None:
    print("gpu_overhead: time limit reached, stopping", flush=True)
    os._exit(3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="CPU, fp32, small shape at 128x128: checks the script, not a figure")
    parser.add_argument("--runs", type=int, default=15, help="interleaved runs per step count")
    parser.add_argument("--steps", default="1,4", help="step counts, comma-separated")
    parser.add_argument("--limit", type=int, default=230, help="seconds before giving up")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(args.limit)
    started = time.perf_counter()

    try:
        import torch
        from _random_sd import build_pipeline, parameter_count
    except ImportError as exc:
        print(f"gpu_overhead: SKIP: missing dependency: {exc}")
        return 0
    if args.dry_run or not torch.cuda.is_available():
        print("gpu_overhead: no CUDA (or --dry-run): the CPU figure, small pipeline, 128x128")
        device, dtype, shape, size = "cpu", torch.float32, "medium", 128
        torch.set_num_threads(1)  # steadier on shared machines
        if args.dry_run:
            args.runs = min(args.runs, 3)
    else:
        device, dtype, shape, size = "cuda", torch.float16, "sd_turbo", 512
    try:
        from chatimg.engines.pipeline_cache import shared_cache
        from chatimg.studio import Studio
    except ImportError as exc:
        print(f"gpu_overhead: FAIL: chatimg cannot be imported: {exc}")
        return 2

    work = Path(tempfile.mkdtemp(prefix="chatimg-gpu-"))
    try:
        home = work / "home"
        os.environ["CHATIMG_HOME"] = str(home)
        os.environ["HF_HUB_OFFLINE"] = "1"
        clock = time.perf_counter()
        pipe = build_pipeline(shape, device=device, dtype=dtype)
        params = parameter_count(pipe)
        build_s = time.perf_counter() - clock
        clock = time.perf_counter()
        folder = work / "turbo"
        pipe.save_pretrained(str(folder))
        save_s = time.perf_counter() - clock
        del pipe
        if device == "cuda":
            torch.cuda.empty_cache()
            name = torch.cuda.get_device_name(0)
        else:
            name = "cpu (dry run)"
        import diffusers

        print(f"device: {name}; torch {torch.__version__}, diffusers {diffusers.__version__}")
        print(f"pipeline: {shape}, {params / 1e6:.0f}M params, {str(dtype).split('.')[-1]}, "
              f"{size}x{size}; built in {build_s:.1f} s, saved in {save_s:.1f} s")

        config = home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            "[validation]\nenabled = []\n\n[models.turbo]\nengine = \"diffusers\"\n"
            f"source = \"{folder}\"\ndevice = \"{device}\"\n"
            f"dtype = \"{str(dtype).split('.')[-1]}\"\nsteps = 1\nguidance = 0.0\n"
            f"width = {size}\nheight = {size}\n", encoding="utf-8")
        studio = Studio.open()
        loop = asyncio.new_event_loop()
        first, _ = _studio_run(studio, loop, 1, 0)
        print(f"chatimg cold load: {first.receipt_data['engine']['fetch_seconds']:.2f} s "
              f"({first.receipt_data['engine']['device']}, {first.receipt_data['engine']['dtype']})")
        (entry,) = shared_cache(studio.context).entries()
        loaded = entry.pipe

        for steps in (int(s) for s in args.steps.split(",")):
            for seed in range(3):  # warm-up both paths
                _raw_call(loaded, steps, size, seed)
                _studio_run(studio, loop, steps, seed)
            raw_t: list[float] = []
            shown_t: list[float] = []
            studio_t: list[float] = []
            engine_t: list[float] = []
            for run in range(args.runs):
                seed = 1000 + run
                clock = time.perf_counter()
                _raw_call(loaded, steps, size, seed)
                raw_t.append(time.perf_counter() - clock)
                clock = time.perf_counter()
                generation, shown_at = _studio_run(studio, loop, steps, seed)
                studio_t.append(time.perf_counter() - clock)
                shown_t.append(shown_at - clock)
                engine_t.append(generation.receipt_data["engine"]["run_seconds"])
            raw, full = statistics.median(raw_t), statistics.median(studio_t)
            shown = statistics.median(shown_t)
            inner = statistics.median(engine_t)
            print(f"\n{steps} step(s), median of {args.runs} interleaved runs ({device}):")
            print(f"  raw pipeline call:       {raw * 1000:8.1f} ms  ({raw:.3f} s/image)")
            print(f"  Studio, image shown:     {shown * 1000:8.1f} ms  (the card's image event)")
            print(f"  Studio, image stored:    {full * 1000:8.1f} ms  ({full:.3f} s/image)")
            print(f"    of which pipeline run: {inner * 1000:8.1f} ms (engine, with callbacks)")
            print(f"  to the card: added {(shown - raw) * 1000:.1f} ms; ratio {shown / raw:.3f} "
                  f"(target <= 1.05)")
            print(f"  to stored:   added {(full - raw) * 1000:.1f} ms; ratio {full / raw:.3f}")
        if device == "cuda":
            peak = torch.cuda.max_memory_allocated() / 1024**3
            print(f"\npeak CUDA memory allocated: {peak:.2f} GiB")
        loop.close()
        studio.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
