"""Acceptance 4: A → B → A reuses the cached A; least recently used pipelines are evicted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatimg.engines.pipeline_cache import LoadedPipeline, PipelineCache, shared_cache
from chatimg.spec import GenerationSpec
from tests.engines.conftest import TINY_DEFAULTS, open_studio
from tests.tiny_diffusers import write_tiny_model_config


async def _cache_state(studio: Any, model: str) -> str:
    outcome = await studio.generate("a cat", [model], GenerationSpec.build(seed=1), validate=False)
    (generation,) = outcome.generations
    assert generation.status == "succeeded", generation.error
    return str(generation.receipt_data["engine"]["cache"])


async def test_switch_back_comes_from_cache(tiny_config: Path, tiny_copy: Path) -> None:
    write_tiny_model_config(tiny_config, tiny_copy, name="tiny-b", **TINY_DEFAULTS)
    studio = open_studio()
    try:
        states = [await _cache_state(studio, model) for model in ("tiny", "tiny-b", "tiny")]
        cache = shared_cache(studio.context)
        assert states == ["load", "load", "hit"]
        assert (cache.stats.loads, cache.stats.hits, cache.stats.evictions) == (2, 1, 0)
        # Both engines share one cache (the context's), whichever instance asks.
        assert studio.engine("tiny").context.shared is studio.engine("tiny-b").context.shared
    finally:
        studio.close()


async def test_lru_eviction_over_budget(tiny_config: Path, tiny_copy: Path) -> None:
    text = tiny_config.read_text(encoding="utf-8")
    budget = "[diffusers]\nmemory_budget_gb = 1e-6\n"
    tiny_config.write_text(text.replace("[diffusers]\n", budget), encoding="utf-8")
    write_tiny_model_config(tiny_config, tiny_copy, name="tiny-b", **TINY_DEFAULTS)
    studio = open_studio()
    try:
        states = [await _cache_state(studio, model) for model in ("tiny", "tiny-b", "tiny")]
        cache = shared_cache(studio.context)
        assert states == ["load", "load", "load"]
        assert cache.stats.evictions == 2
        assert len(cache.keys()) == 1  # the newest stays, even alone over budget
    finally:
        studio.close()


def _entry(size: int) -> LoadedPipeline:
    return LoadedPipeline(pipe=object(), size_bytes=size, load_seconds=0.0, device="cpu",
                          dtype="float32")


def test_cache_evicts_least_recently_used_first() -> None:
    cache = PipelineCache(budget_bytes=250)
    cache.get_or_load("a", lambda: _entry(100))
    cache.get_or_load("b", lambda: _entry(100))
    cache.get_or_load("a", lambda: _entry(100))  # a is now the most recent
    cache.get_or_load("c", lambda: _entry(100))  # over budget: b goes, not a
    assert cache.keys() == ["a", "c"]
    assert (cache.stats.loads, cache.stats.hits, cache.stats.evictions) == (3, 1, 1)
    assert cache.total_bytes == 200


def test_cache_makes_room_before_loading_when_size_is_known() -> None:
    cache = PipelineCache(budget_bytes=250)
    cache.get_or_load("a", lambda: _entry(100))
    cache.get_or_load("b", lambda: _entry(100))
    seen_during_load: list[list[object]] = []

    def load_c() -> LoadedPipeline:
        seen_during_load.append(cache.keys())
        return _entry(100)

    cache.get_or_load("c", load_c, expected_bytes=100)
    assert seen_during_load == [["b"]]  # a was gone before c started loading
    assert cache.keys() == ["b", "c"]


async def test_two_local_models_fan_out_together(tiny_config: Path, tiny_copy: Path) -> None:
    write_tiny_model_config(tiny_config, tiny_copy, name="tiny-b", **TINY_DEFAULTS)
    studio = open_studio()
    try:
        outcome = await studio.generate("a cat", ["tiny", "tiny-b"], GenerationSpec.build(seed=1),
                                        validate=False)
        assert [g.status for g in outcome.generations] == ["succeeded", "succeeded"]
        # Same weights and seed: the same pixels, whichever ran first (the files differ only in
        # the PNG text chunk that names the model).
        import numpy as np
        from PIL import Image

        first, second = (np.asarray(Image.open(g.assets[0].path)) for g in outcome.generations)
        assert np.array_equal(first, second)
    finally:
        studio.close()
