"""``chatimg vary|upscale|edit|describe GEN_ID`` against a fake Ideogram server: the same Studio
calls as the app's card keys, each a new message in the source's thread, sent with the source
image's stored bytes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.remote.fakeserver import FakeServer, Reply, png
from tests.remote.test_ideogram import ideogram_reply


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from chatimg.cli import main

    code = 0
    try:
        main(list(args))
    except SystemExit as exited:
        code = int(exited.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = _cli(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def _first(server: FakeServer, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Two images of a lighthouse from ideogram-v2; the second one is blue."""
    server.route("POST", "/generate", ideogram_reply(server, [
        {"seed": 1, "bytes": png(64, 64, (200, 60, 40))},
        {"seed": 2, "bytes": png(64, 64, (10, 120, 200))}]))
    made = _json(capsys, "gen", "a lighthouse", "-m", "ideogram-v2", "-q")
    (generation,) = made["generations"]
    assert generation["status"] == "succeeded", generation["error"]
    return made


def test_vary_upscale_edit_describe_from_the_command_line(
        remote_env: FakeServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from PIL import Image

    server = remote_env
    made = _first(server, capsys)
    source = made["generations"][0]
    second = source["assets"][1]
    second_bytes = Path(second["path"]).read_bytes()

    server.route("POST", "/remix", ideogram_reply(server, [{}]))
    varied = _json(capsys, "vary", source["id"], "--image", "2", "--strength", "0.5", "-q")
    assert varied["conversation_id"] == made["conversation_id"]
    assert varied["generations"][0]["status"] == "succeeded"
    form = server.hits("POST", "/remix")[0].form()
    assert json.loads(form["image_request"].text)["image_weight"] == 50
    assert json.loads(form["image_request"].text)["prompt"] == "a lighthouse"
    assert form["image_file"].data == second_bytes

    server.route("POST", "/upscale", ideogram_reply(server, [{}]))
    upscaled = _json(capsys, "upscale", source["id"], "-q")
    assert upscaled["generations"][0]["status"] == "succeeded"
    assert server.hits("POST", "/upscale")[0].form()["image_file"].data == Path(
        source["assets"][0]["path"]).read_bytes()

    mask = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask)
    server.route("POST", "/edit", ideogram_reply(server, [{}]))
    edited = _json(capsys, "edit", source["id"], str(mask), "--prompt", "add a moon", "-q")
    assert edited["generations"][0]["status"] == "succeeded"
    sent = server.hits("POST", "/edit")[0].form()
    assert sent["prompt"].text == "add a moon"
    assert Image.open(io.BytesIO(sent["mask"].data)).size == (64, 64)

    server.route("POST", "/describe", Reply(200, {"descriptions": [{"text": "A red tower."}]}))
    code, out, err = _cli(capsys, "describe", source["id"], "-m", "ideogram-v2")
    assert (code, out.strip()) == (0, "A red tower."), err
    described = _json(capsys, "describe", source["id"], "--image", "2", "-m", "ideogram-v2")
    assert described["description"] == "A red tower."
    assert server.hits("POST", "/describe")[1].form()["image_file"].data == second_bytes

    # Each action is a new message in the source's thread, replying to the source message.
    code, out, err = _cli(capsys, "show", made["conversation_id"], "--json")
    assert code == 0, err
    thread = json.loads(out)
    messages = thread["messages"]
    assert len(messages) == 4
    assert all(m["parent_id"] == made["message_id"] for m in messages[1:])


def test_bad_image_number_and_unknown_generation_are_one_line_errors(
        remote_env: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    made = _first(remote_env, capsys)
    gid = made["generations"][0]["id"]
    code, out, err = _cli(capsys, "vary", gid, "--image", "3")
    assert code == 1 and out == ""
    assert err.startswith("chatimg: error:") and "there is no image 3" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = _cli(capsys, "describe", gid, "-m", "layout")
    assert code == 1 and "layout cannot describe images" in err
    code, _, err = _cli(capsys, "upscale", "no-such-generation")
    assert code == 1 and err.startswith("chatimg: error:")
    assert len(err.strip().splitlines()) == 1
