"""A user message in the thread (``MessageBlock``): its prompt, a "↳ branch of #N" line when it
branches from an earlier message, and one card per generation, or a ``CardSlot`` standing in
for a stored generation's card until it is built; and the line where the model changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from chatimg.safetext import shown
from chatimg.tui.widgets.card import GenerationCard, image_max_columns, meta_text
from chatimg.tui.widgets.laid_out import LaidOutOnce, Line
from chatimg.tui.widgets.thread_layout import card_height

if TYPE_CHECKING:
    from chatimg import domain


class CardSlot(LaidOutOnce, Static):
    """A stored generation's place in the thread until its card is built (header only)."""

    DEFAULT_CSS = """
    CardSlot { margin: 1 0 0 2; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, generation: domain.Generation, wins: int, height: int) -> None:
        super().__init__(self._label(generation), classes="card-slot")
        self.generation = generation
        self.wins = wins
        self.built = False
        """Its card was mounted (the slot is on its way out)."""
        self.styles.height = max(1, height - 1)  # the margin above is not part of it

    @staticmethod
    def _label(generation: domain.Generation) -> Any:
        model = generation.resolved_model or generation.requested_model
        return meta_text(generation, model, generation.status)

    @property
    def generation_id(self) -> str:
        return self.generation.id

    def update_generation(self, generation: domain.Generation) -> None:
        """A newer stored state of the generation (shown once the card is built)."""
        self.generation = generation
        self.update(self._label(generation))


def branch_label(number: int | None, parent_text: str) -> str:
    """The line above a branch: which message (1-based, in thread order) it branches from."""
    words = " ".join(parent_text.split())
    snippet = words[:40] + ("…" if len(words) > 40 else "")
    where = f"#{number}" if number else "an earlier message"
    return f"↳ branch of {where} “{snippet}”"


def message_model(message: domain.Message) -> str | None:
    """The model (or fan-out) a message was sent to, for the switch marker."""
    models = (message.params or {}).get("models")
    if isinstance(models, list) and len(models) > 1:
        return " + ".join(str(m) for m in models)
    return message.model


class MessageBlock(LaidOutOnce, Vertical):
    """A user message and its cards."""

    def __init__(self, text: str, *, message_id: str | None = None, model: str | None = None,
                 generations: tuple[domain.Generation, ...] = (),
                 wins: dict[str, int] | None = None, author: str | None = None,
                 branch: str | None = None, slot_size: tuple[int, int] | None = None,
                 cards_now: frozenset[str] = frozenset()) -> None:
        super().__init__(classes="message")
        self.slot_size = slot_size
        self.cards_now = cards_now
        """Generations built as cards at once although ``slot_size`` is set (on screen)."""
        """Start stored generations as slots sized for a thread of this many cells (``None``:
        build every card now)."""
        self.branch = branch
        """The "↳ branch of #N" line, when the message branches from an earlier one."""
        self.wins = wins or {}
        self.author = author
        """Who wrote it (team databases); shown before the text."""
        self.text = text
        self.message_id = message_id
        self.model = model
        self._generations = generations

    def compose(self):  # type: ignore[no-untyped-def]
        if self.branch:
            yield Line(Text(shown(self.branch)), classes="branch")
        prompt = Text(style="bold")
        if self.author:
            prompt.append(shown(self.author), style="italic")
            prompt.append(" ")
        prompt.append("› ")
        prompt.append(shown(self.text, keep_newlines=True))
        yield Line(prompt, classes="prompt")
        for generation in self._generations:
            wins = self.wins.get(generation.id, 0)
            if self.slot_size is not None and generation.status not in ("queued", "running") \
                    and generation.id not in self.cards_now:
                yield CardSlot(generation, wins, card_height(generation, self.slot_size,
                                                             image_max_columns(), wins))
            else:
                yield GenerationCard(generation, model=generation.resolved_model
                                     or generation.requested_model, generation_id=generation.id,
                                     message_text=self.text, wins=wins)

    def build(self, slot: CardSlot) -> GenerationCard:
        """Put the real card in ``slot``'s place."""
        generation = slot.generation
        slot.built = True
        card = GenerationCard(generation, model=generation.resolved_model
                              or generation.requested_model, generation_id=generation.id,
                              message_text=self.text, wins=slot.wins)
        # the slot's height until the card's images are mounted: the thread does not shrink
        # for a frame (which would scroll other slots into view and build them too)
        card.styles.min_height = slot.styles.height
        self.mount(card, after=slot)
        slot.remove()
        self.call_after_refresh(self._release, card, 8)
        self.post_message(CardBuilt(card))
        return card

    def _release(self, card: GenerationCard, tries: int) -> None:
        """Let a built card take its own height once it is mounted (with its images)."""
        if card.is_mounted or tries <= 0:
            card.styles.min_height = None
        else:
            self.call_after_refresh(self._release, card, tries - 1)

    def slot(self, generation_id: str) -> CardSlot | None:
        """The slot of ``generation_id`` while its card is not built."""
        for slot in self.query_children(CardSlot):
            if slot.generation.id == generation_id and not slot.built:
                return slot
        return None

    def card(self, generation_id: str) -> GenerationCard | None:
        for card in self.query(GenerationCard):
            if card.generation_id == generation_id:
                return card
        return None

    def add_card(self, generation_id: str, model: str,
                 generation: domain.Generation | None = None) -> GenerationCard:
        """The card of ``generation_id``: its slot's card when it has one, else a new one."""
        slot = self.slot(generation_id)
        if slot is not None:
            if generation is not None:
                slot.generation = generation
            return self.build(slot)
        card = GenerationCard(generation, model=model, generation_id=generation_id,
                              message_text=self.text)
        self.mount(card)
        return card


class CardBuilt(Message):
    """A slot's card was built (the screen marks its picks)."""

    def __init__(self, card: GenerationCard) -> None:
        super().__init__()
        self.card = card


def switch_marker(old: str, new: str) -> Static:
    """A line in the thread where the model changed."""
    return Line(Text(f"── model: {old} → {new} ──", justify="center"), classes="switch")
