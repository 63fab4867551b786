"""The CLI at the level of the app: id prefixes everywhere, ``gen -o``, winners in ``show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chatimg.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def gen(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, "gen", *args, "--json", "-q")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def _conversations(capsys: pytest.CaptureFixture[str]) -> list[str]:
    _, out, _ = run(capsys, "ls", "--json")
    return [c["id"] for c in json.loads(out)]


def test_every_id_taking_command_accepts_a_unique_prefix(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    made = gen(capsys, 'a sign that says "ONE"', "--seed", "1")
    conversation = made["conversation_id"]
    prefix = conversation[:20].lower()
    more = gen(capsys, 'a sign that says "TWO"', "--seed", "2", "--conversation", prefix)
    assert more["conversation_id"] == conversation

    code, out, err = run(capsys, "show", prefix)
    assert code == 0, err and f"[{conversation}]" in out
    code, out, err = run(capsys, "rename", prefix, "signs")
    assert code == 0, err
    assert json.loads(run(capsys, "show", prefix, "--json")[1])["conversation"]["title"] == "signs"

    bundle = tmp_path / "signs.zip"
    code, out, err = run(capsys, "export", prefix, "-o", str(bundle), "-q")
    assert code == 0 and bundle.is_file(), err

    first, second = made["generations"][0]["id"], more["generations"][0]["id"]
    code, out, err = run(capsys, "compare", first[:22], second[:22].lower(), "--json")
    assert code == 0, err
    assert [g["id"] for g in json.loads(out)["generations"]] == [first, second]

    code, out, err = run(capsys, "replay", prefix, "--json")
    assert code == 0, err
    assert json.loads(out)["conversation_id"] == conversation

    code, out, err = run(capsys, "rm", prefix, "--yes")
    assert code == 0, err
    assert conversation not in _conversations(capsys)


def test_ambiguous_and_unknown_prefixes_are_one_line_errors(
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = [gen(capsys, f'a sign that says "{word}"')["conversation_id"] for word in ("A", "B")]
    common = ""
    for a, b in zip(*ids, strict=True):
        if a != b:
            break
        common += a
    assert common  # ULIDs made in the same second share their leading characters
    for command in (["show", common], ["rm", common, "--yes"], ["export", common],
                    ["replay", common], ["rename", common, "x"]):
        code, out, err = run(capsys, *command)
        assert code == 1 and out == ""
        assert err.startswith(f"chatimg: error: conversation id prefix '{common}' is ambiguous")
        assert err.count("\n") == 1
    code, _, err = run(capsys, "show", "ZZZZ")
    assert code == 1
    assert err == "chatimg: error: no conversation with id 'ZZZZ' (list them with: chatimg ls)\n"
    assert sorted(_conversations(capsys)) == sorted(ids)  # nothing was deleted


def test_gen_output_file_for_one_image(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    target = tmp_path / "out" / "poster.png"
    made = gen(capsys, 'a poster that says "HI"', "--seed", "3", "-o", str(target))
    assert made["files"] == [str(target)]
    stored = made["generations"][0]["assets"][0]
    assert target.read_bytes() == Path(stored["path"]).read_bytes()
    with Image.open(target) as image:
        assert json.loads(image.text["chatimg"])["seed"] == 3  # type: ignore[attr-defined]

    as_jpeg = tmp_path / "poster.jpg"
    gen(capsys, 'a poster that says "HI"', "--seed", "3", "-o", str(as_jpeg))
    with Image.open(as_jpeg) as image:
        assert image.format == "JPEG" and image.size == (stored["width"], stored["height"])


def test_gen_output_dir_for_several_images(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    target = tmp_path / "many"
    code, out, err = run(capsys, "gen", 'a poster that says "HI"', "-n", "2", "-m", "layout",
                         "-m", "layout", "--seed", "4", "-o", str(target), "-q")
    assert code == 0, err
    written = sorted(path.name for path in target.iterdir())
    assert len(written) == 4
    lines = [line for line in out.splitlines() if line.startswith("wrote ")]
    assert sorted(Path(line[6:]).name for line in lines) == written
    prefixes = {name.rsplit("-", 1)[0] for name in written}
    assert len(prefixes) == 2 and all(len(p) >= 12 for p in prefixes)
    assert {name.rsplit("-", 1)[1] for name in written} == {"1.png", "2.png"}


def test_gen_output_file_refuses_several_images_before_running(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "gen", "a cat", "-n", "3", "-o", str(tmp_path / "cat.png"))
    assert code == 1 and out == ""
    assert err == (f"chatimg: error: -o {tmp_path / 'cat.png'} names one file but this can make"
                   " 3 images (give a folder instead (e.g. -o out/))\n")
    assert _conversations(capsys) == []  # nothing ran, nothing stored


def test_show_marks_compare_winners_and_prints_receipts(
        capsys: pytest.CaptureFixture[str]) -> None:
    from chatimg.studio import Studio

    made = gen(capsys, 'a sign that says "WIN"', "-m", "layout", "-m", "layout", "--seed", "5")
    winner, loser = (g["id"] for g in made["generations"])
    studio = Studio.open()
    try:
        studio.add_pick([winner, loser], winner)
        studio.add_pick([winner, loser], winner)
    finally:
        studio.close()
    code, out, err = run(capsys, "show", made["conversation_id"][:22], "--receipts")
    assert code == 0, err
    lines = out.splitlines()
    winner_line = next(line for line in lines if line.endswith(winner + "  ♛ compare winner ×2"))
    assert winner_line.lstrip().startswith("[succeeded] layout")
    assert not any(loser in line and "winner" in line for line in lines)
    assert any(line.split() == ["seed", "5"] for line in lines)
    assert any(line.split()[:2] == ["compare", "winner"] for line in lines)
