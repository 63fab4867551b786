"""Command palette providers: models, conversations, actions and themes ("area: Action").

Titles and help lines are shown as written: the palette reads plain strings as Textual markup,
so titles go in as ``Content`` and help lines escaped (``pip install 'chatimg[local]'`` keeps its
brackets, a conversation called ``poster [draft]`` its name).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from chatimg.tui.widgets.card import CARD_ACTIONS

if TYPE_CHECKING:
    from chatimg.tui.screens.main import MainScreen


def _main(provider: Provider) -> MainScreen | None:
    from chatimg.tui.screens.main import MainScreen

    for screen in reversed(provider.app.screen_stack):
        if isinstance(screen, MainScreen):
            return screen
    return None


class _ListProvider(Provider):
    """A provider over a list of (title, callback, help) built per palette opening."""

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for title, callback, help_text in self.commands():
            yield DiscoveryHit(Content(title), callback, text=title, help=escape(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title,
                          help=escape(help_text))


class ModelCommands(_ListProvider):
    """``model: Use NAME`` for every model in the catalog."""

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = _main(self)
        if screen is None:
            return []
        found: list[tuple[str, Callable[[], object], str]] = []
        for name in screen.composer.models:
            listing = next((item for item in screen.listings if item.name == name), None)
            status = "" if listing is None else ("ready" if listing.available
                                                 else f"unavailable: {listing.reason}")
            found.append((f"model: Use {name}", partial(screen.set_model, name), status))
        return found


class ConversationCommands(_ListProvider):
    """New/rename/delete and ``conversation: Open TITLE``."""

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = _main(self)
        if screen is None:
            return []
        found: list[tuple[str, Callable[[], object], str]] = [
            ("conversation: New", screen.action_new_conversation, "start an empty conversation"),
            ("conversation: Rename", screen.action_rename_conversation, "rename the open one"),
            ("conversation: Delete", screen.action_delete_conversation, "asks first"),
            ("conversation: Filter", screen.action_focus_filter, "filter the sidebar"),
            ("conversation: Toggle private/team", screen.action_toggle_visibility,
             "f9 · who else may read it (team databases)"),
            ("conversation: Branch into my own", screen.action_branch_conversation,
             "copy it (a teammate's too) into a new conversation of yours"),
        ]
        for conversation in screen.sidebar.conversations[:300]:
            found.append((f"conversation: Open {conversation.title or 'untitled'}",
                          partial(screen.open_conversation, conversation.id),
                          f"{conversation.message_count} messages"))
        return found


class ActionCommands(_ListProvider):
    """Card actions on the selected card, composer and app actions."""

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = _main(self)
        if screen is None:
            return []
        found: list[tuple[str, Callable[[], object], str]] = [
            ("composer: Choose model", screen.action_pick_model, "ctrl+o"),
            ("composer: Toggle advanced panel", screen.action_toggle_advanced, "ctrl+g"),
            ("composer: Cycle preset", screen.action_cycle_preset, "Draft/Balanced/Quality"),
            ("generation: Cancel running", screen.action_cancel, "esc"),
            ("app: Help", self.app.action_help, "f1"),  # type: ignore[attr-defined]
        ]
        target = screen.selected_id if screen.selected_id in screen.generations else None
        target = target or screen.image_target()
        if target is not None:
            for action, key, _binding_id, title in CARD_ACTIONS:
                found.append((title, partial(screen.card_action, target, action), f"key {key}"))
        return found


class ThemeCommands(_ListProvider):
    """``theme: Use NAME`` for every registered theme."""

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        return [(f"theme: Use {name}", partial(setattr, app, "theme", name),
                 "current" if name == app.theme else "")
                for name in sorted(app.available_themes)]
