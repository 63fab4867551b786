"""How tall the parts of a thread will be before they are laid out, and the images a thread
opened at its end shows first: what lets a long thread mount only what fills the view, build
only the cards on screen and decode their images while it loads."""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from chatimg.tui.widgets.card import RESERVED_ROWS, detail_text, image_max_columns
from chatimg.tui.widgets.image import cell_box, prepare_card_image
from chatimg.tui.widgets.image_grid import grid_columns, tile_limits

if TYPE_CHECKING:
    from chatimg import domain

#: Cells a card's frame takes across (margin, border, padding) and a scrollbar.
CARD_FRAME = 7

#: Messages read first when a thread opens at its end: they fill the view in most threads
#: (one card with an image does); more are read only when they do not.
OPENING_READ = 8


def wins_of(thread: domain.Thread) -> dict[str, int]:
    """How often each generation of ``thread`` won a comparison."""
    return dict(Counter(pick.winner_id for pick in thread.picks))


def image_boxes(generation: domain.Generation, size: tuple[int, int],
                max_columns: int) -> list[tuple[int, int]]:
    """The cell box of each of a generation's images on its card in a thread of ``size``."""
    width, visible = size
    limits = tile_limits(width - CARD_FRAME, visible - RESERVED_ROWS, len(generation.assets),
                         max_columns)
    return [cell_box(a.width, a.height, *limits) for a in generation.assets]


def card_height(generation: domain.Generation, size: tuple[int, int], max_columns: int,
                wins: int = 0) -> int:
    """About how many rows a stored generation's card takes in a thread of ``size`` cells
    (header, its grid of images with their labels, detail lines, the margin above)."""
    rows = 2  # margin above and the header line
    if generation.assets:
        boxes = image_boxes(generation, size, max_columns)
        columns = grid_columns(len(boxes))
        label = 0 if len(boxes) == 1 else 1
        for start in range(0, len(boxes), columns):
            rows += max(box[1] for box in boxes[start:start + columns]) + label
    detail = detail_text(generation, None, False, generation.status, wins)
    return rows + len(detail.plain.split("\n"))  # an empty detail line still takes a row


def prompt_rows(message: domain.Message, width: int) -> int:
    """Rows a message block takes above its cards (margin, branch line, wrapped prompt)."""
    across = max(1, width - 2)
    lines = sum(1 + len(line) // across for line in message.text.split("\n"))
    return 1 + (1 if message.parent_id else 0) + lines


def message_height(message: domain.Message, size: tuple[int, int], max_columns: int,
                   wins: dict[str, int]) -> int:
    """About how many rows a stored message's block takes (prompt and cards)."""
    return prompt_rows(message, size[0]) + sum(
        card_height(g, size, max_columns, wins.get(g.id, 0)) for g in message.generations)


def filling(messages: Sequence[domain.Message], end: int, size: tuple[int, int],
            max_columns: int, wins: dict[str, int], screens: int = 1,
            start: int = 0) -> tuple[int, int]:
    """Where a run of ``messages`` ending before index ``end`` (and starting at ``start`` at
    the earliest) starts that fills a thread of ``size`` cells ``screens`` times over, and
    about how many rows it takes."""
    rows, index = 0, end
    while index > start and rows < screens * size[1]:
        index -= 1
        rows += message_height(messages[index], size, max_columns, wins)
    return index, rows


def read_opening(read: Callable[[int, str | None], domain.Thread], size: tuple[int, int],
                 window: int) -> domain.Thread:
    """The newest messages of a thread, as many as fill a view of ``size`` cells scrolled to
    its end: ``read(last, before)`` (the store's windowed read) is asked for ``OPENING_READ``
    messages, then for ``window`` more before them while the view is not filled and the
    thread has more. What is above is read when the person scrolls up to it."""
    columns = image_max_columns()
    thread = read(OPENING_READ, None)
    wins = wins_of(thread)  # (a thread's picks are read whole each time)
    while thread.earlier and thread.messages and filling(
            thread.messages, len(thread.messages), size, columns, wins)[1] < size[1]:
        before = read(window, thread.messages[0].id)
        messages = before.messages + thread.messages
        loaded = {message.id for message in messages}
        parents = {key: value for key, value in {**before.parents, **thread.parents}.items()
                   if key not in loaded}
        thread = dataclasses.replace(thread, messages=messages, earlier=before.earlier,
                                     parents=parents)
    return thread


def newest_on_screen(messages: list[domain.Message], size: tuple[int, int], max_columns: int,
                     wins: dict[str, int]) -> list[domain.Generation]:
    """The stored generations at the end of ``messages`` that fill a thread of ``size`` cells
    scrolled to its end (built as cards at once, their images prepared while loading)."""
    found: list[domain.Generation] = []
    rows = 0
    for message in reversed(messages):
        for generation in reversed(message.generations):
            if rows >= size[1]:
                return found
            if generation.status not in ("queued", "running"):
                found.append(generation)
            rows += card_height(generation, size, max_columns, wins.get(generation.id, 0))
        rows += prompt_rows(message, size[0])
    return found


def prepare_images(generations: list[domain.Generation], size: tuple[int, int],
                   max_columns: int) -> None:
    """Scale and encode the images of ``generations`` for cards in a thread of ``size`` cells,
    into the image cache their cards read when they mount (run in a worker thread; an image
    that cannot be read is left to its card to report)."""
    for generation in generations:
        for asset, box in zip(generation.assets, image_boxes(generation, size, max_columns),
                              strict=True):
            if not asset.state:
                with contextlib.suppress(OSError):
                    prepare_card_image(asset, box)


def prepare_newest(thread: domain.Thread, size: tuple[int, int]) -> None:
    """Prepare the images a thread opened at its end shows first (see ``prepare_images``)."""
    columns = image_max_columns()
    prepare_images(newest_on_screen(list(thread.messages), size, columns, wins_of(thread)),
                   size, columns)
