"""The compare screen: 2 to 4 generations side by side, their differences and a winner.

Open it with ``app.push_screen(CompareScreen(studio, generation_ids), callback)``; see the
class docstring for what it returns. The rows load and the images decode in a thread worker
(the screen says "loading…" meanwhile), never on the UI loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, Vertical
from textual.widget import Widget
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from chatimg.compare import (
    CompareItem,
    Comparison,
    PairScore,
    ParamRow,
    continue_params,
    load_comparison,
    load_image,
    pair_score,
    similarity_scores,
)
from chatimg.errors import ChatImgError
from chatimg.similarity import difference_image
from chatimg.tui.failures import ForwardFailedWorkers
from chatimg.tui.frames import PacedScreen
from chatimg.tui.widgets.image import image_mode, textual_image_widgets
from chatimg.tui.widgets.key_hints import KeyHints

if TYPE_CHECKING:
    from PIL.Image import Image

    from chatimg.studio import Studio

Renderer = Literal["auto", "halfcell"]
#: Half-cell panes never need more pixels than this per side; larger images are scaled once.
HALFCELL_MAX_SIDE = 384


def _default_renderer() -> Renderer:
    """Half cells: textual-image's own widgets ("auto") mis-draw Sixel colours in xterm and
    write Kitty output past Textual, so panes use them only when asked for explicitly."""
    return "halfcell"


def _image_widget(image: Image, renderer: Renderer, classes: str) -> Widget:
    widgets = textual_image_widgets()
    if renderer == "halfcell":
        if max(image.size) > HALFCELL_MAX_SIDE:
            image = image.copy()
            image.thumbnail((HALFCELL_MAX_SIDE, HALFCELL_MAX_SIDE))
        return widgets.HalfcellImage(image, classes=classes)  # type: ignore[no-any-return]
    mode = image_mode()
    chosen = (widgets.SixelImage if mode == "sixel" else widgets.TGPImage if mode == "kitty"
              else widgets.HalfcellImage)
    return chosen(image, classes=classes)  # type: ignore[no-any-return]


class ComparePane(Vertical, can_focus=True):
    """One generation: its image (or error, or "missing") and the parameters that differ."""

    def __init__(
        self, item: CompareItem, number: int, differing: list[ParamRow], index: int,
        image: Image | None, renderer: Renderer,
    ) -> None:
        super().__init__(id=f"pane-{number}", classes=f"pane-{item.state}")
        self.item = item
        self.number = number
        self._differing = differing
        self._index = index
        self._image = image
        self._renderer = renderer

    def compose(self) -> ComposeResult:
        models_differ = any(row.key == "model" for row in self._differing)
        yield Label(self.title_text(), markup=False,
                    classes="pane-title differs" if models_differ else "pane-title")
        with Container(classes="pane-image"):
            if self._image is not None:
                yield _image_widget(self._image, self._renderer, "pane-picture")
            else:
                yield Static(self.item.note, markup=False,
                             classes=f"pane-note {self.item.state}")
        with Vertical(classes="pane-params"):
            for row in self._differing:
                if row.key == "model":
                    continue
                yield Label(f"{row.label}: {row.values[self._index]}", markup=False,
                            classes=f"param differs param-{row.key.replace(':', '-')}")

    def title_text(self) -> str:
        star = " ★ winner" if self.has_class("winner") else ""
        count = len(self.item.generation.assets)
        image = f" · image {self.item.image + 1} of {count}" if count > 1 else ""
        return f"#{self.number} {self.item.model}{image}{star}"

    def refresh_title(self) -> None:
        self.query_one(".pane-title", Label).update(self.title_text())


class CompareScreen(PacedScreen[dict[str, Any] | None], ForwardFailedWorkers):
    """Images of one conversation side by side (2x2 grid for four).

    Args:
        studio: The Studio.
        generation_ids: 2 to 4 images of one conversation: generation ids (their first
            image) or ``ID#k`` (``chatimg.compare.ImageRef``).
        renderer: ``"auto"`` (Sixel/Kitty/half-cell as the terminal allows) or ``"halfcell"``;
            default: follow the app's image mode (``chatimg.tui.widgets.image.image_mode``).

    When an id is unknown, the ids span several conversations, or there are not 2 to 4 of
    them, the screen shows the one-line reason as a notification and closes with ``None``.

    The screen is dismissed with ``None`` (closed) or, for "continue from this one", with::

        {"generation_id": str, "model": str, "seed": int | None,
         "params": {...}}   # GenerationParams field names: steps, guidance, scheduler,
                            # width, height, negative_prompt, strength, upscale, extra,
                            # source, mask (only those that were set)

    so the caller can set its composer's model, seed and params.
    """

    DEFAULT_CSS = """
    CompareScreen { layout: vertical; }
    CompareScreen #compare-header { height: auto; padding: 0 1; background: $boost; }
    CompareScreen #compare-shared { color: $text-muted; }
    CompareScreen #compare-similarity { color: $text; }
    CompareScreen #compare-status { color: $text-success; height: auto; }
    CompareScreen #compare-status.-warning { color: $text-warning; }
    CompareScreen #compare-status.-error { color: $text-error; text-style: bold; }
    CompareScreen #compare-panes { height: 1fr; grid-gutter: 0 1; }
    CompareScreen ComparePane { height: 1fr; border: round $panel; padding: 0 1; }
    CompareScreen ComparePane:focus { border: round $accent; }
    CompareScreen ComparePane.marked { border: double $secondary; }
    CompareScreen ComparePane.marked:focus { border: double $accent; }
    CompareScreen .pane-title { text-style: bold; width: 1fr; }
    CompareScreen .pane-title.differs { color: $warning; }
    CompareScreen ComparePane.winner .pane-title { color: $success; }
    CompareScreen .pane-image { height: 1fr; align: center middle; }
    CompareScreen .pane-picture, CompareScreen .difference-picture { width: auto; height: auto; }
    CompareScreen .pane-note { width: 1fr; content-align: center middle; height: 1fr; }
    CompareScreen .pane-note.failed { color: $error; }
    CompareScreen .pane-note.missing { color: $text-muted; text-style: italic; }
    CompareScreen .pane-params { height: auto; }
    CompareScreen .param.differs { color: $warning; text-style: bold; }
    CompareScreen #compare-panes.zoomed ComparePane { display: none; }
    CompareScreen #compare-panes.zoomed ComparePane.zoomed { display: block; }
    CompareScreen #compare-difference { display: none; height: 1fr; align: center middle; }
    CompareScreen.difference-mode #compare-panes { display: none; }
    CompareScreen.difference-mode #compare-difference { display: block; }
    """

    BINDINGS = [
        Binding("right,l", "move(1)", "Next", id="compare.next"),
        Binding("left,h", "move(-1)", "Previous", id="compare.previous"),
        Binding("down,j", "move_row(1)", "Down", show=False, id="compare.down"),
        Binding("up,k", "move_row(-1)", "Up", show=False, id="compare.up"),
        Binding("s", "swap", "Swap", id="compare.swap"),
        Binding("z", "zoom", "Zoom", id="compare.zoom"),
        Binding("space", "mark", "Mark", id="compare.mark"),
        Binding("d", "difference", "Difference", id="compare.difference"),
        Binding("w", "pick", "Pick winner", id="compare.pick"),
        Binding("c", "continue", "Continue from this", id="compare.continue"),
        Binding("escape,q", "back", "Back", id="compare.back"),
    ]

    def __init__(
        self, studio: Studio, generation_ids: list[str] | tuple[str, ...],
        *, renderer: Renderer | None = None,
    ) -> None:
        super().__init__()
        self.studio = studio
        self.generation_ids = list(generation_ids)
        self.comparison: Comparison | None = None
        """The loaded comparison (``None`` while loading)."""
        self.renderer: Renderer = renderer or _default_renderer()
        self.images: list[Image | None] = []
        self.scores: dict[frozenset[str], PairScore] = {}
        self.difference: Image | None = None
        """The difference image on show in difference mode (``None`` otherwise)."""
        self.difference_pair: tuple[str, str] | None = None
        self._marked: list[str] = []

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="compare-header"):
            yield Static("loading the comparison…", markup=False, id="compare-shared")
            yield Static("similarity: computing…", markup=False, id="compare-similarity")
            yield Static("", markup=False, id="compare-status")
        yield Grid(id="compare-panes")
        with Container(id="compare-difference"):
            yield Static("", id="difference-placeholder")
        yield KeyHints()

    def on_mount(self) -> None:
        self.app.clear_notifications()  # toasts over pane #2 would hide its details
        self._load()

    def say(self, text: str, severity: str = "information") -> None:
        """What an action did, on the status line under the header (not a toast over the
        panes)."""
        status = self.query_one("#compare-status", Static)
        status.update(text)
        status.set_class(severity == "error", "-error")
        status.set_class(severity == "warning", "-warning")

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-load",
          name="compare-load")
    def _load(self) -> None:
        """Load the rows and decode the images, show them, then compute the similarity."""
        try:
            comparison = load_comparison(self.studio, self.generation_ids)
        except ChatImgError as exc:
            self.app.call_from_thread(self._not_loaded, exc.one_line())
            return
        images = [load_image(item) for item in comparison.items]
        # Textual's stub infers Never for a coroutine callback; it awaits it (panes mounted).
        self.app.call_from_thread(self._loaded, comparison, images)  # type: ignore[arg-type]
        scores = similarity_scores(comparison, images)
        self.app.call_from_thread(self._scores_ready, scores)

    def _not_loaded(self, reason: str) -> None:
        self.notify(reason, severity="error")
        self.dismiss(None)

    async def _loaded(self, comparison: Comparison, images: list[Image | None]) -> None:
        self.comparison, self.images = comparison, images
        self.query_one("#compare-shared", Static).update(self._shared_text())
        differing = comparison.differing_rows()
        await self.query_one("#compare-panes", Grid).mount_all(
            ComparePane(item, index + 1, differing, index, images[index], self.renderer)
            for index, item in enumerate(comparison.items)
        )
        self._apply_grid()
        self.panes()[0].focus()
        self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "compare-load" and event.state is WorkerState.ERROR:
            self.query_one("#compare-shared", Static).update(
                "could not load the comparison · esc goes back")

    @property
    def shown(self) -> Comparison:
        """The loaded comparison (the keys wait for it: see ``check_action``)."""
        if self.comparison is None:
            raise RuntimeError("the comparison has not loaded yet")
        return self.comparison

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only "back" works until the comparison has loaded."""
        return self.comparison is not None or action == "back"

    def panes(self) -> list[ComparePane]:
        """The panes in display order."""
        return list(self.query_one("#compare-panes", Grid).query_children(ComparePane))

    def focused_pane(self) -> ComparePane:
        focused = self.focused
        while focused is not None and not isinstance(focused, ComparePane):
            focused = focused.parent if isinstance(focused.parent, Widget) else None
        return focused if isinstance(focused, ComparePane) else self.panes()[0]

    def _columns(self) -> int:
        count = len(self.shown.items)
        return 2 if count == 4 else count

    def _apply_grid(self) -> None:
        grid = self.query_one("#compare-panes", Grid)
        zoomed = grid.has_class("zoomed")
        columns = 1 if zoomed else self._columns()
        rows = 1 if zoomed else (len(self.shown.items) + columns - 1) // columns
        grid.styles.grid_size_columns = columns
        grid.styles.grid_size_rows = rows

    def _shared_text(self) -> str:
        shared = " · ".join(
            f"{row.label} {row.values[0]}"
            for row in self.shown.shared_rows() if row.values[0] != "-"
        )
        count = len(self.shown.items)
        return f"Compare {count} generations · same: {shared or '(nothing)'}"

    # -- similarity -----------------------------------------------------------------------------

    def _scores_ready(self, scores: list[PairScore]) -> None:
        for score in scores:
            self.scores[frozenset((score.a, score.b))] = score
        self._refresh_similarity()

    def _number(self, generation_id: str) -> int:
        return self.shown.index_of(generation_id) + 1

    def _refresh_similarity(self) -> None:
        label = self.query_one("#compare-similarity", Static)
        if self.difference_pair is not None:
            a, b = self.difference_pair
            score = self.scores.get(frozenset((a, b)))
            text = score.short() if score else "computing…"
            label.update(f"difference #{self._number(a)} vs #{self._number(b)} "
                         f"(black = identical) · {text}")
            return
        if not self.scores:
            label.update("similarity: computing…")
            return
        ordered = sorted(
            self.scores.values(), key=lambda s: sorted((self._number(s.a), self._number(s.b)))
        )
        parts = [f"#{self._number(s.a)}↔#{self._number(s.b)} {s.short()}" for s in ordered]
        label.update("similarity: " + "   ".join(parts))

    def score_between(self, a: str, b: str) -> PairScore | None:
        """The computed score of two compared generations (``None`` until computed)."""
        return self.scores.get(frozenset((a, b)))

    # -- actions --------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        """Focus another pane; when zoomed, zoom that one instead."""
        if self.has_class("difference-mode"):
            return
        panes = self.panes()
        current = self.focused_pane()
        target = panes[(panes.index(current) + delta) % len(panes)]
        if self.query_one("#compare-panes", Grid).has_class("zoomed"):
            current.remove_class("zoomed")
            target.add_class("zoomed")
        target.focus()

    def action_move_row(self, delta: int) -> None:
        self.action_move(delta * self._columns())

    def action_swap(self) -> None:
        """Swap the focused pane with the next one (the last with the first)."""
        grid = self.query_one("#compare-panes", Grid)
        panes = self.panes()
        current = self.focused_pane()
        position = panes.index(current)
        if position + 1 < len(panes):
            grid.move_child(panes[position + 1], before=current)
        else:
            first = panes[0]
            grid.move_child(current, before=first)
            if len(panes) > 2:
                grid.move_child(first, after=panes[-2])
        current.focus()

    def action_zoom(self) -> None:
        """Show the focused pane alone (full screen), or go back to the grid."""
        grid = self.query_one("#compare-panes", Grid)
        current = self.focused_pane()
        if grid.has_class("zoomed"):
            grid.remove_class("zoomed")
            for pane in self.panes():
                pane.remove_class("zoomed")
        else:
            current.add_class("zoomed")
            grid.add_class("zoomed")
        self._apply_grid()
        current.focus()

    def action_mark(self) -> None:
        """Mark the focused pane for difference mode (two at most; the oldest mark drops)."""
        current = self.focused_pane()
        if current.item.id in self._marked:
            self._marked.remove(current.item.id)
            current.remove_class("marked")
            return
        self._marked.append(current.item.id)
        current.add_class("marked")
        while len(self._marked) > 2:
            dropped = self._marked.pop(0)
            for pane in self.panes():
                if pane.item.id == dropped:
                    pane.remove_class("marked")

    def difference_targets(self) -> tuple[ComparePane, ComparePane]:
        """The two marked panes, else the focused pane and the next one."""
        panes = self.panes()
        if len(self._marked) == 2:
            marked = [p for p in panes if p.item.id in self._marked]
            return marked[0], marked[1]
        current = self.focused_pane()
        position = panes.index(current)
        return current, panes[(position + 1) % len(panes)]

    async def action_difference(self) -> None:
        """Toggle the per-pixel difference of two panes (resized to the smaller when needed)."""
        holder = self.query_one("#compare-difference", Container)
        if self.has_class("difference-mode"):
            self.remove_class("difference-mode")
            self.difference = None
            self.difference_pair = None
            await holder.remove_children()
            await holder.mount(Static("", id="difference-placeholder"))
            self._refresh_similarity()
            self.focused_pane().focus()
            return
        first, second = self.difference_targets()
        a = self.images[self.shown.index_of(first.item.id)]
        b = self.images[self.shown.index_of(second.item.id)]
        if a is None or b is None:
            self.say("Difference needs two images; one of these has none", severity="warning")
            return
        self.difference = difference_image(a, b)
        self.difference_pair = (first.item.id, second.item.id)
        key = frozenset(self.difference_pair)
        if key not in self.scores:
            self.scores[key] = pair_score(first.item.id, a, second.item.id, b)
        await holder.remove_children()
        await holder.mount(_image_widget(self.difference, self.renderer, "difference-picture"))
        self.add_class("difference-mode")
        self._refresh_similarity()

    def action_pick(self) -> None:
        """Store the focused pane's generation as this comparison's winner."""
        current = self.focused_pane()
        try:
            self.studio.add_pick(self.shown.generation_ids, current.item.generation.id,
                                 winner_image=current.item.image,
                                 images=[item.image for item in self.shown.items])
        except ChatImgError as exc:
            self.say(exc.one_line(), severity="error")
            return
        for pane in self.panes():
            pane.set_class(pane is current, "winner")
            pane.refresh_title()
        self.say(f"Picked #{current.number} {current.item.model} as the winner")

    def action_continue(self) -> None:
        """Return the focused pane's model, seed and params to the caller."""
        item = self.focused_pane().item
        self.dismiss(continue_params(item.generation, item.image))

    async def action_back(self) -> None:
        if self.has_class("difference-mode"):
            await self.action_difference()
        elif self.query_one("#compare-panes", Grid).has_class("zoomed"):
            self.action_zoom()
        else:
            self.dismiss(None)
