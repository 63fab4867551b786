"""The card actions as Studio calls (vary, upscale, edit, rerun, describe): each one call, each a
new message in the source's thread, linked to the image it started from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chatimg.errors import InvalidRequestError
from chatimg.spec import GenerationSpec


async def _first(studio: Any, count: int = 1) -> Any:
    outcome = await studio.generate("a lighthouse", ["tiny"],
                                    GenerationSpec.build(seed=3, count=count), validate=False)
    (generation,) = outcome.generations
    assert generation.status == "succeeded", generation.error
    return generation


async def test_vary_uses_the_chosen_image_and_stays_in_the_thread(tiny_studio: Any) -> None:
    first = await _first(tiny_studio, count=2)
    outcome = await tiny_studio.vary(first.id, image=1, strength=0.5)
    (varied,) = outcome.generations
    assert varied.status == "succeeded", varied.error
    assert varied.params["source_asset"] == first.assets[1].sha256
    source_message = tiny_studio.repo.get_message(first.message_id)
    assert outcome.message.conversation_id == source_message.conversation_id
    assert outcome.message.parent_id == first.message_id


async def test_edit_with_a_mask_file(tiny_studio: Any, tmp_path: Path) -> None:
    first = await _first(tiny_studio)
    mask = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask)
    (edited,) = (await tiny_studio.edit(first.id, str(mask))).generations
    assert edited.status == "succeeded", edited.error
    assert edited.params["source_asset"] == first.assets[0].sha256
    assert "mask_asset" in edited.params


async def test_rerun_same_seed_gives_the_same_image(tiny_studio: Any) -> None:
    first = await _first(tiny_studio)
    (again,) = (await tiny_studio.rerun(first.id)).generations
    assert again.assets[0].sha256 == first.assets[0].sha256
    (other,) = (await tiny_studio.rerun(first.id, new_seed=True)).generations
    assert other.status == "succeeded"
    assert other.assets[0].seed != first.assets[0].seed


async def test_bad_image_index_and_strength_are_one_line_errors(tiny_studio: Any) -> None:
    first = await _first(tiny_studio)
    with pytest.raises(InvalidRequestError, match="no image 3"):
        await tiny_studio.vary(first.id, image=2)
    with pytest.raises(InvalidRequestError, match="strength"):
        await tiny_studio.vary(first.id, strength=1.5)
