"""Routing: ``auto`` and ``[routes.NAME]`` policies, fallbacks, budgets, cost estimates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatimg.spec import GenerationSpec, RouteHints

MODELS = """
[models.typo]
engine = "layout"
cost_per_image = 0.03
description = "the typography specialist"

[models.fast]
engine = "layout"
cost_per_image = 0.01

[models.flaky]
engine = "fakeremote"
base_url = "http://fake.test/broken"
cost_per_image = 0.02

[models.painter]
engine = "fakeremote"
base_url = "http://fake.test/ok"
cost_per_image = 0.05
img2img = true
inpaint = true

[models.pricey]
engine = "fakeremote"
base_url = "http://fake.test/ok"
cost_per_image = 0.08

[models.dark]
engine = "fakeremote"
base_url = "http://fake.test/black"
cost_per_image = 0.0
"""

AUTO = MODELS + """
[routes.auto]
rules = [
  { when = "quoted_text", model = "typo" },
  { when = "draft", model = "fast" },
  { when = "inpaint", model = "painter" },
]
default = "fast"
fallback = ["typo"]
"""


def show_json(capsys: pytest.CaptureFixture[str], conversation_id: str) -> dict[str, Any]:
    from chatimg.cli import main

    capsys.readouterr()
    main(["show", conversation_id, "--json"])
    shown: dict[str, Any] = json.loads(capsys.readouterr().out)
    return shown


async def test_auto_sends_quoted_text_to_the_typography_model(make_studio: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    studio = make_studio(AUTO)
    quoted = await studio.generate('a poster that says "OPEN LATE"', ["auto"])
    plain = await studio.generate("a red apple on a table", ["auto"])
    (first,) = quoted.generations
    (second,) = plain.generations
    assert (first.status, first.requested_model, first.resolved_model) == ("succeeded", "auto",
                                                                           "typo")
    assert "quoted text" in first.route_reason
    assert (second.status, second.resolved_model) == ("succeeded", "fast")
    assert "default" in second.route_reason
    shown = show_json(capsys, quoted.message.conversation_id)
    stored = shown["messages"][0]["generations"][0]
    assert stored["route_reason"] == first.route_reason
    from chatimg.cli import main

    main(["show", quoted.message.conversation_id])
    assert f"route: {first.route_reason}" in capsys.readouterr().out


async def test_builtin_auto_without_config(make_studio: Callable[..., Any]) -> None:
    studio = make_studio('default_model = "fast"\n' + MODELS)
    quoted = await studio.generate('a sign "HI THERE"', ["auto"])
    plain = await studio.generate("a calm sea", ["auto"])
    assert quoted.generations[0].resolved_model == "layout"
    assert plain.generations[0].resolved_model == "fast"


async def test_draft_preset_goes_to_the_fast_model(make_studio: Callable[..., Any]) -> None:
    studio = make_studio(AUTO.replace('default = "fast"', 'default = "pricey"'))
    outcome = await studio.generate("a calm sea", ["auto"],
                                    hints=RouteHints(preset="draft"))
    assert outcome.generations[0].resolved_model == "fast"
    assert "draft" in outcome.generations[0].route_reason


async def test_a_500_falls_back_and_both_attempts_are_linked(make_studio: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    studio = make_studio(MODELS + """
[routes.safe]
default = "flaky"
fallback = ["fast"]
""")
    outcome = await studio.generate("a calm sea", ["safe"])
    failed, rescued = outcome.generations
    assert failed.resolved_model == "flaky" and failed.status == "failed"
    assert "500" in failed.error
    assert rescued.resolved_model == "fast" and rescued.status == "succeeded"
    assert rescued.fallback_of == failed.id
    assert "flaky failed" in rescued.route_reason and "500" in rescued.route_reason
    shown = show_json(capsys, outcome.message.conversation_id)
    stored = shown["messages"][0]["generations"]
    assert [g["id"] for g in stored] == [failed.id, rescued.id]
    assert stored[1]["fallback_of"] == stored[0]["id"]


async def test_missing_capability_falls_back(make_studio: Callable[..., Any], tmp_path: Path) -> None:
    from chatimg.engines.layout import render

    source = tmp_path / "source.png"
    render("a blue square", 1, 64, 64).save(source)
    studio = make_studio(MODELS + """
[routes.edit]
default = "fast"
fallback = ["painter"]
""")
    outcome = await studio.generate("make it red", ["edit"],
                                    GenerationSpec.build(source=str(source), strength=0.5))
    refused, done = outcome.generations
    assert refused.resolved_model == "fast" and "cannot do img2img" in refused.error
    assert done.resolved_model == "painter" and done.status == "succeeded"
    assert done.fallback_of == refused.id


async def test_a_mask_routes_to_an_inpaint_model(make_studio: Callable[..., Any], tmp_path: Path) -> None:
    from PIL import Image

    from chatimg.engines.layout import render

    source, mask = tmp_path / "source.png", tmp_path / "mask.png"
    render("a blue square", 1, 64, 64).save(source)
    Image.new("L", (64, 64), 255).save(mask)
    studio = make_studio('default_model = "fast"\n' + MODELS)
    outcome = await studio.generate("a red door", ["auto"],
                                    GenerationSpec.build(source=str(source), mask=str(mask)))
    assert outcome.generations[0].resolved_model == "painter"
    assert "inpaint" in outcome.generations[0].route_reason


async def test_budget_picks_the_cheapest_model_that_fits(make_studio: Callable[..., Any]) -> None:
    studio = make_studio(MODELS + """
