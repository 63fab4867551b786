"""Opening the full-screen viewer on a 1024x1024 image: time to the first frame (half cells).

Goal (issue 12): under 150 ms from ``open_viewer`` to the first frame on screen at 200x60.
Baselines, measured in the same run: a bare Pillow decode of the same PNG and a resize to the
same pixel box (what any viewer must do at least), and pushing a bare screen (a label and a
footer) over the same app (what any screen costs: Textual restyles the screen below). The images are photo-like (smooth colour
fields plus noise), which decode slower than flat posters. "cold" opens each image for the first
time (nothing cached, no thumbnail on disk); "again" reopens them (the fit frame is cached).

Run: ``.venv/bin/python benchmarks/bench_viewer.py`` (about 20 seconds).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (200, 60)
RUNS = 15


def photo_like(side: int = 1024) -> Any:
    """A deterministic image with gradients and fine noise (costs like a diffusion output)."""
    from PIL import Image, ImageChops

    gradient = Image.linear_gradient("L").resize((side, side))
    noise = Image.effect_noise((side, side), 48)
    red = ImageChops.add(gradient, noise, scale=1.6)
    green = ImageChops.add(gradient.rotate(90), noise.rotate(180), scale=1.6)
    blue = Image.radial_gradient("L").resize((side, side))
    return Image.merge("RGB", (red, green, blue))


def seed_store() -> list[str]:
    """One conversation with ``RUNS`` 1024x1024 generations (all different); their ids."""
    from chatimg.imaging import encode_png
    from chatimg.studio import Studio
    from tests.seeded import add_finished_layout

    studio = Studio.open()
    try:
        conversation = studio.create_conversation("viewer bench", "layout")
        ids: list[str] = []
        for seed in range(RUNS):
            stored = studio.assets.put(encode_png(photo_like()))  # noise differs every call
            ids.append(add_finished_layout(studio, conversation.id, '"bench"', stored, seed,
                                           12.0))
        return ids
    finally:
        studio.close()


def baseline(path: str, box: tuple[int, int]) -> float:
    """Seconds for a bare Pillow decode + resize of ``path`` into ``box`` (aspect kept)."""
    from PIL import Image

    from chatimg.tui.thumbnails import fit

    clock = time.perf_counter()
    with Image.open(path) as opened:
        rgb = opened.convert("RGB")
    rgb.resize(fit(rgb.width, rgb.height, *box), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return time.perf_counter() - clock


def bare_screen() -> Any:
    """A screen with a label and a footer that says when its first layout is done."""
    from textual.screen import Screen
    from textual.widgets import Footer, Label

    class Bare(Screen[None]):
        laid_out = False

        def compose(self) -> Any:
            yield Label("bare")
            yield Footer()

        def on_mount(self) -> None:
            self.call_after_refresh(setattr, self, "laid_out", True)

    return Bare()


async def viewer_runs(generation_ids: list[str]
                      ) -> tuple[list[float], list[float], list[float], tuple[int, int], str]:
    """Open the viewer on each image twice (cold, again); seconds from ``open_viewer`` to the
    first painted frame."""
    from chatimg.studio import Studio
    from chatimg.tui.app import ChatImgApp
    from chatimg.tui.screens.viewer import open_viewer
    from chatimg.tui.widgets.image import configure_images

    configure_images("halfcell")
    studio = Studio.open()
    times: list[float] = []
    again: list[float] = []
    bare: list[float] = []
    box = (0, 0)
    path = ""
    try:
        app = ChatImgApp(studio)
        async with app.run_test(size=SIZE) as pilot:
            main = app.main_screen
            while not (main.is_mounted and main.thread_loaded):
                await pilot.pause(0.01)
            for generation_id in [*generation_ids, *generation_ids]:
                clock = time.perf_counter()
                screen = open_viewer(app, generation_id, 0)
                while screen.canvas.frames < 1:
                    await asyncio.sleep(0.001)
                await pilot.pause()  # the frame is painted
                (again if len(times) == len(generation_ids) else times).append(
                    time.perf_counter() - clock)
                box = (screen.canvas.size.width, screen.canvas.size.height * 2)
                path = screen.current.asset.path
                screen.dismiss(None)
                await pilot.pause()
            for _ in generation_ids:
                clock = time.perf_counter()
                plain = bare_screen()
                await app.push_screen(plain)
                while not plain.laid_out:
                    await asyncio.sleep(0.001)
                await pilot.pause()
                bare.append(time.perf_counter() - clock)
                plain.dismiss(None)
                await pilot.pause()
    finally:
        studio.close()
    return times, again, bare, box, path


def naive_strips(image: Any) -> list[Any]:
    """The half-cell strips as first written (Rich's ``Color.from_rgb`` per colour, then
    ``Segment.simplify``): the baseline for ``halfcell_strips``."""
    from rich.color import Color
    from rich.segment import Segment
    from rich.style import Style
    from textual.strip import Strip

    from chatimg.termimage import halfcell

    styles: dict[Any, Style] = {}
    strips = []
    for row in halfcell.cell_colours(image):
        segments = []
        for pair in row:
            style = styles.get(pair)
            if style is None:
                style = styles[pair] = Style.from_color(Color.from_rgb(*pair[0]),
                                                        Color.from_rgb(*pair[1]))
            segments.append(Segment(halfcell.UPPER_HALF, style))
        strips.append(Strip(Segment.simplify(segments), len(row)))
    return strips


def strips_seconds(path: str, box: tuple[int, int]) -> tuple[float, float]:
    """Seconds to build the half-cell strips of the scaled image (part of the viewer's time):
    now, and as first written (alternating, so load changes hit both alike)."""
    from PIL import Image

    from chatimg.tui.thumbnails import fit
    from chatimg.tui.widgets.image import halfcell_strips

    with Image.open(path) as opened:
        scaled = opened.convert("RGB").resize(fit(1024, 1024, *box))
    now: list[float] = []
    before: list[float] = []
    for _ in range(RUNS):
        for how, into in ((halfcell_strips, now), (naive_strips, before)):
            clock = time.perf_counter()
            how(scaled)
            into.append(time.perf_counter() - clock)
    return statistics.median(now), statistics.median(before)


def resize_seconds(path: str, box: tuple[int, int]) -> tuple[float, float]:
    """Seconds to scale the decoded image into the box: with a reducing gap (the thumbnail
    cache's way now) and plain Lanczos (before), alternating."""
    from PIL import Image

    from chatimg.tui.thumbnails import fit

    with Image.open(path) as opened:
        rgb = opened.convert("RGB")
    size = fit(rgb.width, rgb.height, *box)
    now: list[float] = []
    before: list[float] = []
    for _ in range(RUNS):
        for gap, into in ((3.0, now), (None, before)):
            clock = time.perf_counter()
            rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=gap)
            into.append(time.perf_counter() - clock)
    return statistics.median(now), statistics.median(before)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="chatimg-bench-viewer-") as home:
        os.environ["CHATIMG_HOME"] = home
        generation_ids = seed_store()
        times, again, bare, box, path = asyncio.run(viewer_runs(generation_ids))
        base = [baseline(path, box) for _ in range(RUNS)]
        strips, strips_before = strips_seconds(path, box)
        scaled, scaled_before = resize_seconds(path, box)
    viewer_ms, base_ms = statistics.median(times) * 1000, statistics.median(base) * 1000
    print(f"viewer first frame, 1024x1024 PNG at {SIZE[0]}x{SIZE[1]} (box {box[0]}x{box[1]} px),"
          f" {RUNS} runs")
    print(f"  viewer, cold:  median {viewer_ms:7.1f} ms   p95 {p95(times) * 1000:7.1f} ms"
          f"   (goal: under 150 ms)")
    print(f"  viewer, again: median {statistics.median(again) * 1000:7.1f} ms"
          f"   p95 {p95(again) * 1000:7.1f} ms")
    print(f"  baseline:      median {base_ms:7.1f} ms   (bare Pillow decode + resize)")
    bare_ms = statistics.median(bare) * 1000
    print(f"  baseline:      median {bare_ms:7.1f} ms   (push a bare screen: label + footer)")
    print(f"  half-cell strips alone: {strips * 1000:.1f} ms   as first written "
          f"{strips_before * 1000:.1f} ms   ratio {strips / strips_before:.2f}x")
    print(f"  scaling 1024 px into the box: {scaled * 1000:.1f} ms   plain Lanczos "
          f"{scaled_before * 1000:.1f} ms   ratio {scaled / scaled_before:.2f}x")
    print(f"  ratio cold viewer / (decode + bare screen): {viewer_ms / (base_ms + bare_ms):.2f}x")
    print(f"  ratio viewer again / bare screen: "
          f"{statistics.median(again) * 1000 / bare_ms:.2f}x")


if __name__ == "__main__":
    main()
