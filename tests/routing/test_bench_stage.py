"""A bench whose checks run as a stage of their own (``--executor ray`` hands Ray tasks in):
the verdicts land as inline checks would, and a failed stage is a failed result that
``--resume`` redoes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatimg import domain
from chatimg.benchrun import load_prompts, run_bench
from chatimg.errors import EngineRequestError


@pytest.fixture
def prompt_file(tmp_path: Path) -> str:
    path = tmp_path / "prompts.txt"
    path.write_text('a sign that says "OPEN"\na blank wall\n', encoding="utf-8")
    return str(path)


async def test_a_checks_stage_scores_instead_of_the_inline_checks(
        studio: Any, prompt_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import chatimg.validate

    seen: list[str] = []
    real = chatimg.validate.validate_images

    async def stage(generation: domain.Generation) -> list[domain.ValidationResult]:
        from PIL import Image

        seen.append(generation.id)

        pictures = [Image.open(a.path) for a in generation.assets]
        return list(real(generation, pictures, None, studio.settings))

    def inline(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("checked inline")

    monkeypatch.setattr(chatimg.validate, "validate_images", inline)
    report = await run_bench(studio, load_prompts(prompt_file), ["layout"], 2, score=stage)
    assert [i.status for i in report.items] == ["succeeded"] * 4
    assert sorted(seen) == sorted(i.generation_id for i in report.items if i.generation_id)
    # The verdicts are stored: the typography error rate of the quoted prompt, the others.
    assert all(i.cer is not None for i in report.items if i.prompt_index == 0)
    assert all(i.checks_passed is True for i in report.items)
    stored = studio.get_generations([i.generation_id for i in report.items])
    assert all(g.validations for g in stored)


async def test_a_failed_checks_stage_is_a_failed_result_that_resume_redoes(
        studio: Any, prompt_file: str) -> None:
    async def hung(generation: domain.Generation) -> list[domain.ValidationResult]:
        raise EngineRequestError("the checks did not finish within 2 s on Ray",
                                 reason="timeout")

    async def fine(generation: domain.Generation) -> list[domain.ValidationResult]:
        return []

    prompts = load_prompts(prompt_file)
    first = await run_bench(studio, prompts, ["layout"], 1, score=hung, run_id="stage")
    assert [(i.status, i.error) for i in first.items] == \
        [("failed", "the checks did not finish within 2 s on Ray")] * 2
    again = await run_bench(studio, prompts, ["layout"], 1, score=fine, run_id="stage",
                            resume=True)
    assert again.resumed == 0
    assert [i.status for i in again.items] == ["succeeded"] * 2
