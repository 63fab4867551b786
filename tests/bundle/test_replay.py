"""Acceptance 4: replay reports identical images, then the ones a config change altered."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from chatimg.spec import GenerationSpec
from chatimg.studio import Studio
from tests.bundle.conftest import write_config


async def _thread(studio: Any) -> str:
    first = await studio.generate('a poster that says "REPLAY"', ["layout", "tiny"],
                                  GenerationSpec.build(seed=21), validate=False)
    cid = first.message.conversation_id
    await studio.generate("a small dog", ["poster", "no-such-model"], GenerationSpec.build(seed=22),
                          conversation_id=cid, validate=False)
    await studio.generate('a sign that says "TWO"', ["poster"],
                          GenerationSpec.build(seed=23, width=96, height=64, count=2),
                          conversation_id=cid, validate=False)
    return str(cid)


def _by_model(report: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for result in report["results"]:
        found.setdefault(result["model"], set()).add(result["status"])
    return found


@pytest.mark.slow
def test_replay_identical_then_scheduler_change_differs(
    config_file: Path, tiny_sd_path: Path, cli: Any, tmp_path: Path
) -> None:
    write_config(config_file, tiny_sd_path)
    studio = Studio.open()
    try:
        cid = asyncio.run(_thread(studio))
    finally:
        studio.close()

    same = cli("replay", cid, "--json")
    assert same.code == 0, same.err
    report = json.loads(same.out)
    assert report["measure"] == "ssim-grayscale"
    assert _by_model(report) == {"layout": {"identical"}, "tiny": {"identical"},
                                 "poster": {"identical"}, "no-such-model": {"skipped"}}
    assert report["summary"]["identical"] == 5 and report["ok"] is True

    # A bundle file replays the same way, in a throw-away store.
    bundle = tmp_path / "replay.zip"
    assert cli("export", cid, "-o", str(bundle)).code == 0
    from_file = cli("replay", str(bundle))
    assert from_file.code == 0, from_file.err
    assert "SSIM" in from_file.out
    assert from_file.out.strip().splitlines()[-1].startswith("summary: 5 identical, 0 near")
    assert len(json.loads(cli("ls", "--json").out)) == 1

    # The tiny model's scheduler changes in config: its images differ, layout's do not.
    write_config(config_file, tiny_sd_path, scheduler="DDIMScheduler")
    changed = cli("replay", cid, "--json")
    assert changed.code == 1
    report = json.loads(changed.out)
    statuses = _by_model(report)
    assert statuses["tiny"] == {"different"}
    assert statuses["layout"] == {"identical"} and statuses["poster"] == {"identical"}
    assert report["ok"] is False and report["summary"]["different"] == 1


def test_replay_on_another_model_and_non_deterministic_providers(
    config_file: Path, cli: Any
) -> None:
    write_config(config_file, None)
    studio = Studio.open()
    try:
        outcome = asyncio.run(studio.generate(
            'a poster that says "HI"', ["layout", "poster"],
            GenerationSpec.build(seed=3, width=64, height=64), validate=False))
        layout, poster = outcome.generations
        # Say the poster run came from a provider that does not promise the same bytes.
        studio.repo.update_generation(poster.id, receipt={
            **poster.receipt_data, "deterministic": False, "note": "non-deterministic provider"})
    finally:
        studio.close()
    cid = outcome.message.conversation_id

    on_layout = cli("replay", cid, "--model", "layout", "--json")
    assert on_layout.code == 0, on_layout.err
    results = {r["generation_id"]: r for r in json.loads(on_layout.out)["results"]}
    assert results[layout.id]["status"] == "identical"
    # Other bytes (the PNG names the model), but the provider never promised the same bytes.
    assert results[poster.id]["status"] == "non-deterministic"
    assert results[poster.id]["replay_model"] == "layout"

    on_poster = cli("replay", cid, "--model", "poster", "--json")
    assert on_poster.code == 0, on_poster.err
    results = {r["generation_id"]: r for r in json.loads(on_poster.out)["results"]}
    # Same pixels, another model name in the PNG's parameters: near, with SSIM 1.
    assert results[layout.id]["status"] == "near"
    assert results[layout.id]["similarity"] == pytest.approx(1.0)
    assert results[poster.id]["status"] == "identical"

    strict = cli("replay", cid, "--model", "poster", "--strict")
    assert strict.code == 1
    assert strict.out.strip().splitlines()[-1] == (
        "summary: 1 identical, 1 near, 0 different, 0 non-deterministic, 0 skipped, 0 error"
        " -> DIFFERS")


def test_ssim_measure() -> None:
    import numpy as np

    from chatimg.bundle.replay import ssim

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 50)).astype(np.float64)
    assert ssim(image, image) == pytest.approx(1.0)
    assert 0.95 < ssim(image, np.clip(image + rng.normal(0, 2, image.shape), 0, 255)) < 1.0
    assert ssim(image, rng.integers(0, 256, (40, 50))) < 0.2


def test_replay_unknown_conversation_is_one_line(cli: Any) -> None:
    result = cli("replay", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert result.code == 1
    assert result.err.startswith("chatimg: error: no conversation")
