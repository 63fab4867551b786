"""Acceptance 2: validations run after each generation, in the background, and are stored."""

from __future__ import annotations

import json
import threading

import pytest

from chatimg.studio import GenerationEvent


async def test_validations_are_stored_and_shown(studio, capsys) -> None:
    outcome = await studio.generate('a poster that says "OPEN LATE"', ["layout"])
    (generation,) = outcome.generations
    checks = {v.name: v for v in generation.validations}
    assert set(checks) == {"blank", "size", "typography"}
    assert all(v.passed for v in checks.values())
    assert checks["typography"].details["read"] == "OPEN LATE"
    assert checks["size"].details["requested"] == [512, 512]
    from chatimg.cli import main

    capsys.readouterr()
    main(["show", outcome.message.conversation_id, "--json"])
    shown = json.loads(capsys.readouterr().out)
    stored = shown["messages"][0]["generations"][0]["validations"]
    typo = next(v for v in stored if v["name"] == "typography")
    assert typo["passed"] is True and typo["details"]["cer"] == 0.0
    assert typo["asset_sha256"] == generation.assets[0].sha256
    main(["show", outcome.message.conversation_id])
    assert "check typography: pass" in capsys.readouterr().out


async def test_no_quoted_text_stores_no_typography_row(studio) -> None:
    outcome = await studio.generate("a calm teal sea", ["layout"])
    assert {v.name for v in outcome.generations[0].validations} == {"blank", "size"}


async def test_finished_comes_before_validation_starts(studio, monkeypatch) -> None:
    import chatimg.validate as validate

    order: list[str] = []
    real = validate.validate_images

    def spy(generation, images, expected, settings):  # type: ignore[no-untyped-def]
        order.append("validation started")
        assert threading.current_thread() is not threading.main_thread()  # a worker thread
        assert len(images) == len(generation.assets)  # the decoded images, not files
        return real(generation, images, expected, settings)

    monkeypatch.setattr(validate, "validate_images", spy)

    def on_event(event: GenerationEvent) -> None:
        if event.kind in ("finished", "validated"):
            order.append(event.kind)
            if event.kind == "finished":
                assert event.generation is not None and event.generation.assets
                assert event.generation.validations == ()

    outcome = await studio.generate('a sign "HELLO"', ["layout"], on_event=on_event)
    assert order == ["finished", "validation started", "validated"]
    assert len(outcome.generations[0].validations) == 3


@pytest.mark.parametrize("enabled", [[], ["blank"]])
async def test_enabled_validators_are_configurable(studio, enabled: list[str]) -> None:
    studio.settings.validation.enabled = enabled
    outcome = await studio.generate('a sign "HELLO"', ["layout"])
    assert [v.name for v in outcome.generations[0].validations] == enabled
