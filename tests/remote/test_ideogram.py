"""Ideogram against a fake server: legacy JSON, v3 multipart, remix, edit, upscale, describe."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from chatimg.errors import InvalidRequestError
from chatimg.spec import GenerationSpec
from tests.remote.conftest import KEYS, assert_no_secret
from tests.remote.fakeserver import FakeServer, Recorded, Reply, png

KEY = KEYS["IDEOGRAM_API_KEY"]


def ideogram_reply(server: FakeServer, items: list[dict]) -> Reply:
    """A GenerateImageResponse whose image links point at the fake server."""
    data = []
    for index, item in enumerate(items):
        entry = {"prompt": item.get("prompt", "a revised prompt"), "resolution": "1024x1024",
                 "is_image_safe": item.get("safe", True), "seed": item.get("seed", 100 + index),
                 "style_type": "GENERAL"}
        if item.get("safe", True):
            path = f"/api/images/ephemeral/img{index}.png"
            server.route("GET", path, Reply(200, item.get("bytes", png()),
                                            {"Content-Type": "image/png"}))
            entry["url"] = f"{server.url}{path}?exp=1743867804&sig=abc"
        else:
            entry["url"] = None
        data.append(entry)
    return Reply(200, {"created": "2026-11-26T10:00:00.000000+00:00", "data": data})


def source_files(tmp_path: Path) -> tuple[Path, Path]:
    from PIL import Image

    source = tmp_path / "source.png"
    source.write_bytes(png(64, 64, (10, 120, 200)))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))  # left half white = repaint
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    mask_path = tmp_path / "mask.png"
    mask_path.write_bytes(buffer.getvalue())
    return source, mask_path


async def test_legacy_generate_round_trip(remote_env, make_studio, home, caplog) -> None:
    server = remote_env
    server.route("POST", "/generate", ideogram_reply(server, [
        {"seed": 42, "prompt": "A poster that says HELLO, bold type"}, {"seed": 43}]))
    studio = await make_studio()
    outcome = await studio.generate(
        'a poster that says "HELLO"', ["ideogram-v2-turbo"],
        GenerationSpec.build(seed=42, width=1280, height=720, count=2, negative_prompt="blurry"))
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    [sent] = server.hits("POST", "/generate")
    assert sent.headers["api-key"] == KEY
    assert sent.content_type.startswith("application/json")
    assert sent.json() == {"image_request": {
        "prompt": 'a poster that says "HELLO"', "model": "V_2_TURBO", "num_images": 2,
        "seed": 42, "negative_prompt": "blurry", "resolution": "RESOLUTION_1280_720"}}
    assert [a.seed for a in generation.assets] == [42, 43]
    assert generation.assets[0].revised_prompt == "A poster that says HELLO, bold type"
    assert generation.receipt_data["images"][0]["requested_resolution"] == "RESOLUTION_1280_720"
    assert generation.receipt_data["note"] == "non-deterministic provider"
    assert generation.cost_usd == pytest.approx(0.10)
    downloads = [r for r in server.requests if r.path.startswith("/api/images/")]
    assert len(downloads) == 2 and all("api-key" not in r.headers for r in downloads)
    assert_no_secret(home, caplog, generation.error)


async def test_sizes_map_to_nearest_aspect_ratio(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", "/generate", ideogram_reply(server, [{}]))
    studio = await make_studio()
    outcome = await studio.generate("a fox", ["ideogram-v2a"],
                                    GenerationSpec.build(width=1000, height=600))
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    body = server.hits("POST", "/generate")[0].json()["image_request"]
    assert body["model"] == "V_2A"
    assert body["aspect_ratio"] == "ASPECT_16_10" and "resolution" not in body
    assert "negative_prompt" not in body
    assert generation.receipt_data["images"][0]["aspect_ratio"] == "ASPECT_16_10"
    refused = await studio.generate("a fox", ["ideogram-v2a"],
                                    GenerationSpec.build(negative_prompt="blurry"))
    assert refused.generations[0].status == "failed"
    assert "negative prompt" in refused.generations[0].error


async def test_v3_generate_is_multipart_with_speed(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", "/v1/ideogram-v3/generate", ideogram_reply(server, [{"seed": 7}]))
    studio = await make_studio()
    outcome = await studio.generate(
        "a lighthouse", ["ideogram-v3"],
        GenerationSpec.build(seed=7, width=1024, height=1024), options={"speed": "quality"})
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    [sent] = server.hits("POST", "/v1/ideogram-v3/generate")
    assert sent.content_type.startswith("multipart/form-data")
    assert sent.headers["api-key"] == KEY
    form = sent.form()
    assert {name: part.text for name, part in form.items()} == {
        "prompt": "a lighthouse", "num_images": "1", "seed": "7", "resolution": "1024x1024",
        "rendering_speed": "QUALITY"}
    assert all(part.filename is None for part in form.values())
    assert generation.cost_usd == pytest.approx(0.09)
    assert generation.receipt_data["engine"]["rendering_speed"] == "QUALITY"


async def test_safety_filtered_image_is_recorded_and_costed(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", "/generate", ideogram_reply(server, [{}, {"safe": False}]))
    studio = await make_studio()
    outcome = await studio.generate("a cat", ["ideogram-v2"], GenerationSpec.build(count=2))
    generation = outcome.generations[0]
    assert generation.status == "succeeded"
    assert len(generation.assets) == 1
    assert [bool(i.get("safety_filtered")) for i in generation.receipt_data["images"]] == [False, True]
    assert generation.cost_usd == pytest.approx(0.16)

    server.route("POST", "/generate", ideogram_reply(server, [{"safe": False}]))
    blocked = (await studio.generate("a cat", ["ideogram-v2"])).generations[0]
    assert blocked.status == "failed"
    assert "safety filter" in blocked.error
    assert blocked.cost_usd == pytest.approx(0.08)


async def test_remix_sends_image_request_json_and_file(remote_env, make_studio, tmp_path) -> None:
    server = remote_env
    server.route("POST", "/remix", ideogram_reply(server, [{}]))
    source, _ = source_files(tmp_path)
    studio = await make_studio()
    outcome = await studio.generate("make it autumn", ["ideogram-v2"], GenerationSpec.build(
        source=str(source), strength=0.7, seed=5))
    assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
    [sent] = server.hits("POST", "/remix")
    form = sent.form()
    assert set(form) == {"image_request", "image_file"}
    assert json.loads(form["image_request"].text) == {
        "prompt": "make it autumn", "model": "V_2", "num_images": 1, "seed": 5,
        "image_weight": 30}
    assert form["image_file"].filename and form["image_file"].data == source.read_bytes()


async def test_edit_sends_flat_fields_and_black_mask(remote_env, make_studio, tmp_path) -> None:
    from PIL import Image

    server = remote_env
    server.route("POST", "/edit", ideogram_reply(server, [{}]))
    source, mask = source_files(tmp_path)
    studio = await make_studio()
    outcome = await studio.generate("add a moon", ["ideogram-v2-turbo"], GenerationSpec.build(
        source=str(source), mask=str(mask), seed=9))
    assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
    form = server.hits("POST", "/edit")[0].form()
    assert {"image_file", "mask", "prompt", "model", "num_images", "seed"} <= set(form)
    assert "image_request" not in form
    assert form["model"].text == "V_2_TURBO" and form["prompt"].text == "add a moon"
    sent_mask = Image.open(io.BytesIO(form["mask"].data)).convert("L")
    assert sent_mask.size == (64, 64)
    assert sent_mask.getpixel((5, 5)) == 0 and sent_mask.getpixel((60, 5)) == 255


async def test_upscale_and_describe(remote_env, make_studio, tmp_path) -> None:
    server = remote_env
    server.route("POST", "/upscale", ideogram_reply(server, [{}]))
    server.route("POST", "/describe", Reply(200, {"descriptions": [{"text": "A blue square."}]}))
    source, _ = source_files(tmp_path)
    studio = await make_studio()
    outcome = await studio.generate("crisper", ["ideogram-v2"], GenerationSpec.build(
        source=str(source), upscale=2.0))
    assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
    form = server.hits("POST", "/upscale")[0].form()
    assert set(form) == {"image_request", "image_file"}
    assert json.loads(form["image_request"].text)["prompt"] == "crisper"
    assert studio.engine("ideogram-v2").info.capabilities.describe
    assert await studio.describe(str(source), "ideogram-v2") == "A blue square."
    with pytest.raises(InvalidRequestError, match="cannot describe"):
        await studio.describe(str(source), "gpt-image-2")
    sent: Recorded = server.hits("POST", "/describe")[0]
    assert sent.form()["image_file"].data == source.read_bytes()
    assert sent.headers["api-key"] == KEY


async def test_v3_remix_and_failures(remote_env, make_studio, tmp_path) -> None:
    server = remote_env
    server.route("POST", "/v1/ideogram-v3/remix", ideogram_reply(server, [{}]))
    source, _ = source_files(tmp_path)
    studio = await make_studio()
    outcome = await studio.generate("in winter", ["ideogram-v3-turbo"], GenerationSpec.build(
        source=str(source), strength=0.25, width=1920, height=1080))
    assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
    form = server.hits("POST", "/v1/ideogram-v3/remix")[0].form()
    assert form["image"].data == source.read_bytes() and form["image"].filename
    assert (form["image_weight"].text, form["rendering_speed"].text,
            form["aspect_ratio"].text) == ("75", "TURBO", "16x9")
    server.route("POST", "/generate", Reply(422, {
        "error": "Prompt provided failed safety check due to the inclusion of prohibited "
                 "content."}))
    refused = (await studio.generate("x", ["ideogram-v2"])).generations[0]
    assert refused.status == "failed" and "safety" in refused.error
    assert refused.cost_usd is None
    server.route("POST", "/generate", Reply(402, {"error": "Insufficient balance",
                                                 "reject_reason": "insufficient_funds"}))
    broke = (await studio.generate("x", ["ideogram-v2"])).generations[0]
    assert "402" in broke.error and "insufficient_funds" in broke.error
    assert len(server.hits("POST", "/generate")) == 2  # neither is retried
