"""Acceptance 2: a tiny SD folder from config does txt2img, img2img, inpaint (and x4 upscale);
schedulers are chosen by class name."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from chatimg.spec import GenerationSpec
from tests.engines.conftest import open_studio
from tests.tiny_diffusers import write_tiny_model_config


async def _run(studio: Any, prompt: str, model: str = "tiny", **params: Any) -> Any:
    outcome = await studio.generate(prompt, [model], GenerationSpec.build(**params), validate=False)
    (generation,) = outcome.generations
    return generation


def _mask_file(path: Path, size: tuple[int, int]) -> Path:
    mask = Image.new("L", size, 0)
    mask.paste(255, (0, 0, size[0] // 2, size[1]))
    mask.save(path)
    return path


async def test_txt2img_img2img_inpaint_from_one_loaded_model(tiny_studio: Any,
                                                               tmp_path: Path) -> None:
    first = await _run(tiny_studio, "a lighthouse", seed=1)
    assert first.status == "succeeded", first.error
    (source,) = first.assets
    assert (source.width, source.height) == (64, 64)

    varied = await _run(tiny_studio, "a lighthouse at dusk", seed=1, source=source.sha256,
                        strength=0.5, steps=4)
    assert varied.status == "succeeded", varied.error
    assert varied.receipt_data["engine"]["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert varied.receipt_data["request"]["source_asset"] == source.sha256
    assert varied.assets[0].sha256 != source.sha256

    mask = _mask_file(tmp_path / "mask.png", (64, 64))
    painted = await _run(tiny_studio, "a boat", seed=1, source=source.sha256, mask=str(mask),
                         strength=1.0)
    assert painted.status == "succeeded", painted.error
    assert painted.receipt_data["engine"]["pipeline"] == "StableDiffusionInpaintPipeline"
    assert "mask_asset" in painted.receipt_data["request"]
    assert painted.receipt_data["engine"]["cache"] == "hit"  # one load for all three modes

    from chatimg.engines.pipeline_cache import shared_cache

    cache = shared_cache(tiny_studio.context)
    assert cache.stats.loads == 1
    (entry,) = cache.entries()
    assert entry.variants["img2img"].unet is entry.pipe.unet
    assert entry.variants["inpaint"].unet is entry.pipe.unet


async def test_scheduler_by_name_changes_output(tiny_studio: Any) -> None:
    euler = await _run(tiny_studio, "a tree", seed=2, steps=3)
    ddim = await _run(tiny_studio, "a tree", seed=2, steps=3, scheduler="DDIMScheduler")
    assert euler.status == ddim.status == "succeeded", (euler.error, ddim.error)
    assert ddim.receipt_data["engine"]["scheduler"]["class"] == "DDIMScheduler"
    assert euler.assets[0].sha256 != ddim.assets[0].sha256
    # Once loaded, the model lists its schedulers.
    schedulers = tiny_studio.engine("tiny").info.capabilities.schedulers
    assert "DDIMScheduler" in schedulers and "EulerDiscreteScheduler" in schedulers


async def test_unknown_scheduler_is_one_line_listing_valid_names(tiny_studio: Any) -> None:
    generation = await _run(tiny_studio, "a tree", seed=2, scheduler="WarpDriveScheduler")
    assert generation.status == "failed"
    assert "\n" not in generation.error
    assert "unknown scheduler 'WarpDriveScheduler'" in generation.error
    assert "DDIMScheduler" in generation.error and "EulerDiscreteScheduler" in generation.error
    assert generation.assets == ()


async def test_x4_upscaler_quadruples_the_source(tiny_config: Path, tiny_upscaler_path: Path,
                                                 tmp_path: Path) -> None:
    write_tiny_model_config(tiny_config, tiny_upscaler_path, name="tiny-x4", steps=2)
    studio = open_studio()
    try:
        source = tmp_path / "small.png"
        Image.new("RGB", (32, 24), (200, 40, 40)).save(source)
        listing = studio.catalog.listing("tiny-x4")
        assert listing.info is not None and listing.info.capabilities.upscale
        assert not listing.info.capabilities.txt2img
        seen: list[int] = []
        outcome = await studio.generate(
            "", ["tiny-x4"], GenerationSpec.build(seed=1, source=str(source), upscale=4),
            validate=False,
            on_event=lambda e: e.progress and e.progress.total and seen.append(e.progress.step),
        )
        (generation,) = outcome.generations
        assert generation.status == "succeeded", generation.error
        assert (generation.assets[0].width, generation.assets[0].height) == (128, 96)
        assert generation.receipt_data["engine"]["pipeline"] == "StableDiffusionUpscalePipeline"
        assert seen == [1, 2]
        data = Path(generation.assets[0].path).read_bytes()
        assert Image.open(io.BytesIO(data)).size == (128, 96)
    finally:
        studio.close()


async def test_x4_upscaler_cancel_through_legacy_callback(
    tiny_config: Path, tiny_upscaler_path: Path, tmp_path: Path
) -> None:
    from chatimg.engines.base import CancelToken

    write_tiny_model_config(tiny_config, tiny_upscaler_path, name="tiny-x4", steps=4)
    studio = open_studio()
    try:
        source = tmp_path / "small.png"
        Image.new("RGB", (16, 16), (20, 40, 200)).save(source)
        cancel = CancelToken()
        seen: list[int] = []

        def on_event(event: Any) -> None:
            if event.progress is not None and event.progress.total:  # a denoising step
                seen.append(event.progress.step)
                cancel.cancel()

        outcome = await studio.generate(
            "", ["tiny-x4"], GenerationSpec.build(seed=1, source=str(source), upscale=4),
            validate=False, on_event=on_event, cancel=cancel,
        )
        assert outcome.generations[0].status == "cancelled"
        assert seen == [1]
    finally:
        studio.close()
