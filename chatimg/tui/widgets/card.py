"""One card per generation: image, model badge, seed, size, latency, cost, status, checks.

A card only shows what the screen hands it and announces key presses (``CardAction``, carrying
the generation id); the screen carries actions out. Colours come from theme variables.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from chatimg import domain
from chatimg.safetext import shown
from chatimg.tui.widgets.image import CardImage

STATUS_ICONS = {"queued": "…", "running": "⟳", "succeeded": "✓", "failed": "✗",
                "cancelled": "⊘", "interrupted": "⊘"}
CARD_ACTIONS: tuple[tuple[str, str, str, str], ...] = (
    # (action, key, binding id, palette title)
    ("regenerate", "r", "card.regenerate", "card: Regenerate (same seed)"),
    ("reseed", "R", "card.reseed", "card: Regenerate (new seed)"),
    ("other_model", "m", "card.other_model", "card: Run on another model"),
    ("vary", "v", "card.vary", "card: Vary (image to image)"),
    ("upscale", "u", "card.upscale", "card: Upscale"),
    ("edit", "e", "card.edit", "card: Edit with mask"),
    ("resend", "b", "card.resend", "card: Edit prompt and resend as a branch"),
    ("copy_seed", "c", "card.copy_seed", "card: Copy seed"),
    ("copy_params", "y", "card.copy_params", "card: Copy params"),
    ("open", "o", "card.open", "card: Open in system viewer"),
    ("receipt", "i", "card.receipt", "card: Show receipt"),
    ("pick", "p", "card.pick", "card: Pick for compare"),
    ("delete", "delete", "card.delete", "card: Delete"),
)
ACTION_MODES: dict[str, str] = {"vary": "img2img", "upscale": "upscale", "edit": "inpaint"}
"""Card actions that need a model capability (``Capabilities`` flag) to run on a model."""


@dataclass
class CardAction(Message):
    """A person asked for ``action`` (see ``CARD_ACTIONS``) on the card of ``generation_id``;
    the screen carries it out."""

    generation_id: str
    action: str


@dataclass
class CardProgress:
    """The latest step report for a running card."""

    step: int
    total: int
    message: str = ""


def _money(value: float | None, estimated: bool) -> str:
    if value is None:
        return ""
    return f"${value:.3f}" + (" est." if estimated and value else "")


def meta_text(generation: domain.Generation | None, model: str, status: str) -> Content:
    """The card's header line."""
    name = (generation.resolved_model or generation.requested_model) if generation else model
    text = Content.assemble((f" {name} ", "bold reverse"),
                            (f" {STATUS_ICONS.get(status, '?')} {status}",
                             f"bold {_status_style(status)}".strip()))
    if generation is None:
        return text
    parts: list[str] = []
    params = generation.params or {}
    seeds = [a.seed for a in generation.assets if a.seed is not None]
    seed = seeds[0] if seeds else params.get("seed")
    if seed is not None:
        parts.append(f"seed {seed}")
    if generation.assets:
        first = generation.assets[0]
        parts.append(f"{first.width}×{first.height}")
    elif params.get("width") and params.get("height"):
        parts.append(f"{params['width']}×{params['height']}")
    if params.get("steps"):
        parts.append(f"{params['steps']} steps")
    if generation.latency_ms is not None:
        parts.append(f"{generation.latency_ms / 1000:.2f} s" if generation.latency_ms >= 1000
                     else f"{generation.latency_ms:.0f} ms")
    cost = _money(generation.cost_usd, generation.cost_estimated)
    if cost:
        parts.append(cost)
    if len(generation.assets) > 1:
        parts.append(f"{len(generation.assets)} images")
    if parts:
        text = text.append(Content.styled("  " + " · ".join(parts), "$foreground-muted"))
    return text


def _status_style(status: str) -> str:
    return {"succeeded": "$text-success", "failed": "$text-error",
            "cancelled": "$text-warning", "interrupted": "$text-warning"}.get(status, "")


