"""The composer's slash-command parser, completion and options (pure, no app)."""

from __future__ import annotations

import pytest

from chatimg.tui import slash
from chatimg.tui.options import ComposerOptions, preset_values

MODELS = ("layout", "sd-turbo", "slow")


@pytest.mark.parametrize(("text", "name", "value"), [
    ("/model sd-turbo", "model", "sd-turbo"),
    ("/seed 42", "seed", 42),
    ("/seed random", "seed", None),
    ("/steps 4", "steps", 4),
    ("/size 512x768", "size", (512, 768)),
    ("/n 3", "n", 3),
    ("/guidance 7.5", "guidance", 7.5),
    ("/scheduler euler", "scheduler", "euler"),
    ("/scheduler default", "scheduler", None),
    ("/negative blurry, text", "negative", "blurry, text"),
    ("/fanout layout slow layout", "fanout", ("layout", "slow")),
    ("/vary", "vary", 0.6),
    ("/vary 0.3", "vary", 0.3),
    ("/upscale", "upscale", 2.0),
    ("/edit 'my mask.png'", "edit", "my mask.png"),
    ("/describe", "describe", None),
    ("/rename  Poster   ideas ", "rename", "Poster ideas"),
    ("/export", "export", None),
    ("/export out.zip", "export", "out.zip"),
    ("/theme chatimg-light", "theme", "chatimg-light"),
    ("/help", "help", None),
    ("/compare", "compare", None),
])
def test_valid_commands(text: str, name: str, value: object) -> None:
    command = slash.parse(text, MODELS, ("chatimg-light",))
    assert (command.name, command.value) == (name, value)


@pytest.mark.parametrize(("text", "needle"), [
    ("/seed abc", "whole number"),
    ("/seed -1", "0 to"),
    ("/size 7x7", "16 to 4096"),
    ("/size big", "512x512"),
    ("/model nope", "unknown model 'nope'"),
    ("/model", "usage"),
    ("/fanout layout nope", "unknown model"),
    ("/steps 0", "1 to 500"),
    ("/guidance x", "number"),
    ("/vary 2", "between 0 and 1"),
    ("/theme nope", "unknown theme"),
    ("/frobnicate", "unknown command"),
    ("/help me", "takes no arguments"),
    ("/edit a b", "one path"),
])
def test_invalid_commands_say_why(text: str, needle: str) -> None:
    with pytest.raises(slash.SlashError) as caught:
        slash.parse(text, MODELS, ("chatimg-light",))
    assert needle in str(caught.value)


def test_completion() -> None:
    assert slash.complete("/mo", MODELS) == ["/model "]
    assert slash.complete("/model s", MODELS) == ["/model sd-turbo", "/model slow"]
    assert slash.complete("/fanout layout s", MODELS) == ["/fanout layout sd-turbo ",
                                                          "/fanout layout slow "]
    assert slash.complete("/theme chatimg-l", (), ("chatimg-light", "x")) == [
        "/theme chatimg-light"]
    assert slash.complete("hello", MODELS) == []
    assert "/seed " in slash.complete("/s", MODELS)


def test_options_apply_and_params() -> None:
    options = ComposerOptions(model="layout", model_defaults={"steps": 20, "width": 512,
                                                              "height": 512})
    assert options.apply(slash.parse("/seed 7")) == "seed → 7"
    options.apply(slash.parse("/size 256x128"))
    options.apply(slash.parse("/fanout layout slow", MODELS))
    params = options.params()
    assert (params.seed, params.width, params.height) == (7, 256, 128)
    assert options.models == ["layout", "slow"]
    options.apply(slash.parse("/model sd-turbo", MODELS))
    assert options.models == ["sd-turbo"]
    options.preset = "Draft"
    assert options.params().steps == 10
    options.apply(slash.parse("/seed random"))
    assert options.params().seed is None
    assert "Draft" in options.summary()


def test_presets_scale_defaults() -> None:
    defaults = {"steps": 30, "width": 1024, "height": 768}
    assert preset_values("Draft", defaults) == {"steps": 15, "width": 512, "height": 384}
    assert preset_values("Quality", defaults)["steps"] == 45
    assert preset_values("Balanced", defaults) == {"steps": None, "width": None, "height": None}
    assert preset_values("Draft", {}) == {"steps": None, "width": None, "height": None}
