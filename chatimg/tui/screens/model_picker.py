"""Searchable model picker: capabilities, availability and cost per image for every model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from chatimg.model_choice import models_for
from chatimg.tui.widgets.typing_order import OrderedInput, focus_now

if TYPE_CHECKING:
    from chatimg.engines.catalog import Listing

_CAPS = (("txt2img", "t2i"), ("img2img", "i2i"), ("inpaint", "inpaint"), ("upscale", "up"),
         ("describe", "describe"))


def capability_words(listing: Listing) -> str:
    """Short capability names for a listing (``t2i i2i inpaint``)."""
    if listing.info is None:
        return ""
    caps = listing.info.capabilities
    return " ".join(short for name, short in _CAPS if getattr(caps, name, False))


def listing_text(listing: Listing, current: str | None) -> Content:
    """One picker row (colours from the theme: ready in success, downloadable in warning,
    unavailable in error)."""
    muted = "$foreground-muted"
    cost = listing.info.cost_per_image if listing.info else None
    price = "free" if cost == 0 else (f"${cost:.3f}" if cost is not None else "?")
    parts: list[str | tuple[str, str]] = [
        ("● " if listing.name == current else "  ", "bold"),
        (f"{listing.name[:22]:<22}", "bold" if listing.available else muted),
        (f" {listing.engine[:10]:<10}", muted),
        f" {capability_words(listing):<28}",
        f" {price:>7}",
    ]
    if listing.available:
        parts.append(("  ✓ ready", "$text-success"))
    elif listing.download_gb is not None:
        size = f"{listing.download_gb:.1f} GB" if listing.download_gb else "size ?"
        parts.append((f"  ⇣ download {size}", "$text-warning"))
    else:
        reason = (listing.reason or "unavailable").split(" (")[0]
        parts.append((f"  ✗ {reason[:30]}", "$text-error"))
    return Content.assemble(*parts)


def matches(listing: Listing, query: str) -> bool:
    """Case-insensitive match on name, engine, description and capabilities."""
    if not query:
        return True
    description = listing.info.description if listing.info else ""
    haystack = " ".join((listing.name, listing.engine, description or "",
                         capability_words(listing))).lower()
    return all(word in haystack for word in query.lower().split())


class ModelPicker(ModalScreen[str | None]):
    """Pick a model; returns its name (or ``None`` on Escape).

    With ``filter_capability`` (``img2img``, ``inpaint``, ``upscale``, ``describe``) only the
    models that can do it are listed, those available here first.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
    ]

    def __init__(self, listings: Sequence[Listing], current: str | None = None,
                 title: str = "Choose a model", filter_capability: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.listings = list(listings)
        self.current = current
        self.title_text = title
        self.filter_capability = filter_capability
        self._pick_when_loaded = False

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical(classes="dialog picker"):
            yield Label(self.title_text, classes="dialog-title")
            yield OrderedInput(placeholder="search models (name, engine, capability)…",
                               id="model-search", compact=True)
            yield OptionList(id="model-options", compact=True)
            note = ("enter picks · esc closes · ⇣ models download when picked · "
                    "unavailable models say why")
            if self.filter_capability:
                note = f"models that can do {self.filter_capability}, available first · {note}"
            yield Label(note, classes="dim", id="picker-note")

    def on_mount(self) -> None:
        self._refresh_downloadable()
        self._fill("")
        focus_now(self.query_one("#model-search", Input))

    def _refresh_downloadable(self) -> None:
        """Models marked downloadable may have been pulled since the listings were made."""
        catalog = getattr(getattr(self.app, "studio", None), "catalog", None)
        if catalog is None:
            return
        for index, listing in enumerate(self.listings):
            if listing.download_gb is not None:
                try:
                    self.listings[index] = catalog.listing(listing.name)
                except Exception:  # a listing that cannot be refreshed stays as it was
                    continue

    def set_listings(self, listings: Sequence[Listing]) -> None:
        """Models that arrived after the picker opened (the catalog loads in a worker)."""
        self.listings = list(listings)
        self._fill(self.query_one("#model-search", Input).value)
        if self._pick_when_loaded:
            self._pick_highlighted()

    def _fill(self, query: str) -> None:
        options = self.query_one("#model-options", OptionList)
        listings = (models_for(self.listings, self.filter_capability)
                    if self.filter_capability else self.listings)
        shown = [listing for listing in listings if matches(listing, query)]
        options.set_options(Option(listing_text(item, self.current), id=item.name)
                            for item in shown)
        if not self.listings:
            options.add_option(Option("loading models…", disabled=True))
        if shown:
            names = [item.name for item in shown]
            options.highlighted = names.index(self.current) if self.current in names else 0

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.listings:  # Enter while the models load: pick once they arrive
            self._pick_when_loaded = True
            return
        self._pick_highlighted()

    def _pick_highlighted(self) -> None:
        options = self.query_one("#model-options", OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option.id)

    def _choose(self, name: str | None) -> None:
        """Pick ``name``; a model whose weights can be downloaded offers to pull them first."""
        listing = next((item for item in self.listings if item.name == name), None)
        if listing is None or listing.download_gb is None:
            self.dismiss(name)
            return
        from chatimg.tui.screens.pull import PullScreen

        def pulled(done: bool | None) -> None:
            if done:
                self.dismiss(listing.name)
            else:
                self._refresh_downloadable()
                self._fill(self.query_one("#model-search", Input).value)

        self.app.push_screen(PullScreen(listing.name, listing.download_gb, listing.licence),
                             pulled)

    def action_move(self, delta: int) -> None:
        options = self.query_one("#model-options", OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -delta
            options.highlighted = max(0, min(options.option_count - 1, current + delta))

    def action_cancel(self) -> None:
        self.dismiss(None)
