"""What the main screen asks before it uses a model: can it do this here, and can it run.

``ModelChecks`` is mixed into the main screen: card actions ask ``can_run`` before they run a
mode on a card's own model (else they open the picker filtered to models that can), and the
composer asks ``unavailable`` before a send, so models that cannot run here are marked in
``/fanout``, not priced in the estimate, and warned about before anything is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatimg.errors import ChatImgError
from chatimg.model_choice import can_do, unavailable_in, unavailable_warning
from chatimg.tui.screens.dialogs import ConfirmScreen

if TYPE_CHECKING:
    from textual.app import App

    from chatimg.engines.catalog import Listing
    from chatimg.studio import Studio
    from chatimg.tui.options import ComposerOptions
    from chatimg.tui.widgets.composer import Composer


class ModelChecks:
    """Capability and availability questions over the catalog, and the warning before a send."""

    studio: Studio
    listings: list[Listing]
    options: ComposerOptions
    app: App[Any]

    @property
    def composer(self) -> Composer:
        raise NotImplementedError

    def send_now(self, text: str, models: list[str], info: str = "") -> None:
        raise NotImplementedError


    def listing_of(self, model: str) -> Listing | None:
        """The loaded listing of ``model`` (the catalog's own while the listings load); None
        for a name the catalog does not know."""
        found = next((item for item in self.listings if item.name == model), None)
        if found is not None:
            return found
        if model not in self.studio.catalog.entries:
            return None
        try:
            return self.studio.catalog.listing(model)
        except ChatImgError:
            return None

    def can_run(self, model: str, mode: str) -> bool:
        """Whether ``model`` can do ``mode`` (``img2img``, ``upscale``, ...) and run here."""
        listing = self.listing_of(model)
        return listing is not None and listing.available and can_do(listing, mode)

    def unavailable(self, models: Sequence[str]) -> list[str]:
        """The names in ``models`` that cannot run here (``model_choice.unavailable_in``)."""
        return unavailable_in(self.studio.catalog, self.studio.router, models)

    def unavailable_line(self, missing: Sequence[str], total: int) -> str | None:
        """``1 of 2 models cannot run here: NAME (why)``, or None when nothing is missing."""
        reasons: dict[str, str | None] = {}
        for name in missing:
            listing = self.listing_of(name)
            reasons[name] = (listing.reason or "unavailable") if listing else "unknown model"
        return unavailable_warning(missing, total, reasons)

    def marked(self, models: Sequence[str], missing: Sequence[str]) -> str:
        """``a, b ✗, c``: the names, those that cannot run here marked."""
        return ", ".join(f"{name} ✗" if name in missing else name for name in models)

    def confirm_unavailable(self, text: str, models: list[str], missing: list[str]) -> None:
        """A send that includes models that cannot run here: ask before sending to the
        others; when none can run, say why and keep the prompt. Nothing is stored first."""
        warning = self.unavailable_line(missing, len(models)) or ""
        runnable = [model for model in models if model not in missing]
        if not runnable:
            self.composer.show_error(f"{warning} · choose another model (ctrl+o)")
            return

        def answer(send: bool | None) -> None:
            if not send:
                self.composer.show_info(f"not sent · {warning}")
                return
            self.send_now(text, runnable, f"sent to {', '.join(runnable)} only")

        self.app.push_screen(ConfirmScreen(
            f"{warning}.\nSend to {', '.join(runnable)} only?", confirm="Send"), answer)
