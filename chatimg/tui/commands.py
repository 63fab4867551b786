"""Command palette providers: models, conversations, actions and themes ("area: Action").

Titles and help lines are shown as written: the palette reads plain strings as Textual markup,
so titles go in as ``Content`` and help lines escaped (``pip install 'chatimg[local]'`` keeps its
brackets, a conversation called ``poster [draft]`` its name).

Every action the app has is here, each with its key as the user's ``[keymap]`` sets it (or the
slash command that does it), so the palette, the footer and F1 always agree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from chatimg.tui import slash
from chatimg.tui.widgets.card import CARD_ACTIONS

if TYPE_CHECKING:
    from chatimg.tui.screens.main import MainScreen


def _main(provider: Provider) -> MainScreen | None:
    from chatimg.tui.screens.main import MainScreen

    for screen in reversed(provider.app.screen_stack):
        if isinstance(screen, MainScreen):
            return screen
    return None


def key_for(provider: Provider, binding_id: str) -> str:
    """The key bound to ``binding_id`` after the user's keymap (``""`` when none)."""
    keys = getattr(provider.app, "keys_by_id", None)
    return str(keys().get(binding_id, "")) if keys is not None else ""


async def _run_slash(screen: MainScreen, text: str) -> None:
    """Run a slash command from the palette; its error line becomes a notification."""
    error = await slash.run(slash.parse(text), screen)
    if error:
        screen.notify(error, severity="warning")


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
        key = partial(key_for, self)
        found: list[tuple[str, Callable[[], object], str]] = [
            ("conversation: New", screen.action_new_conversation,
             f"{key('conversation.new')} · start an empty conversation"),
            ("conversation: Rename", screen.action_rename_conversation,
             f"{key('conversation.rename')} · rename the open one"),
            ("conversation: Delete", screen.action_delete_conversation,
             f"{key('conversation.delete')} · asks first"),
            ("conversation: Filter", screen.action_focus_filter,
             f"{key('conversation.filter')} · filter the sidebar"),
            ("conversation: Export as a bundle", partial(_run_slash, screen, "/export"),
             "/export [PATH] · a zip in the current folder"),
            ("conversation: Compare picked images", partial(_run_slash, screen, "/compare"),
             "/compare · the picked cards, or the newest fan-out"),
            ("conversation: Toggle private/team", screen.action_toggle_visibility,
             f"{key('conversation.visibility')} · who else may read it (team databases)"),
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
        key = partial(key_for, self)
        app = self.app
        found: list[tuple[str, Callable[[], object], str]] = [
            ("composer: Choose model", screen.action_pick_model, key("composer.model")),
            ("composer: Toggle advanced panel", screen.action_toggle_advanced,
             key("composer.advanced")),
            ("composer: Cycle preset", screen.action_cycle_preset, "Draft/Balanced/Quality"),
            ("composer: Search prompt history", screen.action_search_history,
             f"{key('composer.history')} · or up in the composer"),
            ("composer: Focus the prompt", screen.action_focus_prompt, key("composer.focus")),
            ("sidebar: Collapse or expand", screen.action_toggle_sidebar, key("sidebar.toggle")),
            ("generation: Cancel running", screen.action_cancel, key("generation.cancel")),
            ("app: Help", app.open_help, key("app.help")),  # type: ignore[attr-defined]
            ("app: Change theme", app.search_themes, key("app.theme")),
            ("app: Quit", app.action_quit, key("app.quit")),
        ]
        target = screen.selected_id if screen.selected_id in screen.generations else None
        target = target or screen.image_target()
        if target is not None:
            for action, _key, binding_id, title in CARD_ACTIONS:
                found.append((title, partial(screen.card_action, target, action),
                              key(binding_id)))
            found.append(("card: Describe the image as a prompt",
                          partial(_run_slash, screen, "/describe"), "/describe"))
            found.append(("card: Fix misspelled text", partial(_run_slash, screen, "/fixtext"),
                          "/fixtext"))
        return found


class ThemeCommands(_ListProvider):
    """``theme: Use NAME`` for every registered theme."""

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        return [(f"theme: Use {name}", partial(setattr, app, "theme", name),
                 "current" if name == app.theme else "")
                for name in sorted(app.available_themes)]
