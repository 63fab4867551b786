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

CHECKS = '[validation]\nenabled = ["blank", "size", "typography"]\n'


def test_bench_on_ray_matches_the_local_executor(
        ray_app: ServedApp, config_file: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    import chatimg.validate
    from chatimg.config import load_settings
    from chatimg.studio import Studio

    config_file.write_text(CHECKS + "\n[diffusers]\nthreads = 1\n", encoding="utf-8")
    write_tiny_model_config(config_file, ray_app.folders["tiny-a"], name="tiny-a", **SIZE)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text('a kite\na boat that says "AHOY"\na bell\n', encoding="utf-8")

    def bench(executor: str) -> dict[str, Any]:
        result = run_cli(capsys, "bench", str(prompts), "-m", "tiny-a", "--seeds", "2",
                         "--executor", executor, "--concurrency", "2", "--run-id",
                         f"on-{executor}", "--json")
        assert result.code in (0, 3), result.err
        return dict(json.loads(result.out))

    def not_here(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the checks ran in the bench process")

    with monkeypatch.context() as patch:  # on Ray, the checks are a stage of Ray tasks
        patch.setattr(chatimg.validate, "validate_images", not_here)
        served = bench("ray")
    local = bench("local")
    assert len(served["results"]) == len(local["results"]) == 6
    assert served["complete"] and local["complete"]
    assert [r["status"] for r in served["results"]] == ["succeeded"] * 6
    # The same verdicts as inline checks: typography (OCR) where the prompt quotes text.
    verdicts = {(r["prompt_index"], r["seed"]): (r["cer"], r["checks_passed"])
                for r in local["results"]}
    assert {(r["prompt_index"], r["seed"]): (r["cer"], r["checks_passed"])
            for r in served["results"]} == verdicts
    assert all(cer is not None for (index, _), (cer, _) in verdicts.items() if index == 1)
    assert all(passed is not None for _, passed in verdicts.values())
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
        assert sorted(v.name for v in generation.validations) == \
            sorted(v.name for v in here[key].validations)
        assert generation.validations
        with Image.open(generation.assets[0].path) as a, \
                Image.open(here[key].assets[0].path) as b:
            assert a.tobytes() == b.tobytes(), key


def test_a_hung_replica_costs_one_timeout_and_resume_redoes_it(
        ray_app: ServedApp, config_file: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import ray

    def configure(timeout: float) -> None:
        config_file.write_text("[validation]\nenabled = []\n\n[diffusers]\nthreads = 1\n\n"
                               f"[ray]\nrequest_timeout = {timeout}\n", encoding="utf-8")
        write_tiny_model_config(config_file, ray_app.folders["tiny-a"], name="tiny-a", **SIZE)

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a kite\na boat\n", encoding="utf-8")
    command = ["bench", str(prompts), "-m", "tiny-a", "--executor", "ray", "--run-id", "hung",
               "--json"]
    configure(2)
    ray.get(ray_app.gate.close.remote())  # every run waits in its replica: hung
    try:
        hung = run_cli(capsys, *command)
    finally:
        ray.get(ray_app.gate.open.remote())
    assert hung.code == 3, hung.err
    failed = json.loads(hung.out)["results"]
    assert [r["status"] for r in failed] == ["failed", "failed"]
    assert all(r["error"].startswith("the replica did not finish within 2 s") for r in failed)
    assert all("\n" not in r["error"] for r in failed)
    configure(600)
    resumed = run_cli(capsys, *command, "--resume")
    assert resumed.code == 0, resumed.err
    report = json.loads(resumed.out)
    assert report["complete"] and report["resumed"] == 0
    assert [r["status"] for r in report["results"]] == ["succeeded", "succeeded"]