def detail_text(generation: domain.Generation | None, progress: CardProgress | None,
                picked: bool, status: str, wins: int = 0) -> Content:
    """Lines under the image: progress, error with retry hint, route, checks, pick mark."""
    lines: list[Content] = []
    if status in ("queued", "running"):
        if progress and progress.total:
            done = int(20 * progress.step / progress.total)
            bar = "▰" * done + "▱" * (20 - done)
            label = f"{bar} {progress.step}/{progress.total} {progress.message}"
            lines.append(Content(label.rstrip()))
        elif progress and progress.message:
            lines.append(Content(f"⟳ {progress.message}"))
        else:
            lines.append(Content("⟳ waiting…" if status == "queued"
                                 else "⟳ working…  esc cancels"))
    if generation is not None:
        for asset in generation.assets:
            if asset.state:
                lines.append(Content.styled(
                    f"⚠ image {asset.index + 1} {asset.state}: run chatimg doctor",
                    "bold $text-error"))
        if generation.error:
            reason = shown(" ".join(generation.error.split()))
            lines.append(Content.styled(f"✗ {reason}", "bold $text-error"))
        if status in ("failed", "cancelled", "interrupted"):
            lines.append(Content.styled("r retry · m run on another model", "$foreground-muted"))
        if generation.route_reason:
            lines.append(Content.styled(f"route: {shown(generation.route_reason)}",
                                        "$foreground-muted"))
        if generation.validations:
            checks = [
                (f"{'✓' if result.passed else '✗'} {result.name}"
                 f"{f' {result.score:.2f}' if result.score is not None else ''}  ",
                 "$text-success" if result.passed else "$text-error")
                for result in generation.validations
            ]
            lines.append(Content.assemble(*checks))
    if wins:
        times = f" ×{wins}" if wins > 1 else ""
        lines.append(Content.styled(f"♛ compare winner{times}", "bold"))
    if picked:
        lines.append(Content.styled("★ picked for compare", "bold"))
    return Content("\n").join(lines)


class GenerationCard(Vertical, can_focus=True):
    """A card for one generation. Focus it to use the card keys (see the help screen)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(key, f"card('{action}')", title.split(": ", 1)[1], id=binding_id,
                show=action in ("regenerate", "vary", "receipt", "pick"))
        for action, key, binding_id, title in CARD_ACTIONS
    ]

    def __init__(self, generation: domain.Generation | None, *, model: str,
                 generation_id: str, message_text: str = "", wins: int = 0) -> None:
        super().__init__(classes="card")
        self.wins = wins
        """How often this generation won a comparison (shown under the image)."""
        self.generation = generation
        self.model = model
        self.generation_id = generation_id
        self.message_text = message_text
        self.progress: CardProgress | None = None
        self.picked = False
        self._image_sha: str | None = None
        self.status = generation.status if generation else "queued"
        self._meta = Static(meta_text(generation, model, self.status), classes="card-meta")
        self._detail = Static(detail_text(generation, None, False, self.status, wins),
                              classes="card-detail")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._meta
        if self.generation is not None and self.generation.assets:
            asset = self.generation.assets[0]
            self._image_sha = asset.sha256
            yield CardImage(asset)
        yield self._detail

    def on_mount(self) -> None:
        self._sync_image()
        self._sync_classes()

    def update_generation(self, generation: domain.Generation) -> None:
        """Show a newer state of the generation."""
        self.generation = generation
        self.status = generation.status
        if generation.status not in ("queued", "running"):
            self.progress = None
        self._refresh_text()
        self._sync_image()
        self._sync_classes()

    def set_status(self, status: str) -> None:
        """Mark as running before the first stored state arrives."""
        self.status = status
        self._refresh_text()
        self._sync_classes()

    def update_progress(self, progress: CardProgress) -> None:
        """Show a step report."""
        self.progress = progress
        self._detail.update(detail_text(self.generation, self.progress, self.picked,
                                        self.status, self.wins))

    def set_picked(self, picked: bool) -> None:
        self.picked = picked
        self._refresh_text()
        self.set_class(picked, "-picked")

    def _refresh_text(self) -> None:
        self._meta.update(meta_text(self.generation, self.model, self.status))
        self._detail.update(detail_text(self.generation, self.progress, self.picked,
                                        self.status, self.wins))

    def _sync_classes(self) -> None:
        status = self.status
        for name in STATUS_ICONS:
            self.set_class(name == status, f"-{name}")

    def _sync_image(self) -> None:
        if not self.is_mounted or self.generation is None or not self.generation.assets:
            return
        asset = self.generation.assets[0]
        if asset.sha256 == self._image_sha:
            return
        self._image_sha = asset.sha256
        for old in self.query(CardImage):
            old.remove()
        self.mount(CardImage(asset), before=self._detail)

    def offer(self, modes: Collection[str]) -> None:
        """Offer in the footer only the ``ACTION_MODES`` actions whose mode is in ``modes``
        (what the card's model can do here). The keys stay: the screen answers the others
        with the models that can."""
        for key, bindings in self._bindings.key_to_bindings.items():
            changed = []
            for binding in bindings:
                mode = ACTION_MODES.get(binding.action.removeprefix("card('").rstrip("')"))
                if mode is not None:
                    default = next(b for b in self.BINDINGS if isinstance(b, Binding)
                                   and b.id == binding.id)
                    binding = replace(binding, show=default.show and mode in modes)
                changed.append(binding)
            self._bindings.key_to_bindings[key] = changed
        self.refresh_bindings()

    def action_card(self, action: str) -> None:
        self.post_message(CardAction(self.generation_id, action))
