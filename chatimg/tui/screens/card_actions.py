"""The main screen's actions on generations: card keys and the card-bound slash commands.

``CardActions`` is the half of ``MainScreen`` that acts on stored generations: each action is
one ``Studio`` call (``rerun``, ``vary``, ``upscale``, ``edit``, ``describe_image``,
``delete_generation``) run in a worker, or a view-only step (copy, receipt, viewer, pick for
compare). Cards only announce ``CardAction(generation_id, action, image)``; the state they act
on (``generations``, ``picked``, ``selected_id``, ``selected_image``) belongs to the screen.
Every action that is about an image acts on the card's selected image, and picks for compare
are images (``ImageRef``), not generations.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg.errors import ChatImgError
from chatimg.tui.screens.card_navigation import CardNavigation
from chatimg.tui.screens.dialogs import AskScreen, ConfirmScreen, ReceiptScreen
from chatimg.tui.screens.model_checks import ModelChecks
from chatimg.tui.screens.model_picker import ModelPicker
from chatimg.tui.screens.sending import Sending
from chatimg.tui.viewer import open_in_viewer
from chatimg.tui.widgets.card import ACTION_MODES, CardAction

if TYPE_CHECKING:
    from chatimg.compare import ImageRef
    from chatimg.engines.base import CancelToken
    from chatimg.engines.catalog import Listing
    from chatimg.generation import EventCallback, GenerateOutcome
    from chatimg.studio import Studio
    from chatimg.tui.options import ComposerOptions

NO_IMAGE = "select a card with an image first (tab to it)"


class CardActions(Sending, ModelChecks, CardNavigation):
    """Card actions and the card-bound ``CommandHost`` calls of the main screen."""

    studio: Studio
    options: ComposerOptions
    conversation_id: str | None
    listings: list[Listing]
    picked: list[ImageRef]
    selected_id: str | None
    selected_image: int

    # -- provided by MainScreen ---------------------------------------------------------------

    def continue_from(self, result: dict[str, Any] | None) -> None:
        raise NotImplementedError

    # -- card keys ----------------------------------------------------------------------------

    def on_card_action(self, message: CardAction) -> None:
        self.card_action(message.generation_id, message.action, message.image)

    def card_action(self, generation_id: str, action: str, image: int | None = None) -> None:
        """Carry out ``action`` (see ``CARD_ACTIONS``) on image ``image`` of a shown generation
        (default: the selected image when it is this generation's, else the first)."""
        if image is None:
            image = self.selected_image if generation_id == self.selected_id else 0
        self.selected_id, self.selected_image = generation_id, image
        generation = self.generations.get(generation_id)
        if generation is None:
            self.notify("the card has no stored generation yet", severity="warning")
            return
        model = generation.resolved_model or generation.requested_model
        image = min(image, max(0, len(generation.assets) - 1))
        at: int = image  # for the callbacks below
        asset = generation.assets[image] if generation.assets else None
        if action in ("regenerate", "reseed"):
            self.rerun(generation_id, new_seed=action == "reseed")
        elif action == "other_model":
            def chosen(name: str | None) -> None:
                if name:
                    self.rerun(generation_id, model=name)

            self.app.push_screen(ModelPicker(self.listings, model, "Run on another model"),
                                 chosen)
        elif action in ("vary", "upscale", "edit", "open", "view", "copy_path") and asset is None:
            self.notify("this card has no image", severity="warning")
        elif action == "vary":
            self.on_capable_model(generation_id, action,
                                  lambda chosen: self.vary(generation_id, 0.6, chosen, at))
        elif action == "upscale":
            self.on_capable_model(generation_id, action,
                                  lambda chosen: self.upscale(generation_id, None, chosen, at))
        elif action == "view":
            self.view_image(generation_id, image)
        elif action == "edit":
            def ask_mask(chosen: str | None) -> None:
                def mask_given(path: str | None) -> None:
                    error = self.edit(generation_id, path, chosen, at) if path else None
                    if error:
                        self.notify(error, severity="error")

                self.app.push_screen(AskScreen("Mask image file",
                                               placeholder="path/to/mask.png"), mask_given)

            self.on_capable_model(generation_id, action, ask_mask)
        elif action == "copy_seed":
            seed = asset.seed if asset and asset.seed is not None else generation.params.get(
                "seed")
            self.app.copy_to_clipboard(str(seed))
            self.notify(f"copied seed {seed}")
        elif action == "copy_params":
            self.app.copy_to_clipboard(json.dumps(generation.params, sort_keys=True))
            self.notify("copied params as JSON")
        elif action == "copy_path" and asset is not None:
            self.app.copy_to_clipboard(asset.path)
            self.notify(f"copied the path of image {image + 1}")
        elif action == "open" and asset is not None:
            self.run_worker(self._open_viewer(asset.path), group="viewer", name="viewer",
                            exit_on_error=False)
        elif action == "receipt":
            card = self.thread.card(generation_id)
            image = 0 if len(generation.assets) == 1 else None  # None: every image's checks
            self.app.push_screen(ReceiptScreen(f"Receipt · {model} · {generation.id}",
                                               generation, image, card.wins if card else 0))
        elif action == "pick":
            self.toggle_pick(generation_id, image)
        elif action == "delete":
            self.app.push_screen(ConfirmScreen(f"Delete this {model} generation and its checks?"),
                                 lambda yes: self.delete(generation_id) if yes else None)

    def on_capable_model(self, generation_id: str, action: str,
                         run: Callable[[str | None], object]) -> None:
        """``run(None)`` when the generation's own model can do ``action`` here; else the
        picker, filtered to the models that can (available first), and ``run(chosen)``.

        Nothing is stored for a model that cannot do it: no failed message to clean up.
        """
        generation = self.generations.get(generation_id)
        model = (generation.resolved_model or generation.requested_model) if generation else ""
        mode = ACTION_MODES[action]
        if self.can_run(model, mode):
            run(None)
            return

        def chosen(name: str | None) -> None:
            if not name:
                return
            listing = self.listing_of(name)
            if listing is None or not listing.available:  # marked ✗ in the picker
                why = listing.reason if listing is not None else "unknown model"
                self.notify(f"{name} cannot run here: {why}", severity="warning")
                return
            run(name)

        self.app.push_screen(
            ModelPicker(self.listings, None, f"{model} cannot do {mode} here: {action} on…",
                        filter_capability=mode), chosen)

    def toggle_pick(self, generation_id: str, image: int = 0) -> None:
        """Pick an image for compare, or drop it from the picks."""
        from chatimg.compare import ImageRef

        ref = ImageRef(generation_id, image)
        if ref in self.picked:
            self.picked.remove(ref)
        else:
            self.picked.append(ref)
        card = self.thread.card(generation_id)
        if card is not None:
            card.set_picked(frozenset(p.image for p in self.picked
                                      if p.generation_id == generation_id))
        self.notify(f"{len(self.picked)} picked — /compare to compare")

    def delete(self, generation_id: str) -> None:
        """Delete a generation (``Studio.delete_generation``) and its card."""
        generation = self.generations.get(generation_id)
        try:
            self.studio.delete_generation(generation_id)
        except ChatImgError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.picked[:] = [p for p in self.picked if p.generation_id != generation_id]
        self.generations.pop(generation_id, None)
        card = self.thread.card(generation_id)
        if card is not None:
            card.remove()
        for slot in self.thread.slots():
            if slot.generation_id == generation_id:
                slot.remove()
        model = (generation.resolved_model or generation.requested_model) if generation else ""
        self.notify(f"deleted the {model} generation")

    async def _open_viewer(self, path: str) -> None:
        error = await asyncio.to_thread(open_in_viewer, path)
        if error:
            self.notify(f"could not open the image: {error}", severity="error")

    # -- one Studio call each -----------------------------------------------------------------

    def _label(self, generation_id: str, model: str | None = None) -> str:
        generation = self.generations.get(generation_id)
        if model is not None or generation is None:
            return model or "…"
        return generation.resolved_model or generation.requested_model

    def rerun(self, generation_id: str, *, new_seed: bool = False,
              model: str | None = None) -> None:
        """``Studio.rerun``: the same message again (same seed unless ``new_seed``)."""
        studio = self.studio

        def call(on_event: EventCallback, cancel: CancelToken) -> Awaitable[GenerateOutcome]:
            return studio.rerun(generation_id, new_seed=new_seed, model=model,
                                on_event=on_event, cancel=cancel)

        self.start_send(self.prompts.get(generation_id, ""), self._label(generation_id, model),
                        call, restore=False, name="card-action")

    def vary(self, generation_id: str, strength: float, model: str | None = None,
             image: int = 0) -> None:
        """``Studio.vary``: image-to-image from the generation's ``image``-th image (on
        ``model``, else its own)."""
        studio = self.studio

        def call(on_event: EventCallback, cancel: CancelToken) -> Awaitable[GenerateOutcome]:
            return studio.vary(generation_id, image=image, strength=strength, model=model,
                               on_event=on_event, cancel=cancel)

        self.start_send(self.prompts.get(generation_id, ""), self._label(generation_id, model),
                        call, restore=False, name="card-action")

    def upscale(self, generation_id: str, factor: float | None, model: str | None = None,
                image: int = 0) -> None:
        """``Studio.upscale`` of the generation's ``image``-th image (on ``model``, else its
        own), by ``factor`` or, when None, by what that model takes (2, or 4 on the x4
        upscaler)."""
        studio = self.studio

        def call(on_event: EventCallback, cancel: CancelToken) -> Awaitable[GenerateOutcome]:
            return studio.upscale(generation_id, image=image, factor=factor, model=model,
                                  on_event=on_event, cancel=cancel)

        self.start_send(self.prompts.get(generation_id, ""), self._label(generation_id, model),
                        call, restore=False, name="card-action")

    def edit(self, generation_id: str, mask: str, model: str | None = None,
             image: int = 0) -> str | None:
        """``Studio.edit`` (inpaint) of the ``image``-th image with a mask file (on ``model``,
        else the generation's own); an error line when the file is missing."""
        path = Path(mask).expanduser()
        if not path.is_file():
            return f"mask file not found: {mask}"
        studio = self.studio

        def call(on_event: EventCallback, cancel: CancelToken) -> Awaitable[GenerateOutcome]:
            return studio.edit(generation_id, str(path), image=image, model=model,
                               on_event=on_event,
                               cancel=cancel)

        self.start_send(self.prompts.get(generation_id, ""), self._label(generation_id, model),
                        call, restore=False, name="card-action")
        return None

    def fixtext(self, generation_id: str, image: int = 0) -> None:
        """``Studio.fix_text``: the ``image``-th image with its misspelled text rewritten."""
        studio = self.studio

        def call(on_event: EventCallback, cancel: CancelToken) -> Awaitable[GenerateOutcome]:
            return studio.fix_text(generation_id, image, on_event=on_event, cancel=cancel)

        self.start_send(self.prompts.get(generation_id, ""), "fixtext", call, restore=False,
                        name="card-action")

    async def _describe(self, generation_id: str, model: str, image: int = 0) -> None:
        try:
            text = await self.studio.describe_image(generation_id, model, image=image)
        except ChatImgError as exc:
            self.composer.show_error(exc.one_line())
            return
        self.composer.restore(text)
        self.composer.show_info(f"description from {model} — edit and press Enter")

    # -- CommandHost: the card-bound slash commands -------------------------------------------

    def image_target(self) -> str | None:
        """The selected generation when it has an image, else the newest one with an image."""
        selected = self.generations.get(self.selected_id or "")
        if selected is not None and selected.assets and \
                self.thread.card(selected.id) is not None:
            return selected.id
        for card in reversed(self.thread.entries()):
            generation = self.generations.get(card.generation_id)
            if generation is not None and generation.assets:
                return generation.id
        return None

    def image_of_target(self, target: str) -> int:
        """The selected image when ``target`` is the selected generation, else its first."""
        return self.selected_image if target == self.selected_id else 0

    async def vary_selected(self, strength: float) -> str | None:
        target = self.image_target()
        if target is None:
            return NO_IMAGE
        image = self.image_of_target(target)
        self.on_capable_model(target, "vary",
                              lambda chosen: self.vary(target, strength, chosen, image))
        return None

    async def upscale_selected(self, factor: float | None) -> str | None:
        target = self.image_target()
        if target is None:
            return NO_IMAGE
        image = self.image_of_target(target)
        self.on_capable_model(target, "upscale",
                              lambda chosen: self.upscale(target, factor, chosen, image))
        return None

    async def edit_selected(self, mask: str) -> str | None:
        target = self.image_target()
        if target is None:
            return NO_IMAGE
        if not Path(mask).expanduser().is_file():
            return f"mask file not found: {mask}"
        image = self.image_of_target(target)
        self.on_capable_model(target, "edit",
                              lambda chosen: self.edit(target, mask, chosen, image))
        return None

    async def describe_selected(self) -> str | None:
        target = self.image_target()
        if target is None:
            return NO_IMAGE
        self.run_worker(self._describe(target, self.options.model, self.image_of_target(target)),
                        group="card-action", name="card-action", exit_on_error=False)
        self.composer.show_info(f"asking {self.options.model} for a description…")
        return None

    async def fixtext_selected(self) -> str | None:
        target = self.image_target()
        if target is None:
            return NO_IMAGE
        self.fixtext(target, self.image_of_target(target))
        return None

    async def export_open(self, path: str | None) -> str | None:
        if self.conversation_id is None:
            return "open a conversation to export"
        target = Path(path).expanduser() if path else Path.cwd() / f"{self.conversation_id}.zip"
        self.run_worker(self._export(self.conversation_id, target), group="export",
                        name="export", exit_on_error=False)
        self.composer.show_info(self._exporting(target))
        return None

    @staticmethod
    def _exporting(target: Path) -> str:
        return f"exporting to {target}…"

    async def _export(self, conversation_id: str, target: Path) -> None:
        """Write the bundle in a thread; the toast and the status line both say how it ended
        (the status line only while it still shows this export's "exporting to …")."""
        from chatimg.bundle import export_conversation

        try:
            written = await asyncio.to_thread(export_conversation, self.studio,
                                              conversation_id, target)
        except ChatImgError as exc:
            line = f"export failed: {exc.one_line()}"
            self.notify(line, severity="error")
            if self.composer.hint_text == self._exporting(target):
                self.composer.show_error(line)
            return
        line = f"exported to {written or target}"
        self.notify(line)
        if self.composer.hint_text == self._exporting(target):
            self.composer.show_info(line)

    async def open_compare(self) -> str | None:
        """Compare the picked cards, else the selected card's fanned-out message, else the
        newest message with two or more images."""
        from chatimg.compare import message_compare_ids
        from chatimg.tui.screens.compare import CompareScreen

        ids = [str(ref) for ref in self.picked[-4:]]
        if len(ids) < 2:
            if self.conversation_id is None:
                return "pick at least two cards first (p on a card)"
            thread = await asyncio.to_thread(self.studio.load_thread, self.conversation_id)
            messages = list(thread.messages)
            selected = self.generations.get(self.selected_id or "")
            if selected is not None:
                messages = [m for m in messages if m.id == selected.message_id] or messages
            fanned = [m for m in messages if len(m.generations) >= 2]
            if not fanned:
                return "pick at least two cards first (p on a card), or fan a prompt out (/fanout)"
            try:
                ids = message_compare_ids(fanned[-1])
            except ChatImgError as exc:
                return exc.one_line()
        self.app.push_screen(CompareScreen(self.studio, ids), self.continue_from)
        return None
