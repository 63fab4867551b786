"""The Textual app: wiring only (themes, keymap, state, screens, palette providers).

The app paints first: the frame, the composer and an empty sidebar come up before settings are
validated, the database is opened and migrated and the model catalog is built; those happen in
a thread worker and fill the screen in when they are done (``MainScreen.attach_studio``).

``main()`` hands the app a Studio opener, picks the image protocol (``CHATIMG_IMAGES``; probing the
terminal *before* Textual starts, whose input thread would otherwise eat the replies), keeps
C libraries' writes to file descriptor 2 off the screen, runs ``ChatImgApp`` and exits
non-zero when the app stopped on an unhandled error.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.actions import SkipAction
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from chatimg import paths
from chatimg.collector import COLLECTOR, IDLE_COLLECTIONS
from chatimg.tui.commands import ActionCommands, ConversationCommands, ModelCommands, ThemeCommands
from chatimg.tui.failures import close_log, failure_line, log_failure, open_log
from chatimg.tui.screens.help import HelpScreen, key_rows
from chatimg.tui.screens.main import MainScreen
from chatimg.tui.screens.pull import offer_starter
from chatimg.tui.state import UiState, load_state, save_state
from chatimg.tui.themes import DEFAULT_THEME, load_themes
from chatimg.tui.widgets.card import set_image_max_columns

if TYPE_CHECKING:
    from chatimg.studio import Studio

#: What counts as the person using the app (a full collection waits for a pause in it).
_INPUT = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp,
          events.Paste)
#: Seconds between checks for a due full collection.
_COLLECT_EVERY = 0.25


class ChatImgApp(App[None]):
    """chatimg's terminal app.

    Args:
        studio: An open ``Studio``, or a callable that opens one (settings, database,
            migrations); the app calls it in a thread worker after its first paint.
        state_path: Where UI state is kept (default ``paths.state_file()``).
        theme_folders: Theme folders to load (default: built-ins, then the user's).
        log_path: Where failed background tasks are logged with their tracebacks (default
            ``paths.log_file()``).
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "chatimg"
    COMMANDS = App.COMMANDS | {ModelCommands, ConversationCommands, ActionCommands, ThemeCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("f1", "help", "Help", id="app.help", priority=True),
        Binding("ctrl+t", "change_theme", "Theme", id="app.theme", priority=True),
    ]

    def __init__(self, studio: Studio | Callable[[], Studio], *,
                 state_path: Path | None = None, theme_folders: list[Path] | None = None,
                 log_path: Path | None = None) -> None:
        super().__init__()
        self.log_path = log_path or paths.log_file()
        self._log_handler: logging.Handler | None = None
        self.studio: Studio | None = None
        """The Studio, once it is open (``None`` while the opener runs)."""
        self.startup_error: Exception | None = None
        """Why the Studio could not be opened (the app then exits with return code 1)."""
        self._opener: Callable[[], Studio] | None = None
        self._given: Studio | None = None
        if callable(studio):
            self._opener = studio
        else:
            self._given = studio
        self.state_path = state_path or paths.state_file()
        self.ui_state = load_state(self.state_path)
        self.theme_folders = theme_folders
        self.theme_problems: list[str] = []
        self.main_screen = MainScreen(saved_options=self.ui_state.composer)
        self.main_screen.sidebar_collapsed = self.ui_state.sidebar_collapsed
        self.main_screen.initial = (self.ui_state.conversation_id, self.ui_state.scroll_y or None)
        self._collections_started = False
        self._startup_hold: Callable[[], None] | None = None
        self._setup_themes()

    def _setup_themes(self) -> None:
        loaded = load_themes(self.theme_folders)
        for theme in loaded.themes.values():
            self.register_theme(theme)
        self.theme_problems = loaded.problems
        name = self._known_theme(self.ui_state.theme or DEFAULT_THEME)
        chosen = self.get_theme(name)
        if chosen is None or chosen.dark != self.current_theme.dark:
            self.theme = name  # (also maps ANSI colours for the other mode)
            return
        # Nothing is parsed yet: the stylesheet takes the theme's variables now. (Setting
        # ``theme`` would queue a re-parse of every stylesheet, and the first screen's
        # stylesheets would then be parsed a second time: ~9 ms of each start.)
        self.set_reactive(App.theme, name)
        self.update_classes({f"-theme-{name}": True, "-dark-mode": chosen.dark,
                             "-light-mode": not chosen.dark}, update=False)
        self.stylesheet.set_variables(self.get_css_variables())

    def _known_theme(self, wanted: str) -> str:
        if wanted not in self.available_themes:
            if wanted != DEFAULT_THEME:
                self.theme_problems.append(f"theme {wanted!r} not found; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        return wanted

    def get_default_screen(self) -> MainScreen:
        # The main screen is the first screen, composed with the app. (Pushed from the app's
        # mount, it rendered its first frame inside Textual's start-up batch, which threw it
        # away, and then rendered the whole screen again for the frame written.)
        return self.main_screen

    def on_load(self) -> None:
        # Building the first frame (stylesheets, the screen's widgets, their styles and
        # strips) makes tens of thousands of objects that live as long as the app: the
        # cyclic collections that would run meanwhile free nothing and delay the first frame
        # by ~30 ms. Collection is off until the first frame is up (``settle_heap`` freezes
        # what start-up built once the store is open).
        self._startup_hold = COLLECTOR.hold()

    def on_ready(self) -> None:
        self._end_startup_hold()

    def _end_startup_hold(self) -> None:
        if self._startup_hold is not None:
            self._startup_hold()
            self._startup_hold = None

    def on_mount(self) -> None:
        self._log_handler = open_log(self.log_path)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        # The store opens after the first frame is on screen.
        self.call_after_refresh(self._open_studio)

    def _open_studio(self) -> None:
        if self._given is not None:
            self._studio_opened(self._given)
            return
        self.run_worker(self._open_in_thread, thread=True, group="studio", name="open-store",
                        exit_on_error=False)

    def _open_in_thread(self) -> None:
        """Settings, database, migrations and the catalog, off the UI loop."""
        assert self._opener is not None
        try:
            studio = self._opener()
            studio.catalog.names()
        except Exception as exc:  # a bad config file, a damaged database...
            self.startup_error = exc
            self.call_from_thread(self.exit, None, 1)
            return
        if self.return_code is not None or not self.is_running:
            studio.close()  # the app was quit while the store opened
            return
        self.call_from_thread(self._studio_opened, studio)

    def _studio_opened(self, studio: Studio) -> None:
        """Apply what the settings say (keymap, theme, image width) and let the screen fill
        in."""
        self.studio = studio
        settings = studio.settings
        set_image_max_columns(settings.ui.image_max_columns)
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))
        if self.ui_state.theme is None and settings.theme != self.theme:
            self.theme = self._known_theme(settings.theme)
        if self.theme_problems:
            self.notify("\n".join(self.theme_problems), title="Theme problems",
                        severity="warning", timeout=8)
        self.main_screen.attach_studio(studio)
        offer_starter(self, self.ui_state, self.state_path)
        if "typography" in settings.validation.enabled:
            self.run_worker(warm_ocr, thread=True, group="warm-ocr", name="warm-ocr",
                            exit_on_error=False)
        settle_heap()
        # full collections wait for a pause in the person's input (not a key's frame)
        IDLE_COLLECTIONS.start()
        self._collections_started = True
        self.set_interval(_COLLECT_EVERY, IDLE_COLLECTIONS.tick, name="idle-collections")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _INPUT):
            IDLE_COLLECTIONS.note_activity()
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self._end_startup_hold()  # (quit, or failed, before the first frame)
        self.main_screen.flush_save()  # (a save scheduled after an open or a scroll)
        if self._collections_started:
            self._collections_started = False
            IDLE_COLLECTIONS.stop()
        for token in list(self.main_screen.tokens):
            token.cancel()
        # Engines and the shared HTTP client live on this loop: the Studio closes them here.
        if self.studio is not None:
            with contextlib.suppress(Exception):
                await self.studio.close_engines()
        close_log(self._log_handler)
        self._log_handler = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker is reported: a one-line notification, and the
        traceback in the log; the app keeps running."""
        if event.state is not WorkerState.ERROR:
            return
        log_failure(event.worker)
        where = self.log_path if self._log_handler is not None else None
        self.notify(failure_line(event.worker, where), severity="error", timeout=8)

    def _theme_changed(self, theme: object) -> None:
        self.save_ui_state()

    def save_ui_state(self) -> None:
        """Persist the open conversation, its scroll position, the theme and the composer's
        settings."""
        screen = self.main_screen
        if not screen.ready:  # still opening: keep what was saved, with the theme as it is now
            state = UiState(conversation_id=self.ui_state.conversation_id, theme=self.theme,
                            starter_offered=self.ui_state.starter_offered,
                            composer=self.ui_state.composer,
                            sidebar_collapsed=screen.sidebar_collapsed,
                            scroll_y=self.ui_state.scroll_y)
            save_state(state, self.state_path)
            return
        state = UiState(conversation_id=screen.conversation_id, theme=self.theme,
                        starter_offered=self.ui_state.starter_offered,
                        composer=screen.options.to_state(),
                        sidebar_collapsed=screen.sidebar_collapsed)
        with contextlib.suppress(Exception):
            state.scroll_y = screen.scroll_position()
        save_state(state, self.state_path)

    async def action_quit(self) -> None:
        self.save_ui_state()
        for token in list(self.main_screen.tokens):
            token.cancel()
        await super().action_quit()

    def help_rows(self) -> list[tuple[str, str, str, str]]:
        """Rows for the help screen, with the user's keymap applied."""
        from chatimg.tui.widgets.card import GenerationCard
        from chatimg.tui.widgets.composer import PromptArea

        groups = [("app", self.BINDINGS), ("main", MainScreen.BINDINGS),
                  ("composer", PromptArea.BINDINGS), ("card", GenerationCard.BINDINGS)]
        keymap = self.studio.settings.keymap if self.studio is not None else None
        return key_rows(groups, dict(keymap or {}))

    def _only_on_main_screen(self) -> None:
        """App keys are priority bindings (a remapped key beats the focused widget's use of
        it); over a dialog they step aside, so the dialog's own keys still work."""
        if self.screen is not self.main_screen:
            raise SkipAction()

    def keys_by_id(self) -> dict[str, str]:
        """Every binding id → its keys as the keymap sets them (for the palette's hints)."""
        return {binding_id: keys for _area, keys, _does, binding_id in self.help_rows()}

    def action_help(self) -> None:
        self._only_on_main_screen()
        self.open_help()

    def open_help(self) -> None:
        """Show the help screen (unless it is already on top)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_rows()))

    def action_change_theme(self) -> None:
        self._only_on_main_screen()
        self.search_themes()


@contextlib.contextmanager
def stderr_to_log() -> Iterator[Path | None]:
    """Keep C libraries' writes to file descriptor 2 off the screen while the app runs.

    onnxruntime, torch and other C libraries write to fd 2 directly, which would scribble over
    the screen. Textual draws on ``sys.__stderr__``, so the terminal is first duplicated to a
    new descriptor that becomes ``sys.__stderr__``; then fd 2 is pointed at a log file.
    """
    if not (sys.__stderr__ is not None and sys.__stderr__.isatty()):
        yield None
        return
    log = paths.cache_dir() / "stderr.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        saved = os.dup(2)
        terminal = os.fdopen(os.dup(2), "w", encoding=sys.__stderr__.encoding or "utf-8",
                             errors="replace")
    except OSError:
        yield None
        return
    original = sys.__stderr__
    original.flush()
    sys.__stderr__ = terminal  # type: ignore[misc]
    os.dup2(target, 2)
    os.close(target)
    try:
        yield log
    finally:
        terminal.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sys.__stderr__ = original  # type: ignore[misc]
        terminal.close()


def main() -> None:
    """Open the Studio and run the app (``chatimg`` with no arguments).

    Raises:
        ConfigError: ``CHATIMG_IMAGES`` names no image mode.
        ChatImgError: The Studio could not be opened (bad settings, database unusable); the
            CLI prints it as one line.
        SystemExit: With the app's non-zero return code when it stopped on an unhandled error
            (Textual prints the traceback and would otherwise let the process exit with 0).
    """
    from chatimg.termimage import detect
    from chatimg.tui.graphics import forget_transmissions
    from chatimg.tui.widgets.image import configure_images

    # Ask the terminal about graphics now: Textual's input thread would steal the replies.
    configure_images(detect.requested(os.environ))
    log: Path | None = None
    app = ChatImgApp(open_studio)
    try:
        with stderr_to_log() as log:
            app.run()
    finally:
        if app.studio is not None:
            app.studio.close()
        goodbye = forget_transmissions()
        if goodbye and sys.__stdout__ is not None and sys.__stdout__.isatty():
            sys.__stdout__.write(goodbye)
            sys.__stdout__.flush()
    if app.startup_error is not None:
        raise app.startup_error
    if app.return_code:
        _show_crash(log)
        raise SystemExit(app.return_code)


def warm_ocr() -> bool:
    """Load the OCR model now (a thread worker, after the first paint), so the first
    typography check does not wait for it; the model stays loaded for the process."""
    from chatimg.validate import ocr

    return ocr.available()


def settle_heap() -> None:
    """Move what start-up built (modules, tables, the catalog) out of the garbage collector's
    view: it lives as long as the process, and a full collection that walks it stalls the UI
    loop (about 0.2 s with a large store open). Once per process: what is frozen is never
    collected, so later garbage (another app in the same process) must stay collectable."""
    if not gc.get_freeze_count():
        gc.freeze()


def open_studio() -> Studio:
    """Open the Studio (settings, database, migrations): what the app's worker calls.

    The import happens here, in the worker, so the first paint never pays for SQLAlchemy or
    pydantic-settings.
    """
    from chatimg.studio import Studio

    return Studio.open()


def _show_crash(log: Path | None) -> None:
    """Put the traceback Textual wrote while fd 2 went to the log back on the terminal."""
    if log is None:
        return
    with contextlib.suppress(OSError):
        sys.stderr.write(log.read_text(encoding="utf-8", errors="replace"))
        sys.stderr.write(f"chatimg: the app stopped on an unexpected error (also in {log})\n")
        sys.stderr.flush()
