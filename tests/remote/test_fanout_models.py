"""Fan-out runs remote models concurrently; ``chatimg models --json`` shows availability."""

from __future__ import annotations

import asyncio
import base64
import json
import time

from click.testing import CliRunner

from chatimg.spec import GenerationSpec
from tests.remote.conftest import KEYS, assert_no_secret
from tests.remote.fakeserver import Reply, png
from tests.remote.test_ideogram import ideogram_reply
from tests.remote.test_selfhosted import A1111_MODELS, a1111_reply


async def test_fan_out_of_four_remote_models_runs_concurrently(remote_env, make_studio, home,
                                                               caplog) -> None:
    server = remote_env
    image = base64.b64encode(png()).decode()
    slow = 1.0
    ideogram = ideogram_reply(server, [{}])
    server.route("POST", "/generate", Reply(200, ideogram.body, delay=slow))
    server.route("POST", "/v1/images/generations",
                 Reply(200, {"created": 1, "data": [{"b64_json": image}]}, delay=slow))
    server.route("POST", "/v1beta/models/gemini-2.5-flash-image:generateContent", Reply(200, {
        "candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png",
                                                              "data": image}}]}}]}, delay=slow))
    server.route("POST", "/sdapi/v1/txt2img", Reply(200, a1111_reply().body, delay=slow))
    server.route("GET", "/sdapi/v1/progress", Reply(200, {"state": {}}))
    studio = await make_studio(models=A1111_MODELS)
    models = ["ideogram-v2-turbo", "gpt-image-2", "gemini-2.5-flash-image", "forge-sd"]
    started = time.monotonic()
    outcome = await asyncio.wait_for(studio.generate("a harbour at dawn", models,
                                                     GenerationSpec.build(seed=3)), 10)
    elapsed = time.monotonic() - started
    assert [g.status for g in outcome.generations] == ["succeeded"] * 4, [
        g.error for g in outcome.generations]
    print(f"fan-out of 4 remote models, each answering after {slow} s: {elapsed:.2f} s")
    # all four requests were in flight at once (one after another would peak at 1 or 2)
    assert server.max_in_flight >= 4, f"peak {server.max_in_flight}: requests ran in turn"
    assert_no_secret(home, caplog)


def models_json(runner: CliRunner) -> dict[str, dict]:
    from chatimg.cli import cli

    result = runner.invoke(cli, ["models", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {item["name"]: item for item in json.loads(result.output)}


def test_models_json_shows_remote_availability(monkeypatch, config_file) -> None:
    config_file.write_text(
        '[models.comfy]\nengine = "comfyui"\nmodel = "sd15.safetensors"\n'
        '[models.forge]\nengine = "a1111"\nbase_url = "http://gpu-box:7860"\n'
        '[models.local-openai]\nengine = "openai"\nmodel = "flux"\n'
        'base_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8")
    listed = models_json(CliRunner())
    expected_missing = {
        "ideogram-v2-turbo": "needs IDEOGRAM_API_KEY", "ideogram-v2": "needs IDEOGRAM_API_KEY",
        "ideogram-v2a-turbo": "needs IDEOGRAM_API_KEY", "ideogram-v2a": "needs IDEOGRAM_API_KEY",
        "ideogram-v3": "needs IDEOGRAM_API_KEY", "gemini-2.5-flash-image": "needs GEMINI_API_KEY",
        "imagen-4": "needs GEMINI_API_KEY", "gpt-image-2": "needs OPENAI_API_KEY",
    }
    for name, reason in expected_missing.items():
        assert listed[name]["available"] is False and listed[name]["reason"] == reason, name
    assert listed["ideogram-v2-turbo"]["cost_per_image"] == 0.05
    assert listed["ideogram-v2a-turbo"]["cost_per_image"] == 0.025
    assert listed["ideogram-v3"]["cost_per_image"] == 0.06
    assert "2026-08-17" in listed["imagen-4-ultra"]["note"]
    assert listed["comfy"]["available"] is True
    assert listed["comfy"]["reason"] == "server at http://127.0.0.1:8188 (not checked)"
    assert listed["forge"]["reason"] == "server at http://gpu-box:7860 (not checked)"
    assert listed["local-openai"]["available"] is True

    monkeypatch.setenv("IDEOGRAM_API_KEY", KEYS["IDEOGRAM_API_KEY"])
    monkeypatch.setenv("GOOGLE_API_KEY", KEYS["GEMINI_API_KEY"])
    listed = models_json(CliRunner())
    assert listed["ideogram-v3"]["available"] is True
    assert listed["ideogram-v3"]["capabilities"]["describe"] is True
    assert listed["gemini-2.5-flash-image"]["available"] is True
    assert listed["gemini-2.5-flash-image"]["capabilities"]["seed"] is False
    assert listed["gpt-image-2"]["available"] is False
    assert KEYS["IDEOGRAM_API_KEY"] not in json.dumps(listed)


def test_cli_gen_fans_out_remote_models(remote_env) -> None:
    from chatimg.cli import cli

    server = remote_env
    image = base64.b64encode(png()).decode()
    server.route("POST", "/generate", Reply(200, ideogram_reply(server, [{}]).body, delay=1.0))
    server.route("POST", "/v1/images/generations",
                 Reply(200, {"created": 1, "data": [{"b64_json": image}]}, delay=1.0))
    server.route("POST", "/v1beta/models/gemini-2.5-flash-image:generateContent", Reply(200, {
        "candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png",
                                                              "data": image}}]}}]}, delay=1.0))
    started = time.monotonic()
    result = CliRunner().invoke(cli, [
        "gen", "a quiet street", "-m", "ideogram-v2a-turbo", "-m", "gpt-image-2",
        "-m", "gemini-2.5-flash-image", "--size", "1024x1024", "--json"],
        catch_exceptions=False)
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    generations = json.loads(result.output)["generations"]
    assert [g["status"] for g in generations] == ["succeeded"] * 3
    assert generations[0]["cost_usd"] == 0.025
    print(f"chatimg gen with three remote models: {elapsed:.2f} s")
    assert server.max_in_flight >= 3, f"peak {server.max_in_flight}: requests ran in turn"
    assert KEYS["OPENAI_API_KEY"] not in result.output
