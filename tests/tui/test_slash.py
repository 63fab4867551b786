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
    ("/upscale", "upscale", None),  # by what the model takes (2, or 4 on the x4 upscaler)
    ("/upscale 3", "upscale", 3.0),
    ("/edit 'my mask.png'", "edit", "my mask.png"),
    ("/describe", "describe", None),
    ("/fixtext", "fixtext", None),
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
    ("/fixtext now", "takes no arguments"),
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


class RecordingHost:
    """A ``CommandHost`` that records which call each command reached, on a real options."""

    def __init__(self) -> None:
        self.options = ComposerOptions(model="layout")
        self.calls: list[tuple[str, object]] = []

    async def change_setting(self, command: slash.SlashCommand) -> str | None:
        self.calls.append(("change_setting", self.options.apply(command)))
        return None

    async def vary_selected(self, strength: float) -> str | None:
        self.calls.append(("vary_selected", strength))
        return None

    async def upscale_selected(self, factor: float | None) -> str | None:
        self.calls.append(("upscale_selected", factor))
        return None

    async def edit_selected(self, mask: str) -> str | None:
        self.calls.append(("edit_selected", mask))
        return "mask file not found: " + mask

    async def describe_selected(self) -> str | None:
        self.calls.append(("describe_selected", None))
        return None

    async def fixtext_selected(self) -> str | None:
        self.calls.append(("fixtext_selected", None))
        return None

    async def rename_open(self, title: str) -> str | None:
        self.calls.append(("rename_open", title))
        return None

    async def export_open(self, path: str | None) -> str | None:
        self.calls.append(("export_open", path))
        return None

    async def set_theme(self, name: str) -> str | None:
        self.calls.append(("set_theme", name))
        return None

    async def open_compare(self) -> str | None:
        self.calls.append(("open_compare", None))
        return None

    async def show_help(self) -> str | None:
        self.calls.append(("show_help", None))
        return None


@pytest.mark.parametrize(("text", "call"), [
    ("/seed 7", ("change_setting", "seed → 7")),
    ("/size 256x128", ("change_setting", "size → 256x128")),
    ("/fanout layout slow", ("change_setting", "fan-out → layout, slow")),
    ("/scheduler default", ("change_setting", "scheduler → default")),
    ("/vary 0.3", ("vary_selected", 0.3)),
    ("/upscale", ("upscale_selected", None)),
    ("/describe", ("describe_selected", None)),
    ("/fixtext", ("fixtext_selected", None)),
    ("/rename  Poster   ideas ", ("rename_open", "Poster ideas")),
    ("/export out.zip", ("export_open", "out.zip")),
    ("/theme chatimg-light", ("set_theme", "chatimg-light")),
    ("/compare", ("open_compare", None)),
    ("/help", ("show_help", None)),
])
async def test_each_command_runs_through_its_registry_entry(text: str, call: object) -> None:
    host = RecordingHost()
    command = slash.parse(text, MODELS, ("chatimg-light",))
    assert await slash.run(command, host) is None
    assert host.calls == [call]


async def test_settings_change_the_hosts_options_and_errors_come_back() -> None:
    host = RecordingHost()
    await slash.run(slash.parse("/seed 9"), host)
    await slash.run(slash.parse("/model slow", MODELS), host)
    assert (host.options.seed, host.options.seed_locked, host.options.model) == (9, True, "slow")
    assert await slash.run(slash.parse("/edit nope.png"), host) == "mask file not found: nope.png"


def test_one_registry_feeds_parse_completion_and_help() -> None:
    names = [spec.name for spec in slash.SPECS]
    assert sorted(c.strip("/ ") for c in slash.complete("/")) == sorted(names)
    assert [usage for usage, _ in slash.help_lines()] == [spec.usage for spec in slash.SPECS]
    settings = {spec.name for spec in slash.SPECS if spec.setting is not None}
    assert {"model", "seed", "steps", "size", "n", "guidance", "scheduler", "negative",
            "fanout"} <= settings
    assert not settings & {"vary", "upscale", "edit", "describe", "rename", "export", "theme",
                           "compare", "help"}
    options = ComposerOptions(model="layout")
    assert options.apply(slash.SlashCommand("vary", 0.5)) is None  # not a setting


def test_advanced_fields_apply_and_clear() -> None:
    options = ComposerOptions(model="layout")
    options.apply_field("size", "320x200")
    options.apply_field("seed", "5")
    options.apply_field("n", "3")
    assert (options.width, options.height, options.seed, options.seed_locked,
            options.count) == (320, 200, 5, True, 3)
    assert options.advanced_values()["size"] == "320x200"
    options.apply_field("size", "")
    options.apply_field("seed", "")
    options.apply_field("n", "")
    assert (options.width, options.seed, options.seed_locked, options.count) == (
        None, None, False, 1)
    with pytest.raises(slash.SlashError, match="16 to 4096"):
        options.apply_field("size", "8x8")
