"""OpenAI Images (and compatible servers) and Google (Gemini, Imagen) against fake servers."""

from __future__ import annotations

import base64
import io

from chatimg.spec import GenerationSpec
from tests.remote.conftest import KEYS, assert_no_secret
from tests.remote.fakeserver import Reply, png
from tests.remote.test_ideogram import source_files


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_openai_generation_round_trip(remote_env, make_studio, home, caplog) -> None:
    server = remote_env
    server.route("GET", "/files/second.png", Reply(200, png(32, 32), {"Content-Type": "image/png"}))
    server.route("POST", "/v1/images/generations", Reply(200, {
        "created": 1713833628,
        "data": [{"b64_json": b64(png()), "revised_prompt": "A red fox, watercolour"},
                 {"url": f"{server.url}/files/second.png"}],
        "usage": {"input_tokens": 50, "output_tokens": 4000, "total_tokens": 4050},
        "size": "1536x1024", "quality": "high"}))
    studio = await make_studio()
    outcome = await studio.generate("a red fox", ["gpt-image-2"], GenerationSpec.build(
        width=1500, height=1000, count=2), options={"quality": "high"})
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    [sent] = server.hits("POST", "/v1/images/generations")
    assert sent.headers["authorization"] == f"Bearer {KEYS['OPENAI_API_KEY']}"
    assert sent.content_type.startswith("application/json")
    assert sent.json() == {"model": "gpt-image-2", "prompt": "a red fox", "n": 2,
                           "size": "1504x1008", "quality": "high"}
    assert len(generation.assets) == 2
    assert generation.assets[0].revised_prompt == "A red fox, watercolour"
    assert generation.receipt_data["engine"]["usage"]["total_tokens"] == 4050
    assert generation.receipt_data["note"] == "non-deterministic provider"
    assert "authorization" not in server.hits("GET", "/files/second.png")[0].headers
    assert_no_secret(home, caplog)


async def test_openai_edit_sends_image_parts_and_transparent_mask(remote_env, make_studio,
                                                                  tmp_path) -> None:
    from PIL import Image

    server = remote_env
    server.route("POST", "/v1/images/edits", Reply(200, {"data": [{"b64_json": b64(png())}]}))
    source, mask = source_files(tmp_path)
    studio = await make_studio()
    outcome = await studio.generate("add a hat", ["gpt-image-2"], GenerationSpec.build(
        source=str(source), mask=str(mask)))
    assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
    [sent] = server.hits("POST", "/v1/images/edits")
    parts = sent.parts()
    images = [p for p in parts if p.name == "image[]"]
    assert len(images) == 1 and images[0].data == source.read_bytes() and images[0].filename
    form = {p.name: p for p in parts}
    assert form["prompt"].text == "add a hat" and form["model"].text == "gpt-image-2"
    assert "response_format" not in form
    sent_mask = Image.open(io.BytesIO(form["mask"].data))
    assert sent_mask.mode == "RGBA"
    assert sent_mask.getpixel((5, 5))[3] == 0 and sent_mask.getpixel((60, 5))[3] == 255


async def test_openai_compatible_server_without_key(server, make_studio, monkeypatch) -> None:
    server.route("POST", "/api/images/generations",
                 Reply(200, {"created": 1, "data": [{"b64_json": b64(png())}]}))
    studio = await make_studio(models={"local-flux": {
        "engine": "openai", "model": "flux-dev", "base_url": server.url + "/api"}})
    assert studio.engine("local-flux").availability().available
    outcome = await studio.generate("a bridge", ["local-flux"],
                                    GenerationSpec.build(width=768, height=512))
    assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
    sent = server.hits("POST", "/api/images/generations")[0]
    assert "authorization" not in sent.headers
    assert sent.json()["size"] == "768x512" and sent.json()["model"] == "flux-dev"


async def test_gemini_generate_content_round_trip(remote_env, make_studio, home, caplog,
                                                  tmp_path) -> None:
    server = remote_env
    path = "/v1beta/models/gemini-2.5-flash-image:generateContent"
    server.route("POST", path, Reply(200, {
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "Here is your lighthouse."},
            {"inlineData": {"mimeType": "image/png", "data": b64(png())}}]},
            "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 1290},
        "modelVersion": "gemini-2.5-flash-image-001"}))
    studio = await make_studio()
    outcome = await studio.generate("a lighthouse", ["gemini-2.5-flash-image"],
                                    GenerationSpec.build(width=1920, height=1080))
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    [sent] = server.hits("POST", path)
    assert sent.headers["x-goog-api-key"] == KEYS["GEMINI_API_KEY"]
    assert sent.json() == {
        "contents": [{"role": "user", "parts": [{"text": "a lighthouse"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                             "imageConfig": {"aspectRatio": "16:9"}}}
    assert generation.model_version == "gemini-2.5-flash-image-001"
    assert generation.receipt_data["note"] == "non-deterministic provider"
    assert generation.assets[0].seed is None

    source, _ = source_files(tmp_path)
    edited = await studio.generate("make it night", ["gemini-2.5-flash-image"],
                                   GenerationSpec.build(source=str(source)))
    assert edited.generations[0].status == "succeeded", edited.generations[0].error
    parts = server.hits("POST", path)[1].json()["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png",
                                       "data": b64(source.read_bytes())}}
    assert_no_secret(home, caplog)


async def test_gemini_error_envelope_and_safety(remote_env, make_studio) -> None:
    server = remote_env
    path = "/v1beta/models/gemini-2.5-flash-image:generateContent"
    server.route("POST", path, Reply(400, {"error": {
        "code": 400, "message": "Image size 8K is not supported.", "status": "INVALID_ARGUMENT"}}))
    studio = await make_studio()
    failed = (await studio.generate("x", ["gemini-2.5-flash-image"])).generations[0]
    assert failed.status == "failed"
    assert "400" in failed.error and "Image size 8K is not supported." in failed.error
    assert "INVALID_ARGUMENT" in failed.error
    server.route("POST", path, Reply(200, {"candidates": [{"finishReason": "IMAGE_SAFETY"}]}))
    blocked = (await studio.generate("x", ["gemini-2.5-flash-image"])).generations[0]
    assert blocked.status == "failed" and "safety filter" in blocked.error


async def test_imagen_predict_round_trip(remote_env, make_studio) -> None:
    server = remote_env
    path = "/v1beta/models/imagen-4.0-fast-generate-001:predict"
    server.route("POST", path, Reply(200, {"predictions": [
        {"bytesBase64Encoded": b64(png()), "mimeType": "image/png"}]}))
    studio = await make_studio()
    outcome = await studio.generate("a kettle", ["imagen-4-fast"], GenerationSpec.build(
        count=2, width=768, height=1024))
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    assert server.hits("POST", path)[0].json() == {
        "instances": [{"prompt": "a kettle"}],
        "parameters": {"sampleCount": 2, "aspectRatio": "3:4"}}
    assert len(generation.assets) == 1
    assert [bool(i.get("safety_filtered")) for i in generation.receipt_data["images"]] == [False, True]
    assert "2026-08-17" in studio.engine("imagen-4").info.note


async def test_retired_imagen_404_says_why(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", "/v1beta/models/imagen-4.0-generate-001:predict", Reply(404, {
        "error": {"code": 404, "message": "models/imagen-4.0-generate-001 is not found",
                  "status": "NOT_FOUND"}}))
    studio = await make_studio()
    failed = (await studio.generate("x", ["imagen-4"])).generations[0]
    assert failed.status == "failed"
    assert "NOT_FOUND" in failed.error and "retired Imagen 4 on 2026-08-17" in failed.error
