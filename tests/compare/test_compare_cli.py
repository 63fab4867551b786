"""``chatimg compare``: contact sheet checked by pixels, JSON diff, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from chatimg.cli import main
from chatimg.studio import Studio
from tests.compare.conftest import MODELS, fan_out


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    pixels_a, pixels_b = a.convert("RGB").tobytes(), b.convert("RGB").tobytes()
    return sum(abs(x - y) for x, y in zip(pixels_a, pixels_b, strict=True)) / len(pixels_a)


async def test_contact_sheet_grid_holds_the_inputs(cstudio: Studio, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = await fan_out(cstudio, MODELS, seed=5)
    more = await fan_out(cstudio, ["layout-a"], seed=9,
                         conversation_id=first.message.conversation_id)
    generations = [*first.generations, *more.generations]
    ids = [g.id for g in generations]
    out = tmp_path / "sheet.png"
    code, stdout, stderr = run_cli(["compare", *ids, "--out", str(out), "--json"], capsys)
    assert code == 0, stderr
    data = json.loads(stdout)
    sheet = Image.open(out)
    assert sheet.format == "PNG"
    assert sheet.size == (data["sheet"]["width"], data["sheet"]["height"])
    boxes = [cell["box"] for cell in data["sheet"]["cells"]]
    assert [cell["id"] for cell in data["sheet"]["cells"]] == ids
    # 2x2 grid: two columns, two rows.
    lefts, tops = sorted({b[0] for b in boxes}), sorted({b[1] for b in boxes})
    assert boxes[0][0] < boxes[1][0] and boxes[2][1] > boxes[0][1] and boxes[3][1] > boxes[1][1]
    assert len(tops) >= 2 and len(lefts) >= 2
    inputs = [Image.open(g.assets[0].path).convert("RGB") for g in generations]
    for index, box in enumerate(boxes):
        cell = sheet.crop(tuple(box))
        # Aspect ratio is kept, and the cell matches its own input scaled down...
        source = inputs[index]
        assert abs(cell.width / cell.height - source.width / source.height) < 0.02
        own = _mean_abs_diff(cell, source.resize(cell.size, Image.Resampling.LANCZOS))
        assert own < 3.0
        # ...and not another input.
        for other_index, other in enumerate(inputs):
            if other_index != index and other.size == source.size:
                assert _mean_abs_diff(cell, other.resize(cell.size)) > own + 5
    # The JSON holds the metadata diff and the similarity of each pair, naming the methods.
    assert data["differs"]["model"][ids[1]] == "layout-b"
    assert data["differs"]["seed"] == {ids[0]: "5", ids[1]: "5", ids[2]: "5", ids[3]: "9"}
    assert set(data["similarity"]["methods"]) == {"ssim", "dhash"}
    assert len(data["similarity"]["pairs"]) == 6
    assert all(0 < pair["ssim"] < 1 for pair in data["similarity"]["pairs"])


async def test_contact_sheet_shows_error_and_missing_cells(cstudio: Studio, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    outcome = await fan_out(cstudio, ["layout-a", "layout-b", "no-such-model"])
    ok, gone, failed = outcome.generations
    Path(gone.assets[0].path).unlink()
    out = tmp_path / "sheet.png"
    code, stdout, stderr = run_cli(
        ["compare", ok.id, gone.id, failed.id, "--out", str(out), "--json"], capsys
    )
    assert code == 0, stderr
    data = json.loads(stdout)
    assert [g["state"] for g in data["generations"]] == ["ok", "missing", "failed"]
    sheet = Image.open(out).convert("RGB")
    boxes = [tuple(cell["box"]) for cell in data["sheet"]["cells"]]
    # The failed and missing cells hold text (not blank, not an image).
    for box in boxes[1:]:
        colours = sheet.crop(box).getcolors(maxcolors=1_000_000) or []
        assert 2 <= len(colours) < 200


async def test_text_output_lists_shared_and_differing(cstudio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = await fan_out(cstudio, MODELS)
    code, stdout, _ = run_cli(["compare", *[g.id for g in outcome.generations]], capsys)
    assert code == 0
    assert "same:" in stdout and "seed 5" in stdout
    assert "differs: size: #1 96x96  #2 128x96  #3 96x128" in stdout
    assert stdout.count("similar:") == 3


async def test_unknown_ids_and_mixed_conversations_are_clear_errors(cstudio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    one = await fan_out(cstudio, ["layout-a"])
    two = await fan_out(cstudio, ["layout-b"])
    code, stdout, stderr = run_cli(["compare", one.generations[0].id, "bogus"], capsys)
    assert code == 1 and stdout == ""
    assert stderr == "chatimg: error: no generation with id 'bogus'\n"
    code, _, stderr = run_cli(["compare", one.generations[0].id, two.generations[0].id], capsys)
    assert code == 1
    assert stderr.startswith("chatimg: error: the generations come from 2 conversations")
    assert stderr.count("\n") == 1 and "Traceback" not in stderr


async def test_images_of_one_generation_compare_by_id_prefix_and_number(
        cstudio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    """``ID#k`` names a generation's k-th image (a unique id prefix works too)."""
    from chatimg.spec import GenerationSpec

    outcome = await cstudio.generate('"FOUR"', ["layout-a"], GenerationSpec.build(seed=2, count=4),
                                     validate=False)
    (grid,) = outcome.generations
    prefix = grid.id[:12]
    code, stdout, stderr = run_cli(["compare", f"{prefix}#3", prefix, "--json"], capsys)
    assert code == 0, stderr
    data = json.loads(stdout)
    assert [g["id"] for g in data["generations"]] == [f"{grid.id}#3", grid.id]
    assert [g["path"] for g in data["generations"]] == [grid.assets[2].path,
                                                       grid.assets[0].path]
    assert data["differs"]["seed"] == {f"{grid.id}#3": str(grid.assets[2].seed),
                                       grid.id: str(grid.assets[0].seed)}
    for wrong, reason in ((f"{prefix}#5", "there is no image 5"), (f"{prefix}#0", "k from 1")):
        code, _, stderr = run_cli(["compare", wrong, prefix], capsys)
        assert code == 1 and reason in stderr
