"""Fixtures for compare tests: three layout models with different defaults, a Studio, an app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from chatimg import domain
from chatimg.studio import GenerateOutcome, GenerationSpec, Studio

PROMPT = 'a "HI" sign in red'
MODELS = ["layout-a", "layout-b", "layout-c"]
CONFIG = """
[models.layout-a]
engine = "layout"
width = 96
height = 96

[models.layout-b]
engine = "layout"
width = 128
height = 96
cost_per_image = 0.02

[models.layout-c]
engine = "layout"
width = 96
height = 128
"""


@pytest.fixture
def cstudio(config_file: Path) -> Iterator[Studio]:
    """A Studio whose catalog has layout-a (96x96), layout-b (128x96, $0.02), layout-c (96x128)."""
    config_file.write_text(CONFIG, encoding="utf-8")
    studio = Studio.open()
    yield studio
    studio.close()


async def fan_out(
    studio: Studio, models: list[str], *, seed: int = 5, conversation_id: str | None = None,
    prompt: str = PROMPT, latency_ms: float = 12.0,
) -> GenerateOutcome:
    """Send ``prompt`` to ``models`` with a fixed seed; pin latencies so screens are stable."""
    outcome = await studio.generate(
        prompt, models, GenerationSpec.build(seed=seed), conversation_id=conversation_id,
        validate=False,
    )
    for generation in outcome.generations:
        if generation.status == "succeeded":
            studio.repo.update_generation(generation.id, latency_ms=latency_ms)
    return outcome


def add_check(studio: Studio, generation: domain.Generation, score: float) -> None:
    """Store a fixed validation result on a generation's first image."""
    studio.repo.add_validations([
        domain.ValidationResult(
            asset_sha256=generation.assets[0].sha256, name="blank", version="1",
            passed=score > 0.5, score=score, generation_id=generation.id,
        )
    ])


class CompareApp(App[None]):
    """A bare app that opens the compare screen and keeps what it was dismissed with."""

    def __init__(self, studio: Studio, ids: list[str]) -> None:
        super().__init__()
        self.studio = studio
        self.ids = ids
        self.result: Any = "not dismissed"

    def on_mount(self) -> None:
        from chatimg.tui.screens.compare import CompareScreen

        self.push_screen(CompareScreen(self.studio, self.ids, renderer="halfcell"), self._done)

    def _done(self, result: Any) -> None:
        self.result = result
