"""The first half of the main screen: sending a message as one Studio call in a worker.

``Sending.start_send`` shows a pending message block at once, runs the call in a worker and
puts its events on the cards (posted as messages: events may come from worker threads, and
progress for one generation coalesces in the queue). An ``image`` event shows the engine's
decoded image on its card at once, while it is stored; ``finished`` swaps in the stored one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.screen import Screen

from chatimg.errors import ChatImgError
from chatimg.tui.widgets.card import CardProgress
from chatimg.tui.widgets.message_block import MessageBlock

if TYPE_CHECKING:
    from typing import TypeAlias

    from chatimg import domain
    from chatimg.engines.base import CancelToken
    from chatimg.generation import EventCallback, GenerateOutcome, GenerationEvent
    from chatimg.tui.widgets.composer import Composer
    from chatimg.tui.widgets.thread import ThreadView

    #: One Studio call that sends a message: given the event callback and the cancel token.
    SendCall: TypeAlias = Callable[[EventCallback, CancelToken], Awaitable[GenerateOutcome]]


@dataclass
class GenerationUpdate(Message):
    """A ``GenerationEvent`` for the card of ``block``."""

    event: GenerationEvent
    block: MessageBlock

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, GenerationUpdate) and message.event.kind == "progress"
                and self.event.kind == "progress"
                and message.event.generation_id == self.event.generation_id)


class Sending(Screen[None]):
    """Runs sends and keeps what they report (``tokens``, ``generations``, ``prompts``)."""

    tokens: set[CancelToken]
    sends: dict[CancelToken, str | None]
    """The conversation each running send writes to, by its cancel token."""
    deleted_conversations: set[str]
    """Conversations deleted while this screen ran: what their sends report is dropped."""
    conversation_id: str | None
    generations: dict[str, domain.Generation]
    """The latest stored state of every generation shown, by id."""
    prompts: dict[str, str]
    """The prompt of every generation shown, by generation id."""

    @property
    def thread(self) -> ThreadView:
        raise NotImplementedError

    @property
    def composer(self) -> Composer:
        raise NotImplementedError

    def reload_sidebar(self) -> None:
        raise NotImplementedError

    def sends_settled(self) -> None:
        """Called when a send finished (the team view refreshes what waited for it)."""

    @property
    def running(self) -> int:
        """How many sends are still running."""
        return len(self.tokens)

    def remember(self, generation: domain.Generation, prompt: str | None = None) -> None:
        """Keep the newest stored state of a generation (and its prompt)."""
        self.generations[generation.id] = generation
        if prompt is not None:
            self.prompts[generation.id] = prompt

    def start_send(self, text: str, label: str, call: SendCall, *, restore: bool,
                   name: str = "generate", branch: str | None = None) -> None:
        """Run one Studio call that sends a message, with a pending block in the thread.

        The cancel token is registered at once (so ``running`` counts it). When the call fails
        before any generation was reported, the block goes and, for a typed prompt
        (``restore``), the text comes back into the composer; ``branch`` is the pending block's
        "↳ branch of #N" line. Expected failures show one line
        (inline for a prompt, as a notification otherwise); anything else fails the worker,
        which reaches the app's failure handler.
        """
        from chatimg.engines.base import CancelToken

        token = CancelToken()
        self.tokens.add(token)
        self.sends[token] = self.conversation_id
        self.run_worker(self._send(text, label, call, token, restore, branch), group="generate",
                        name=name, exit_on_error=False)

    def abandon_sends(self, conversation_id: str) -> None:
        """``conversation_id`` is being deleted: cancel its sends and drop what they report
        later (their rows can no longer be written; that is no error to show anyone)."""
        self.deleted_conversations.add(conversation_id)
        for token, owner in list(self.sends.items()):
            if owner == conversation_id:
                token.cancel()

    def _dropped(self, token: CancelToken) -> bool:
        owner = self.sends.get(token)
        return owner is not None and owner in self.deleted_conversations

    async def _send(self, text: str, label: str, call: SendCall, token: CancelToken,
                    restore: bool, branch: str | None = None) -> None:
        try:
            block = await self.thread.add_pending(text, label, branch)
            reported: list[str] = []

            def on_event(event: GenerationEvent) -> None:
                reported.append(event.generation_id)
                self.post_message(GenerationUpdate(event, block))

            try:
                outcome = await call(on_event, token)
            except Exception as exc:
                if self._dropped(token):  # its conversation was deleted meanwhile
                    return
                if not reported:  # nothing was stored: take the block back
                    await block.remove()
                    if restore:
                        self.composer.restore(text)
                if not isinstance(exc, ChatImgError):
                    raise
                if restore:
                    self.composer.show_error(exc.one_line())
                else:
                    self.notify(exc.one_line(), severity="error")
                return
            if self._dropped(token):
                return
        finally:
            self.tokens.discard(token)
            self.sends.pop(token, None)
        block.message_id = outcome.message.id
        for generation in outcome.generations:
            self.remember(generation, outcome.message.text)
            card = block.card(generation.id) or block.add_card(
                generation.id, generation.resolved_model or generation.requested_model)
            card.update_generation(generation)
        self.reload_sidebar()
        self.sends_settled()

    def on_generation_update(self, message: GenerationUpdate) -> None:
        event = message.event
        block = message.block
        if event.generation is not None:
            self.remember(event.generation, block.text)
            block.message_id = block.message_id or event.generation.message_id
        card = block.card(event.generation_id)
        if card is None:
            if not block.is_attached:
                return
            card = block.add_card(event.generation_id, event.model, event.generation)
        if event.kind == "progress" and event.progress is not None:
            card.update_progress(CardProgress(event.progress.step, event.progress.total,
                                              event.progress.message))
        elif event.kind == "started":
            card.set_status("running")
            card.update_progress(CardProgress(0, 0, "running… esc cancels"))
        elif event.kind == "image" and event.image is not None:
            card.show_picture(event.index, event.count, event.image)
        elif event.generation is not None:
            card.update_generation(event.generation)

