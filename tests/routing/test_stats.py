"""``chatimg models --stats``: the leaderboard from history (bench runs included) and picks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chatimg.cli import main
from tests.routing.test_routing import MODELS


async def test_leaderboard_counts_images_failures_typography_cost_and_wins(
    make_studio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    studio = make_studio(MODELS)
    fanned = await studio.generate('a poster that says "OPEN LATE"', ["typo", "fast"])
    typo, fast = fanned.generations
    studio.add_pick([typo.id, fast.id], typo.id)
    await studio.generate("a calm sea", ["fast"])
    await studio.generate("a calm sea", ["flaky"])  # HTTP 500: one failure, no image
    capsys.readouterr()
    main(["models", "--stats", "--json"])
    rows = {row["model"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["typo"]["images"] == 1 and rows["typo"]["compare_wins"] == 1
    assert rows["typo"]["compare_appearances"] == 1
    assert rows["typo"]["typography_cer"] == 0.0 and rows["typo"]["typography_checks"] == 1
    assert rows["typo"]["cost_per_asset"] == pytest.approx(0.03)
    assert rows["fast"]["images"] == 2 and rows["fast"]["compare_wins"] == 0
    assert rows["fast"]["compare_appearances"] == 1
    assert rows["fast"]["cost_per_asset"] == pytest.approx(0.01)
    assert rows["fast"]["median_latency_ms"] > 0
    assert rows["flaky"]["failure_rate"] == 1.0 and rows["flaky"]["images"] == 0
    assert rows["typo"]["failure_rate"] == 0.0
    main(["models", "--stats"])
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["model", "images", "failed", "median", "CER",
                                             "$/asset", "wins"]
    assert any(line.split()[:2] == ["typo", "1"] and line.split()[-1] == "1/1"
               for line in table.splitlines())
