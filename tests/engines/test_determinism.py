"""Acceptance 1 and 7: same seed → same bytes; the stored receipt alone regenerates them."""

from __future__ import annotations

from typing import Any

import pytest

from chatimg.spec import GenerationSpec


async def _hashes(studio: Any, model: str, prompt: str, seed: int, **params: Any) -> list[str]:
    outcome = await studio.generate(prompt, [model], GenerationSpec.build(seed=seed, **params),
                                    validate=False)
    (generation,) = outcome.generations
    assert generation.status == "succeeded", generation.error
    return [asset.sha256 for asset in generation.assets]


@pytest.mark.parametrize("model", ["layout", "tiny"])
async def test_same_seed_same_bytes_other_seed_differs(tiny_studio: Any, model: str) -> None:
    prompt = 'a blue poster that says "HELLO"'
    first = await _hashes(tiny_studio, model, prompt, 7)
    again = await _hashes(tiny_studio, model, prompt, 7)
    other = await _hashes(tiny_studio, model, prompt, 8)
    assert first == again
    assert first != other


async def test_two_images_get_consecutive_seeds(tiny_studio: Any) -> None:
    outcome = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=3, count=2),
                                         validate=False)
    (generation,) = outcome.generations
    assert generation.status == "succeeded", generation.error
    assert [asset.seed for asset in generation.assets] == [3, 4]
    assert generation.assets[1].sha256 != generation.assets[0].sha256


@pytest.mark.parametrize("model", ["layout", "tiny"])
async def test_regenerate_from_receipt_is_bit_exact(tiny_studio: Any, model: str) -> None:
    outcome = await tiny_studio.generate("a red fox", [model], GenerationSpec.build(seed=11),
                                         validate=False)
    (generation,) = outcome.generations
    assert generation.status == "succeeded", generation.error
    stored = [asset.sha256 for asset in generation.assets]

    import hashlib

    _, images = await tiny_studio.regenerate(generation.id)
    again = [hashlib.sha256(data).hexdigest() for data in images if data]
    assert again == stored


async def test_receipt_records_what_replay_needs(tiny_studio: Any) -> None:
    outcome = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=5),
                                         validate=False)
    receipt = outcome.generations[0].receipt_data
    engine = receipt["engine"]
    assert engine["pipeline"] == "StableDiffusionPipeline"
    assert engine["scheduler"]["class"] == "EulerDiscreteScheduler"
    assert engine["scheduler"]["config"]["timestep_spacing"] == "trailing"
    assert engine["device"] == "cpu" and engine["dtype"] == "float32"
    assert engine["torch_threads"] >= 1
    assert {"torch", "diffusers", "transformers"} <= set(receipt["environment"])
    assert receipt["model"]["version"].startswith("config-sha256:")
    assert receipt["request"]["seed"] == 5 and receipt["request"]["steps"] == 2


async def test_cpu_runs_fp32_even_when_fp16_is_asked(tiny_config: Any, tiny_sd_path: Any) -> None:
    from tests.engines.conftest import TINY_DEFAULTS, open_studio
    from tests.tiny_diffusers import write_tiny_model_config

    write_tiny_model_config(tiny_config, tiny_sd_path, name="tiny-half", dtype="float16",
                            device="cpu", **TINY_DEFAULTS)
    studio = open_studio()
    try:
        outcome = await studio.generate("a cat", ["tiny-half"], GenerationSpec.build(seed=1),
                                        validate=False)
        (generation,) = outcome.generations
        assert generation.status == "succeeded", generation.error
        engine = generation.receipt_data["engine"]
        assert (engine["device"], engine["dtype"]) == ("cpu", "float32")
        assert engine["torch_threads"] == 1  # [diffusers] threads = 1 in the test config
    finally:
        studio.close()


async def test_replay_uses_the_recorded_thread_count(tiny_config: Any) -> None:
    import hashlib

    from tests.engines.conftest import open_studio

    studio = open_studio()  # [diffusers] threads = 1
    try:
        outcome = await studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=9),
                                        validate=False)
        (generation,) = outcome.generations
        assert generation.receipt_data["engine"]["torch_threads"] == 1
    finally:
        studio.close()
    text = tiny_config.read_text(encoding="utf-8")
    tiny_config.write_text(text.replace("threads = 1", "threads = 2"), encoding="utf-8")
    studio = open_studio()
    try:
        assert studio.get_generation(generation.id).receipt.options == {"threads": 1}
        _, images = await studio.regenerate(generation.id)
        again = [hashlib.sha256(data).hexdigest() for data in images if data]
        assert again == [asset.sha256 for asset in generation.assets]
    finally:
        studio.close()
