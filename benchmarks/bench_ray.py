"""Ray Serve: per-request overhead of the ``ray`` engine, and bench throughput per executor.

All in one run, on this machine's CPUs, with tiny random-weight pipelines (tests/tiny_diffusers):

1. Overhead: ``Studio.generate`` on the local diffusers engine vs the same spec through
   ``engine = "ray"`` (HTTP to a local Serve app whose one replica runs the same pipeline),
   interleaved, medians compared (target: ray - local <= 50 ms).
2. Throughput of ``chatimg bench`` over N tiny generations (default 400): ``--executor local``,
   then ``--executor ray`` with 1 replica and with 2 replicas (each replica 1 CPU, 1 torch
   thread), each after a warm-up bench of 8 (imports and weights loaded on every replica, as
   in the local process). Targets: 2 replicas >= 1.5x of 1 replica; 1 replica >= 0.8x of
   local. Two replicas need two free cores: on a shared 2-core machine the ratio shows the
   contention (the load average is printed before and after).

Ray starts its worker processes at nice 15; here they run at nice 0 (``RAY_worker_niceness``)
like the local engine, so a busy machine does not starve only one side of the comparison.

Run: ``.venv/bin/python benchmarks/bench_ray.py [--runs 30] [--count 400]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-ray-token-0123456789abcdef"
SIZE = {"steps": 2, "width": 64, "height": 64, "guidance": 5.0}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _settings(folder: Path, port: int, replicas: int = 1) -> Any:
    from chatimg.config import load_settings

    return load_settings(
        models={"tiny": {"engine": "diffusers", "source": str(folder), **SIZE},
                "tiny-ray": {"engine": "ray", "url": f"http://127.0.0.1:{port}/chatimg",
                             "model": "tiny", **SIZE}},
        diffusers={"threads": 1}, validation={"enabled": []},
        ray={"port": port, "num_cpus": 1, "min_replicas": replicas, "max_replicas": replicas},
        keys={"ray": TOKEN})


async def overhead(settings: Any, runs: int) -> tuple[float, float]:
    """Median seconds of a local and a served generation (interleaved)."""
    from chatimg.spec import GenerationSpec
    from chatimg.studio import Studio

    studio = Studio.open(settings)
    times: dict[str, list[float]] = {"tiny": [], "tiny-ray": []}
    try:
        for index in range(runs + 3):
            for model, bucket in times.items():
                spec = GenerationSpec.build(seed=index, **SIZE)
                started = time.perf_counter()
                outcome = await studio.generate("a lighthouse", [model], spec)
                elapsed = time.perf_counter() - started
                assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
                if index >= 3:  # loads and first calls left out
                    bucket.append(elapsed)
    finally:
        await studio.aclose()
    return statistics.median(times["tiny"]), statistics.median(times["tiny-ray"])


def throughput(settings: Any, prompts: Path, count: int, executor: str) -> float:
    """Generations per second of a bench of ``count`` tiny generations."""
    from chatimg.benchrun import load_prompts, run_bench
    from chatimg.studio import Studio

    studio = Studio.open(settings)
    attached = None
    if executor == "ray":
        from chatimg.rayserve.bench import attach

        attached = attach(studio, ["tiny"])
    try:
        prompt_set = load_prompts(str(prompts))
        seeds = max(1, count // len(prompt_set.prompts))
        # Warm both sides alike (imports, weights on every replica): steady-state throughput.
        asyncio.run(run_bench(studio, load_prompts(str(prompts.with_name("warm.txt"))),
                              ["tiny"], 1, concurrency=4))
        started = time.perf_counter()
        report = asyncio.run(run_bench(studio, prompt_set, ["tiny"], seeds, concurrency=4))
        elapsed = time.perf_counter() - started
        assert all(i.status == "succeeded" for i in report.items)
        return len(report.items) / elapsed
    finally:
        asyncio.run(studio.close_engines())
        studio.close()
        if attached is not None:
            attached.detach()


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--count", type=int, default=400)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="chatimg-bench-ray-"))
    os.environ["CHATIMG_HOME"] = str(home)
    os.environ["CHATIMG_RAY_TOKEN"] = TOKEN
    os.environ["RAY_worker_niceness"] = "0"  # noqa: SIM112 (Ray reads this exact name)
    import ray

    from chatimg.rayserve.server import start, stop
    from tests.tiny_diffusers import build_tiny_sd_pipeline, save_pipeline

    folder = save_pipeline(build_tiny_sd_pipeline(), home / "tiny")
    prompts = home / "prompts.txt"
    prompts.write_text("".join(f"a poster, number {n}\n" for n in range(20)), encoding="utf-8")
    prompts.with_name("warm.txt").write_text(
        "".join(f"a warm-up poster {n}\n" for n in range(8)), encoding="utf-8")
    print(f"load average at the start: {_load()}")
    port = _free_port()
    ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False)
    try:
        start(_settings(folder, port))
        local, served = asyncio.run(overhead(_settings(folder, port), args.runs))
        stop()
        print(f"1. per-request overhead ({args.runs} interleaved runs, tiny pipeline, CPU):")
        print(f"   local diffusers median {local * 1000:.1f} ms, ray engine median "
              f"{served * 1000:.1f} ms: overhead {(served - local) * 1000:+.1f} ms "
              f"(target <= 50 ms), ratio {served / local:.2f}x")
        rates = {"local": throughput(_settings(folder, port), prompts, args.count, "local")}
        for replicas in (1, 2):
            rates[f"ray x{replicas}"] = throughput(_settings(folder, port, replicas), prompts,
                                                   args.count, "ray")
        print(f"2. bench of {args.count} tiny generations, concurrency 4, "
              f"{os.cpu_count()} CPUs here:")
        for name, rate in rates.items():
            print(f"   {name:8} {rate:6.2f} generations/s")
        print(f"   2 replicas / 1 replica: {rates['ray x2'] / rates['ray x1']:.2f}x "
              f"(target >= 1.5x); 1 replica / local: {rates['ray x1'] / rates['local']:.2f}x "
              f"(target >= 0.8x)")
        print(f"load average at the end: {_load()} ({os.cpu_count()} CPUs; other work on the "
              "machine shifts every figure)")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
