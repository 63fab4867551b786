"""Text repair: a wrong letter in a typeset image is rewritten in place, as a new generation
linked to its source, and the result passes the typography check."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from chatimg.cli import main
from chatimg.errors import InvalidRequestError
from chatimg.imaging import encode_png
from chatimg.repair import Repair, repair_text
from chatimg.repair.align import line_fixes
from chatimg.studio import Studio
from chatimg.typeset import render_poster
from chatimg.validate import run_checks

MARGIN = 2


def unchanged_outside(before: Any, after: Any, boxes: list[tuple[int, int, int, int]]) -> bool:
    a, b = np.asarray(before.convert("RGB")), np.asarray(after.convert("RGB"))
    outside = np.ones(a.shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        outside[max(0, y0 - MARGIN):y1 + MARGIN, max(0, x0 - MARGIN):x1 + MARGIN] = False
    return bool((a[outside] == b[outside]).all()) and bool((a[~outside] != b[~outside]).any())


def test_alignment_finds_the_wrong_lines_and_leaves_extra_text_alone() -> None:
    fixes = line_fixes(["GRAND OPENNG", "come and see us"], "GRAND OPENING")
    assert [(f.line, f.read, f.written) for f in fixes] == [(0, "GRAND OPENNG", "GRAND OPENING")]
    assert line_fixes(["GRAND OPENING", "come and see us"], "GRAND OPENING") == []
    assert [f.written for f in line_fixes(["SUMMER SALE SALE"], "SUMMER SALE")] == ["SUMMER SALE"]
    assert [f.written for f in line_fixes(["SUMMER"], "SUMMER SALE")] == ["SUMMER SALE"]


@pytest.mark.parametrize(("prompt", "wanted", "font"), [
    ('a poster in bold red that says "BIG SALF" and "50% OFF"', "BIG SALE 50% OFF",
     "DejaVuSans-Bold.ttf"),
    ('a script card "Happy Brithday"', "Happy Birthday", "DancingScript-Regular.otf"),
    ('a mono label "OPEN 24/7" on black', "OPEN 24/8", "DejaVuSansMono.ttf"),
])
@pytest.mark.parametrize("seed", [0, 3])
def test_a_wrong_letter_is_rewritten_in_the_same_style(
    prompt: str, wanted: str, font: str, seed: int
) -> None:
    original = render_poster(prompt, 768, 768, seed).image
    (before,) = run_checks(original, expected_text=wanted, names=["typography"])
    assert before.passed is False
    repaired: Repair = repair_text(original, wanted)
    (after,) = run_checks(repaired.image, expected_text=wanted, names=["typography"])
    assert after.passed is True, after.details
    assert unchanged_outside(original, repaired.image, [p.box for p in repaired.patches])
    assert [p.font for p in repaired.patches] == [font]
    ink = np.array(repaired.patches[0].colour)
    assert np.abs(ink - np.array((214, 40, 40) if "red" in prompt else (250, 250, 250))).max() < 25


def test_an_image_that_already_reads_right_is_not_touched() -> None:
    image = render_poster('a poster that says "FRESH BREAD"', 512, 512, 1).image
    with pytest.raises(InvalidRequestError, match="nothing to repair"):
        repair_text(image, "FRESH BREAD")


def _store_misspelled_generation(studio: Any) -> tuple[str, str, Image.Image]:
    """A finished generation whose prompt asks for "SUMMER SALE" but whose image says SALF."""
    prompt = 'a poster that says "SUMMER SALE"'
    image = render_poster('a poster that says "SUMMER SALF"', 640, 640, 4).image
    repo = studio.repo
    conversation = studio.create_conversation("sale", "layout")
    message = repo.add_message(conversation.id, prompt, model="layout")
    params = {"prompt": prompt, "seed": 4, "width": 640, "height": 640, "count": 1}
    generation = repo.create_generation(message.id, "layout", params, resolved_model="layout",
                                        engine_kind="layout", status="running")
    stored = studio.assets.put(encode_png(image))
    repo.finish_generation(generation.id, [(stored, 4, None)], status="succeeded",
                           receipt={"request": params})
    return generation.id, message.id, image


async def test_studio_fix_text_makes_a_linked_generation_that_passes(studio: Studio) -> None:
    source_id, message_id, image = _store_misspelled_generation(studio)
    source = studio.get_generation(source_id)
    outcome = await studio.fix_text(source_id)
    (repaired,) = outcome.generations
    assert repaired.status == "succeeded" and repaired.resolved_model == "fixtext"
    assert repaired.params["source_asset"] == source.assets[0].sha256
    assert repaired.route_reason is not None and repaired.receipt is not None
    assert repaired.route_reason.startswith(f"text repair of {source_id}")
    assert "'SALF' -> 'SALE'" in repaired.route_reason
    checks = {v.name: v for v in repaired.validations}
    assert checks["typography"].passed is True and checks["typography"].details["cer"] == 0.0
    new_image = Image.open(io.BytesIO(Path(repaired.assets[0].path).read_bytes()))
    boxes = [tuple(p["box"]) for p in repaired.receipt.engine["patches"]]
    assert unchanged_outside(image, new_image, boxes)  # type: ignore[arg-type]
    thread = studio.load_thread(studio.repo.conversation_of_generation(source_id))
    answer = next(m for m in thread.messages if m.generations and
                  m.generations[0].id == repaired.id)
    assert answer.id == outcome.message.id
    assert answer.parent_id == message_id and answer.params["fixtext_of"] == source_id


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_chatimg_fixtext_command(studio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    source_id, _, _ = _store_misspelled_generation(studio)
    code, out, err = run_cli(capsys, "fixtext", source_id, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["source"] == source_id and result["status"] == "succeeded"
    assert [p["written"] for p in result["patches"]] == ["SALE"]
    assert {v["name"]: v["passed"] for v in result["validations"]}["typography"] is True
    code, out, err = run_cli(capsys, "fixtext", result["id"])
    assert code == 1 and err.startswith("chatimg: error: ") and "nothing to repair" in err
    assert err.count("\n") == 1
    code, _, err = run_cli(capsys, "fixtext", source_id, "--image", "3")
    assert code == 1 and "there is no image 3" in err


async def test_a_repair_replays_from_its_receipt(studio: Studio) -> None:
    """Replay runs the repair again on the source image (not a model lookup of "fixtext")."""
    import hashlib

    from chatimg.bundle.replay import replay_conversation

    source_id, _, _ = _store_misspelled_generation(studio)
    (repaired,) = (await studio.fix_text(source_id)).generations
    name, (again,) = await studio.regenerate(repaired.id)
    assert name == "fixtext" and again is not None
    assert hashlib.sha256(again).hexdigest() == repaired.assets[0].sha256
    report = await replay_conversation(studio, studio.repo.conversation_of_generation(source_id))
    (result,) = [r for r in report.results if r.generation_id == repaired.id]
    assert result.status in ("identical", "non-deterministic"), result
    assert "unknown" not in (result.note or ""), result
