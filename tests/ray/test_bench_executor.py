"""``chatimg bench --executor ray``: the same results as the local executor, made by replicas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import run_cli
from tests.ray.conftest import RAY_TESTS, SIZE, ServedApp
from tests.tiny_diffusers import write_tiny_model_config

pytestmark = RAY_TESTS


def test_bench_on_ray_matches_the_local_executor(
        ray_app: ServedApp, config_file: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from chatimg.config import load_settings
    from chatimg.studio import Studio

    config_file.write_text("[validation]\nenabled = []\n\n[diffusers]\nthreads = 1\n",
                           encoding="utf-8")
    write_tiny_model_config(config_file, ray_app.folders["tiny-a"], name="tiny-a", **SIZE)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a kite\na boat\na bell\n", encoding="utf-8")

    def bench(executor: str) -> dict[str, Any]:
        result = run_cli(capsys, "bench", str(prompts), "-m", "tiny-a", "--seeds", "2",
                         "--executor", executor, "--concurrency", "2", "--run-id",
                         f"on-{executor}", "--json")
        assert result.code == 0, result.err
        return dict(json.loads(result.out))

    served, local = bench("ray"), bench("local")
    assert len(served["results"]) == len(local["results"]) == 6
    assert served["complete"] and local["complete"]
    studio = Studio.open(load_settings())
    try:
        def made(report: dict[str, Any]) -> dict[tuple[int, int], Any]:
            ids = [r["generation_id"] for r in report["results"]]
            found = {g.id: g for g in studio.get_generations(ids)}
            return {(r["prompt_index"], r["seed"]): found[r["generation_id"]]
                    for r in report["results"]}

        on_ray, here = made(served), made(local)
    finally:
        studio.close()
    assert set(on_ray) == set(here)
    for key, generation in on_ray.items():
        assert generation.receipt.engine["ray"]["deployment"] == "family-diffusers"
        assert "ray" not in here[key].receipt.engine
        with Image.open(generation.assets[0].path) as a, \
                Image.open(here[key].assets[0].path) as b:
            assert a.tobytes() == b.tobytes(), key
