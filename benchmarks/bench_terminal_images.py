"""Terminal image costs (issue 12 item 3), each against a baseline measured in the same run.

- Encoding a 512x512 layout poster for a 48x24-cell card (10x20 px cells), per protocol
  (``chatimg.tui.graphics.prepare``, uncached), vs Pillow scaling the same file to that box
  and saving it as PNG (the least any pixel protocol must do).
- Our Sixel encoder vs textual-image's (the same quantised 480x480 image, 256 colours).
- One frame of a visible card (``sequence_strip`` / ``kitty_strips`` for its 24 rows, the
  work ``render_lines`` does on the UI loop) vs the half-cell strips Textual already paints.

Run: ``.venv/bin/python benchmarks/bench_terminal_images.py``
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RUNS = 7
COLS, ROWS, CELL = 48, 24, (10, 20)


def median_time(function: Callable[[], Any], runs: int = RUNS) -> float:
    """Median seconds of ``function()`` over ``runs`` runs after one warm-up."""
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CHATIMG_HOME"] = folder
        run(Path(folder))


def run(folder: Path) -> None:
    from PIL import Image
    from rich.style import Style

    from chatimg.engines.layout import render
    from chatimg.termimage import sixel
    from chatimg.tui import graphics
    from chatimg.tui.thumbnails import fit

    poster = folder / "poster.png"
    render('a poster that says "SUMMER SALE" in red and blue', 7, 512, 512).save(poster)
    box = (COLS * CELL[0], ROWS * CELL[1])

    def baseline() -> None:
        with Image.open(poster) as opened:
            rgb = opened.convert("RGB")
        scaled = rgb.resize(fit(rgb.width, rgb.height, *box), Image.Resampling.LANCZOS)
        scaled.save(io.BytesIO(), format="PNG", compress_level=1)

    floor = median_time(baseline)
    print(f"baseline: scale to {box[0]}x{box[1]} + PNG    {floor * 1000:7.1f} ms")
    counter = iter(range(10**9))
    for protocol in ("halfcell", "kitty", "sixel", "iterm"):
        def encode(protocol: str = protocol) -> None:
            # a new key each time: nothing comes from the encoding cache; thumbnails do come
            # from the in-memory cache after the warm-up, as they would in the app
            key = f"bench-{next(counter)}"
            graphics.prepare_image(protocol, key, COLS, ROWS, CELL, scaled)  # type: ignore[arg-type]

        def scaled(width: int, height: int) -> Image.Image:
            from chatimg.tui.thumbnails import thumbnail

            return thumbnail(poster, "bench", width, height)

        took = median_time(encode)
        print(f"prepare {protocol:9s}                  {took * 1000:7.1f} ms  "
              f"ratio {took / floor:5.2f} x baseline")

    pixels = Image.open(poster).convert("RGB").resize((480, 480))
    indexed = sixel.quantize(pixels)
    ours = median_time(lambda: sixel.encode(indexed))
    try:
        from PIL import Image as PILImage
        from textual_image._sixel import image_to_sixels

        palette_image = PILImage.fromarray(indexed.indices, "P")
        flat = [value for colour in indexed.palette for value in colour]
        palette_image.putpalette(flat)
        theirs = median_time(lambda: image_to_sixels(palette_image.convert("RGB")))
        print(f"sixel encode 480x480: ours {ours * 1000:6.1f} ms, textual-image "
              f"{theirs * 1000:6.1f} ms  ratio {ours / theirs:5.2f}")
    except ImportError:  # textual-image changed its private encoder
        print(f"sixel encode 480x480: ours {ours * 1000:6.1f} ms")

    style = Style(bgcolor="rgb(20,20,20)")
    half = graphics.prepare_image("halfcell", "frame", COLS, ROWS, CELL, scaled)
    six = graphics.prepare_image("sixel", "frame", COLS, ROWS, CELL, scaled)
    kit = graphics.prepare_image("kitty", "frame", COLS, ROWS, CELL, scaled)

    def frame_halfcell() -> None:
        for strip in half.halfcells:
            strip.render_style  # noqa: B018  (the strips exist: Textual paints them as they are)
            strip.crop(0, COLS)

    def frame_sixel() -> None:
        for row in range(ROWS):
            graphics.sequence_strip(six, row, 0, COLS, 10, 5 + row, style)

    def frame_kitty() -> None:
        graphics.kitty_strips(kit, 0, COLS, 0, ROWS, style)

    base = median_time(frame_halfcell, runs=50)
    for name, function in (("sixel", frame_sixel), ("kitty", frame_kitty)):
        took = median_time(function, runs=50)
        print(f"one frame of a {COLS}x{ROWS} card, {name:5s}  {took * 1e6:7.1f} us  "
              f"ratio {took / base:5.2f} x half-cell strips ({base * 1e6:.1f} us)")


if __name__ == "__main__":
    main()
