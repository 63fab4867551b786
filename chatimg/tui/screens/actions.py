"""Card actions and the card-bound slash commands (vary, upscale, edit, describe, export,
compare), as functions of the main screen so ``main.py`` stays about layout and sending."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg.domain import to_jsonable
from chatimg.errors import ChatImgError
from chatimg.spec import GenerationSpec
from chatimg.tui.screens.dialogs import AskScreen, ConfirmScreen, ReceiptScreen
from chatimg.tui.screens.model_picker import ModelPicker

if TYPE_CHECKING:
    from chatimg.tui.screens.main import MainScreen
    from chatimg.tui.widgets.card import GenerationCard


def viewer_command(path: str) -> list[str] | None:
    """The system viewer command for this platform (``None`` when there is none)."""
    if sys.platform == "darwin":
        return ["open", path]
    if sys.platform.startswith("win"):
        return ["cmd", "/c", "start", "", path]
    opener = shutil.which("xdg-open")
    return [opener, path] if opener else None


def card_or_latest(screen: MainScreen) -> GenerationCard | None:
    card = screen.selected_card
    if card is not None and card.is_attached:
        return card
    for candidate in reversed(screen.thread.cards()):
        if candidate.generation and candidate.generation.assets:
            return candidate
    return None

async def card_action(screen: MainScreen, card: GenerationCard, action: str) -> None:
    """Carry out ``action`` on ``card`` (see ``CARD_ACTIONS``)."""
    generation = card.generation
    if generation is None:
        screen.notify("the card has no stored generation yet", severity="warning")
        return
    model = generation.resolved_model or generation.requested_model
    params = generation.ran
    text = card.message_text
    block = card.parent
    parent_id = getattr(block, "message_id", None)
    asset = generation.assets[0] if generation.assets else None
    if action in ("regenerate", "reseed"):
        seed = params.seed if action == "regenerate" else None
        await screen.dispatch(text, [model], params.model_copy(update={"seed": seed}),
                              parent_id=parent_id)
    elif action == "other_model":
        def chosen(name: str | None) -> None:
            if name:
                screen.run_worker(screen.dispatch(text, [name], params, parent_id=parent_id))

        screen.app.push_screen(ModelPicker(screen.listings, model, "Run on another model"), chosen)
    elif action in ("vary", "upscale", "edit", "describe") and asset is None:
        screen.notify("this card has no image", severity="warning")
    elif action == "vary":
        await command_vary(screen, 0.6, card)
    elif action == "upscale":
        await command_upscale(screen, 2.0, card)
    elif action == "edit":
        def mask_given(path: str | None) -> None:
            if path:
                screen.run_worker(command_edit(screen, path, card))

        screen.app.push_screen(AskScreen("Mask image file", placeholder="path/to/mask.png"),
                             mask_given)
    elif action == "copy_seed":
        seed = asset.seed if asset and asset.seed is not None else params.seed
        screen.app.copy_to_clipboard(str(seed))
        screen.notify(f"copied seed {seed}")
    elif action == "copy_params":
        screen.app.copy_to_clipboard(json.dumps(generation.params, sort_keys=True))
        screen.notify("copied params as JSON")
    elif action == "open":
        if asset is None:
            screen.notify("this card has no image", severity="warning")
        else:
            screen.run_worker(_open_viewer(screen, asset.path), group="viewer",
                            exit_on_error=False)
    elif action == "receipt":
        body = json.dumps(to_jsonable(generation), indent=2, sort_keys=True)
        screen.app.push_screen(ReceiptScreen(f"Receipt · {model} · {generation.id}", body))
    elif action == "pick":
        if generation.id in screen.picked:
            screen.picked.remove(generation.id)
        else:
            screen.picked.append(generation.id)
        card.set_picked(generation.id in screen.picked)
        screen.notify(f"{len(screen.picked)} picked — /compare to compare")
    elif action == "delete":
        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                screen.studio.delete_generation(generation.id)
            except ChatImgError as exc:
                screen.notify(exc.one_line(), severity="error")
                return
            if generation.id in screen.picked:
                screen.picked.remove(generation.id)
            card.remove()
            screen.notify(f"deleted the {model} generation")

        screen.app.push_screen(
            ConfirmScreen(f"Delete this {model} generation and its checks?"), confirmed
        )

async def _open_viewer(screen: MainScreen, path: str) -> None:
    command = viewer_command(path)
    if command is None:
        screen.notify("no system image viewer found (xdg-open missing)", severity="error")
        return

    def run() -> str | None:
        try:
            result = subprocess.run(command, capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if result.returncode:
            return (result.stderr.decode(errors="replace").strip().splitlines() or
                    [f"exit status {result.returncode}"])[-1]
        return None

    error = await asyncio.to_thread(run)
    if error:
        screen.notify(f"could not open the image: {error}", severity="error")

async def _from_card(screen: MainScreen, card: GenerationCard | None,
                     **changes: Any) -> str | None:
    card = card or card_or_latest(screen, )
    if card is None or card.generation is None or not card.generation.assets:
        return "select a card with an image first (tab to it)"
    generation = card.generation
    model = generation.resolved_model or generation.requested_model
    params = GenerationSpec.build(source_asset=generation.assets[0].sha256, **changes)
    await screen.dispatch(card.message_text, [model], params, parent_id=None)
    return None

async def command_vary(screen: MainScreen, strength: float,
                       card: GenerationCard | None = None) -> str | None:
    return await _from_card(screen, card, strength=strength)

async def command_upscale(screen: MainScreen, factor: float,
                          card: GenerationCard | None = None) -> str | None:
    return await _from_card(screen, card, upscale=factor)

async def command_edit(screen: MainScreen, mask: str,
                       card: GenerationCard | None = None) -> str | None:
    if not Path(mask).expanduser().is_file():
        return f"mask file not found: {mask}"
    return await _from_card(screen, card, mask=str(Path(mask).expanduser()))

async def command_describe(screen: MainScreen, _: Any) -> str | None:
    card = card_or_latest(screen, )
    if card is None or card.generation is None or not card.generation.assets:
        return "select a card with an image first (tab to it)"
    asset = card.generation.assets[0]
    model = screen.options.model
    try:
        engine = screen.studio.engine(model)
        data = await asyncio.to_thread(Path(asset.path).read_bytes)
        text = await engine.describe(data)
    except (ChatImgError, OSError) as exc:
        return exc.one_line() if isinstance(exc, ChatImgError) else str(exc)
    screen.composer.restore(text)
    screen.composer.show_info(f"description from {model} — edit and press Enter")
    return None

async def command_export(screen: MainScreen, path: str | None) -> str | None:
    if screen.conversation_id is None:
        return "open a conversation to export"
    try:
        from chatimg.bundle import export_conversation
    except ImportError:
        return "/export is not available yet"
    target = Path(path).expanduser() if path else Path.cwd() / f"{screen.conversation_id}.zip"
    conversation_id = screen.conversation_id

    async def run() -> None:
        try:
            written = await asyncio.to_thread(export_conversation, screen.studio,
                                              conversation_id, target)
        except ChatImgError as exc:
            screen.notify(f"export failed: {exc.one_line()}", severity="error")
            return
        screen.notify(f"exported to {written or target}")

    screen.run_worker(run(), group="export", exit_on_error=False)
    screen.composer.show_info(f"exporting to {target}…")
    return None

async def command_compare(screen: MainScreen, _: Any) -> str | None:
    """Compare the picked cards, else the selected card's fanned-out message, else the newest
    message with two or more images."""
    from chatimg.compare import message_compare_ids
    from chatimg.tui.screens.compare import CompareScreen

    ids = list(screen.picked)[-4:]
    if len(ids) < 2:
        if screen.conversation_id is None:
            return "pick at least two cards first (p on a card)"
        thread = await asyncio.to_thread(screen.studio.load_thread, screen.conversation_id)
        messages = list(thread.messages)
        selected = screen.selected_card
        if selected is not None:
            owner = getattr(selected.parent, "message_id", None)
            messages = [m for m in messages if m.id == owner] or messages
        fanned = [m for m in messages if len(m.generations) >= 2]
        if not fanned:
            return "pick at least two cards first (p on a card), or fan a prompt out (/fanout)"
        try:
            ids = message_compare_ids(fanned[-1])
        except ChatImgError as exc:
            return exc.one_line()
    try:
        compare = CompareScreen(screen.studio, ids)
    except ChatImgError as exc:
        return exc.one_line()
    screen.app.push_screen(compare, partial(continue_from, screen))
    return None

def continue_from(screen: MainScreen, result: dict[str, Any] | None) -> None:
    """The compare screen's "continue from this one": load its model, seed and params.

    Whatever the result, the thread is reloaded so new picks show on the cards.
    """
    if screen.conversation_id:
        screen.open_conversation(screen.conversation_id, screen.thread.scroll_y)
    if not result:
        return
    model = result.get("model")
    spec = GenerationSpec.from_stored({**(result.get("params") or {}),
                                       "seed": result.get("seed")}, lenient=True)
    screen.options.continue_from(model if model in screen.composer.models else None, spec)
    screen._model_defaults()
    screen.composer.show_info("continuing from the picked image · " + screen.options.summary())


#: Slash commands handled here: name → coroutine function (screen, value) → error or None.
COMMANDS: dict[str, Callable[..., Awaitable[str | None]]] = {
    "vary": command_vary, "upscale": command_upscale, "edit": command_edit,
    "describe": command_describe, "export": command_export, "compare": command_compare,
}
