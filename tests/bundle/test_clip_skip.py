"""A spec field added end to end (``clip_skip``): CLI, slash command, advanced panel, receipt,
PNG parameters, replay and bundle all carry it, and models that cannot honour it refuse it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from chatimg.pngmeta import read_parameters
from tests.bundle.conftest import write_config


def _gen(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("gen", "a lighthouse", "-m", "tiny", "--seed", "5", "--json", "-q", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_clip_skip_from_the_cli_to_the_receipt_the_png_replay_and_a_bundle(
    config_file: Path, tiny_sd_path: Path, cli: Any, tmp_path: Path
) -> None:
    write_config(config_file, tiny_sd_path)
    plain = _gen(cli)["generations"][0]
    skipped_run = _gen(cli, "--clip-skip", "1")
    skipped = skipped_run["generations"][0]
    assert skipped["status"] == "succeeded"
    assert skipped["assets"][0]["sha256"] != plain["assets"][0]["sha256"]  # it changed the image

    shown = json.loads(cli("show", skipped_run["conversation_id"], "--json").out)
    generation = shown["messages"][0]["generations"][0]
    assert generation["receipt"]["request"]["clip_skip"] == 1
    assert generation["params"]["clip_skip"] == 1
    png = Path(skipped["assets"][0]["path"]).read_bytes()
    assert (read_parameters(png) or {})["clip_skip"] == 1

    replay = cli("replay", skipped_run["conversation_id"], "--json")
    assert replay.code == 0, replay.err
    assert {r["status"] for r in json.loads(replay.out)["results"]} == {"identical"}

    bundle = tmp_path / "thread.zip"
    assert cli("export", skipped_run["conversation_id"], "-o", str(bundle)).code == 0
    assert cli("rm", skipped_run["conversation_id"], "--yes").code == 0
    assert cli("import", str(bundle)).code == 0
    again = json.loads(cli("show", skipped_run["conversation_id"], "--json").out)
    assert again["messages"][0]["generations"][0]["receipt"]["request"]["clip_skip"] == 1
    replayed = cli("replay", str(bundle), "--json")
    assert {r["status"] for r in json.loads(replayed.out)["results"]} == {"identical"}


def test_a_model_that_cannot_skip_clip_layers_refuses_it(
    config_file: Path, cli: Any
) -> None:
    write_config(config_file, None)
    result = cli("gen", "a poster", "-m", "layout", "--clip-skip", "2", "--json", "-q")
    assert result.code == 1
    (generation,) = json.loads(result.out)["generations"]
    assert generation["error"].startswith("layout does not take clip skip")


def test_slash_command_and_advanced_panel_set_it() -> None:
    from chatimg.tui import slash
    from chatimg.tui.options import ADVANCED_FIELDS, ComposerOptions

    options = ComposerOptions(model="tiny")
    command = slash.parse("/clipskip 2")
    assert slash.SPEC_BY_NAME["clipskip"].setting is not None
    assert slash.SPEC_BY_NAME["clipskip"].setting(options, command.value) == "clip skip → 2"
    assert options.params().clip_skip == 2
    assert options.advanced_values()["clipskip"] == "2"
    assert "clipskip" in {field.name for field in ADVANCED_FIELDS}
    options.apply_field("clipskip", "")
    assert options.params().clip_skip is None
    Image.new("RGB", (1, 1))  # Pillow is there for the first test's reads
