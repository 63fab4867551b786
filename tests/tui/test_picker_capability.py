"""The model picker filtered to a capability: only capable models, available ones first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import SIZE, ready, wait_until
from tests.tui.engines import register_test_engines


@pytest.mark.parametrize("mode", ["img2img", "upscale"])
async def test_picker_lists_only_capable_models_available_first(
        make_app: Any, monkeypatch: pytest.MonkeyPatch, config_file: Path, tiny_sd_path: Path,
        mode: str) -> None:
    from textual.widgets import Label, OptionList

    from chatimg.model_choice import can_do
    from chatimg.tui.screens.model_picker import ModelPicker
    from tests.tiny_diffusers import write_tiny_model_config

    register_test_engines(monkeypatch, config_file, "second")
    write_tiny_model_config(config_file, tiny_sd_path)  # the last model; img2img, available
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        listings = {listing.name: listing for listing in screen.listings}
        chosen: list[str | None] = []
        app.push_screen(ModelPicker(screen.listings, "layout", filter_capability=mode),
                        chosen.append)
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker) and bool(
            app.screen.query(OptionList)) and app.screen.query_one(OptionList).option_count > 0,
            what="picker filled")
        options = app.screen.query_one(OptionList)
        names = [str(options.get_option_at_index(i).id) for i in range(options.option_count)]
        assert names and all(can_do(listings[name], mode) for name in names)
        assert "layout" not in names and "second" not in names  # txt2img only
        ready_flags = [listings[name].available for name in names]
        assert ready_flags == sorted(ready_flags, reverse=True)  # available first
        if mode == "img2img":
            assert names[0] == "tiny"  # listed last by the catalog, first here
        unavailable = [name for name in names if not listings[name].available]
        assert unavailable and all("✗" in str(options.get_option_at_index(names.index(name))
                                               .prompt) for name in unavailable)
        note = str(app.screen.query_one("#picker-note", Label).render())
        assert note.startswith(f"models that can do {mode}, available first")
        await pilot.press("enter")
        await wait_until(pilot, lambda: chosen != [], what="picked")
        assert chosen == [names[0]]
