"""``chatimg gen`` on the tiny diffusers model: same seed twice gives the same file; img2img and
inpaint from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image


def _gen(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    from chatimg.cli import main

    try:
        main(["gen", *args, "--json", "-q"])
    except SystemExit as exited:
        assert not exited.code, capsys.readouterr()
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_cli_same_seed_same_sha256(tiny_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _gen(capsys, "a cat", "-m", "tiny", "-m", "layout", "--seed", "4")
    second = _gen(capsys, "a cat", "-m", "tiny", "-m", "layout", "--seed", "4")
    hashes = [[a["sha256"] for g in r["generations"] for a in g["assets"]]
              for r in (first, second)]
    assert len(hashes[0]) == 2 and hashes[0] == hashes[1]
    assert all(g["status"] == "succeeded" for g in first["generations"])


def test_cli_img2img_and_inpaint(tiny_config: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    made = _gen(capsys, "a house", "-m", "tiny", "--seed", "1")
    source = made["generations"][0]["assets"][0]["sha256"]
    varied = _gen(capsys, "a house in snow", "-m", "tiny", "--seed", "1", "--from", source[:12],
                  "--strength", "0.6", "--steps", "4",
                  "--conversation", made["conversation_id"])
    assert varied["generations"][0]["status"] == "succeeded"
    mask = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask)
    painted = _gen(capsys, "a boat", "-m", "tiny", "--seed", "1", "--from", source,
                   "--mask", str(mask))
    (generation,) = painted["generations"]
    assert generation["status"] == "succeeded"
    assert (generation["assets"][0]["width"], generation["assets"][0]["height"]) == (64, 64)
