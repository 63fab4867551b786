"""Domain logic of comparisons: loading, parameter diff, difference images and similarity."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from chatimg.compare import (
    continue_params,
    dhash_distance,
    difference_image,
    load_comparison,
    load_image,
    similarity_scores,
    ssim,
    winners_by_generation,
)
from chatimg.errors import InvalidRequestError, NotFoundError
from tests.compare.conftest import MODELS, fan_out


def _picture(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    image = Image.new("RGB", size, (seed * 40 % 255, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((seed % 20, 5, 30 + seed % 20, 35), fill=(240, 240, 240))
    return image


def test_ssim_is_one_for_identical_and_lower_for_different_images() -> None:
    a = _picture(1)
    assert ssim(a, a.copy()) == 1.0
    assert dhash_distance(a, a.copy()) == 0
    other = _picture(7)
    score = ssim(a, other)
    assert -1.0 <= score < 0.99
    assert score == pytest.approx(ssim(other, a))
    # A little noise lowers SSIM a little; a different picture lowers it more.
    noisy = a.copy()
    noisy.putpixel((10, 10), (0, 0, 0))
    assert score < ssim(a, noisy) < 1.0


def test_difference_image_is_black_only_for_identical_images_and_resizes() -> None:
    a, b = _picture(1), _picture(3)
    assert difference_image(a, a.copy()).getbbox() is None
    assert difference_image(a, b).getbbox() is not None
    bigger = a.resize((128, 96))
    diff = difference_image(a, bigger)
    assert diff.size == a.size  # the larger one is brought down to the smaller
    assert ssim(a, bigger) > 0.8


async def test_same_model_and_seed_are_identical_other_seeds_are_not(cstudio) -> None:
    first = await fan_out(cstudio, ["layout-a"], seed=11)
    conversation = first.message.conversation_id
    again = await fan_out(cstudio, ["layout-a"], seed=11, conversation_id=conversation)
    other = await fan_out(cstudio, ["layout-a"], seed=12, conversation_id=conversation)
    ids = [first.generations[0].id, again.generations[0].id, other.generations[0].id]
    comparison = load_comparison(cstudio, ids)
    images = [load_image(item) for item in comparison.items]
    assert images[0] and images[1] and images[2]
    assert difference_image(images[0], images[1]).getextrema() == ((0, 0), (0, 0), (0, 0))
    assert difference_image(images[0], images[2]).getbbox() is not None
    same, first_vs_other, _ = similarity_scores(comparison, images)
    assert (same.ssim, same.dhash_distance) == (1.0, 0)
    assert first_vs_other.ssim is not None and first_vs_other.ssim < 1.0


async def test_parameter_table_separates_shared_and_differing(cstudio) -> None:
    outcome = await fan_out(cstudio, MODELS)
    comparison = load_comparison(cstudio, [g.id for g in outcome.generations])
    differing = {row.key: row.values for row in comparison.differing_rows()}
    shared = {row.key: row.values[0] for row in comparison.shared_rows()}
    assert differing["model"] == ("layout-a", "layout-b", "layout-c")
    assert differing["size"] == ("96x96", "128x96", "96x128")
    assert differing["cost"] == ("~$0", "~$0.02", "~$0")
    assert shared["seed"] == "5"
    assert shared["version"] == "layout-2"
    assert "latency" in shared  # pinned by the fixture


async def test_unknown_ids_mixed_conversations_and_counts_are_refused(cstudio) -> None:
    one = await fan_out(cstudio, ["layout-a", "layout-b"])
    two = await fan_out(cstudio, ["layout-a"])
    ids = [g.id for g in one.generations]
    with pytest.raises(NotFoundError, match="no generation with id 'nope'"):
        load_comparison(cstudio, [ids[0], "nope"])
    with pytest.raises(InvalidRequestError, match="2 conversations"):
        load_comparison(cstudio, [ids[0], two.generations[0].id])
    with pytest.raises(InvalidRequestError, match="2 to 4"):
        load_comparison(cstudio, ids[:1])
    with pytest.raises(InvalidRequestError, match="listed twice"):
        load_comparison(cstudio, [ids[0], ids[0]])


async def test_failed_and_missing_generations_are_items_not_crashes(cstudio) -> None:
    outcome = await fan_out(cstudio, ["layout-a", "layout-b", "no-such-model"])
    ok, gone, failed = outcome.generations
    Path(gone.assets[0].path).unlink()
    comparison = load_comparison(cstudio, [ok.id, gone.id, failed.id])
    states = [(item.state, item.note) for item in comparison.items]
    assert states[0] == ("ok", "")
    assert states[1] == ("missing", "missing")
    assert states[2][0] == "failed" and "no-such-model" in states[2][1]
    scores = similarity_scores(comparison)
    assert [s.short() for s in scores] == ["n/a", "n/a", "n/a"]


async def test_continue_params_and_winner_counts(cstudio) -> None:
    outcome = await fan_out(cstudio, MODELS, seed=42)
    generation = outcome.generations[1]
    result = continue_params(generation)
    assert result["model"] == "layout-b"
    assert result["seed"] == 42
    assert result["params"]["width"] == 128 and result["params"]["height"] == 96
    assert result["params"]["seed"] == 42  # the spec that ran, as stored
    ids = [g.id for g in outcome.generations]
    cstudio.add_pick(ids, ids[1])
    cstudio.add_pick(ids, ids[1])
    cstudio.add_pick(ids[:2], ids[0])
    thread = cstudio.load_thread(outcome.message.conversation_id)
    assert winners_by_generation(thread) == {ids[1]: 2, ids[0]: 1}


async def test_message_compare_ids_takes_a_fanned_out_message(cstudio) -> None:
    from chatimg.compare import message_compare_ids

    outcome = await fan_out(cstudio, [*MODELS, "layout", "no-such-model"])
    thread = cstudio.load_thread(outcome.message.conversation_id)
    (message,) = thread.messages
    chosen = message_compare_ids(message)
    assert len(chosen) == 4
    assert all(g.status == "succeeded" for g in cstudio.get_generations(chosen))
    single = await fan_out(cstudio, ["layout-a"])
    lone = cstudio.load_thread(single.message.conversation_id).messages[0]
    with pytest.raises(InvalidRequestError, match="fewer than two"):
        message_compare_ids(lone)