[routes.thrifty]
rules = [{ when = "budget", models = ["pricey", "painter", "typo"] }]
default = "pricey"
""")
    outcome = await studio.generate("a calm sea", ["thrifty"],
                                    GenerationSpec.build(count=2), hints=RouteHints(budget=0.12))
    chosen = outcome.generations[0]
    assert chosen.resolved_model == "typo"  # 2 x 0.03 fits; painter (0.10) fits but costs more
    assert "budget $0.12" in chosen.route_reason and "$0.06" in chosen.route_reason
    assert chosen.cost_usd == pytest.approx(0.06)
    squeezed = await studio.generate("a calm sea", ["thrifty"],
                                     GenerationSpec.build(count=2), hints=RouteHints(budget=0.05))
    (refused,) = squeezed.generations
    assert refused.status == "failed" and "no model fits the budget" in refused.error
    unbounded = await studio.generate("a calm sea", ["thrifty"])
    assert unbounded.generations[0].resolved_model == "pricey"


async def test_failed_validation_can_fall_back(make_studio: Callable[..., Any]) -> None:
    studio = make_studio(MODELS + """
[validation]
enabled = ["blank"]

[routes.checked]
default = "dark"
fallback = ["fast"]
fallback_on_validation = true
""")
    outcome = await studio.generate("a calm sea", ["checked"])
    dark, fast = outcome.generations
    assert dark.status == "succeeded" and not dark.validations[0].passed
    assert fast.fallback_of == dark.id and "failed validation" in fast.route_reason


@pytest.mark.slow
async def test_repair_is_the_last_step_after_failed_validation(
    make_studio: Callable[..., Any]
) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    studio = make_studio(MODELS + """
[models.speller]
engine = "fakeremote"
base_url = "http://fake.test/misspell"

[models.speller2]
engine = "fakeremote"
base_url = "http://fake.test/misspell"

[validation]
enabled = ["typography"]

[routes.signs]
default = "speller"
fallback = ["speller2"]
fallback_on_validation = true
repair_on_validation = true
""")
    outcome = await studio.generate('a poster that says "SUMMER SALE"', ["signs"],
                                    GenerationSpec.build(width=640, height=640, seed=4))
    first, wrong, repaired = outcome.generations  # speller, then its fallback, then repair
    assert wrong.fallback_of == first.id and wrong.resolved_model == "speller2"
    assert wrong.status == "succeeded"
    assert not next(v for v in wrong.validations if v.name == "typography").passed
    assert repaired.resolved_model == "fixtext" and repaired.fallback_of == wrong.id
    assert repaired.message_id == wrong.message_id  # the same message, as a fallback
    assert "signs: repair" in repaired.route_reason and "'SALF' -> 'SALE'" in repaired.route_reason
    assert next(v for v in repaired.validations if v.name == "typography").passed
    # without the flag the chain ends on the failed image, as before
    plain = make_studio(MODELS + """
[models.speller]
engine = "fakeremote"
base_url = "http://fake.test/misspell"

[validation]
enabled = ["typography"]

[routes.signs]
default = "speller"
fallback_on_validation = true
""")
    (only,) = (await plain.generate('a poster that says "SUMMER SALE"', ["signs"],
                                    GenerationSpec.build(width=640, height=640, seed=4))).generations
    assert only.resolved_model == "speller"


async def test_estimate_cost_includes_fan_out(make_studio: Callable[..., Any]) -> None:
    studio = make_studio(AUTO)
    params = GenerationSpec.build(count=2)
    assert studio.estimate_cost(["fast", "pricey"], params) == pytest.approx(0.18)
    sign, sea = params.replace(prompt='a sign "HI"'), params.replace(prompt="a sea")
    assert studio.estimate_cost(["auto"], sign) == pytest.approx(0.06)
    assert studio.estimate_cost(["auto"], sea) == pytest.approx(0.02)
    assert studio.estimate_cost(["nope"], params) is None


async def test_unknown_policy_model_is_a_clear_error(make_studio: Callable[..., Any]) -> None:
    studio = make_studio(MODELS + '[routes.bad]\ndefault = "ghost"\n')
    outcome = await studio.generate("a calm sea", ["bad"])
    assert "unknown model 'ghost'" in outcome.generations[0].error


async def test_openai_compatible_server_500_falls_back(make_studio: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    calls: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(500, json={"error": {"message": "upstream exploded"}})

    studio = make_studio(MODELS + """
[network]
max_retries = 0

[models.oai]
engine = "openai"
model = "gpt-image-1"
base_url = "http://openai.fake/v1"
needs_key = false
cost_per_image = 0.04

[routes.safe]
default = "oai"
fallback = ["fast"]
""")
    studio.context.http_client_factory = lambda: httpx.AsyncClient(
        transport=httpx.MockTransport(server)
    )
    outcome = await studio.generate("a calm sea", ["safe"])
    failed, rescued = outcome.generations
    assert calls and calls[0].endswith("/images/generations")
    assert failed.resolved_model == "oai" and failed.status == "failed"
    assert rescued.status == "succeeded" and rescued.fallback_of == failed.id
    assert "oai failed" in rescued.route_reason


@pytest.mark.parametrize(
    ("path", "error"),
    [("busy", "429"), ("slow", "timed out"), ("filtered", "safety filter")],
)
async def test_timeouts_rate_limits_and_safety_blocks_fall_back(
    make_studio: Callable[..., Any], path: str, error: str
) -> None:
    studio = make_studio(MODELS + f"""
[models.shaky]
engine = "fakeremote"
base_url = "http://fake.test/{path}"

[routes.safe]
default = "shaky"
fallback = ["fast"]
""")
    outcome = await studio.generate("a calm sea", ["safe"])
    failed, rescued = outcome.generations
    assert failed.status == "failed" and error in failed.error
    assert rescued.status == "succeeded" and rescued.fallback_of == failed.id
    assert error in rescued.route_reason
