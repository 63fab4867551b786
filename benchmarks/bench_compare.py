"""Compare costs (issue: compare), each against a baseline measured in the same run.

- Contact sheet for four 512x512 generations (load, similarity, draw, encode PNG) vs a bare
  Pillow grid of the same four files (open, scale, paste, encode), i.e. the floor.
- Similarity for the six pairs of four images (SSIM + dHash) vs the same bare Pillow grid.
- Opening the compare screen on four generations (half-cell renderer, until the scores are
  shown) vs a bare Textual app with four empty panes, and vs a bare app that shows the same four
  images with textual-image's half-cell widget in a grid, all through ``run_test()``.

Run: ``.venv/bin/python benchmarks/bench_compare.py``
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RUNS = 7
SIZE = 512


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
    home = Path(tempfile.mkdtemp(prefix="chatimg-bench-compare-"))
    os.environ["CHATIMG_HOME"] = str(home)
    from PIL import Image

    from chatimg.compare import load_comparison, load_image, similarity_scores
    from chatimg.compare_sheet import draw_contact_sheet
    from chatimg.spec import GenerationSpec
    from chatimg.studio import Studio

    studio = Studio.open()
    first = asyncio.run(studio.generate('a "HELLO" poster', ["layout"],
                                        GenerationSpec.build(seed=1, width=SIZE, height=SIZE),
                                        validate=False))
    conversation = first.message.conversation_id
    ids = [first.generations[0].id]
    for seed in (2, 3, 4):
        more = asyncio.run(studio.generate('a "HELLO" poster', ["layout"],
                                           GenerationSpec.build(seed=seed, width=SIZE, height=SIZE),
                                           conversation_id=conversation, validate=False))
        ids.append(more.generations[0].id)
    paths = [g.assets[0].path for g in studio.get_generations(ids)]

    def bare_grid() -> bytes:
        sheet = Image.new("RGB", (2 * 320, 2 * 320))
        for index, path in enumerate(paths):
            with Image.open(path) as image:
                thumb = image.convert("RGB").resize((320, 320), Image.Resampling.LANCZOS)
            sheet.paste(thumb, ((index % 2) * 320, (index // 2) * 320))
        buffer = io.BytesIO()
        sheet.save(buffer, format="PNG")
        return buffer.getvalue()

    def contact_sheet() -> bytes:
        comparison = load_comparison(studio, ids)
        images = [load_image(item) for item in comparison.items]
        scores = similarity_scores(comparison, images)
        sheet = draw_contact_sheet(comparison, scores, images=images)
        buffer = io.BytesIO()
        sheet.image.save(buffer, format="PNG")
        return buffer.getvalue()

    comparison = load_comparison(studio, ids)
    images = [load_image(item) for item in comparison.items]

    baseline = median_time(bare_grid)
    sheet_time = median_time(contact_sheet)
    scores_time = median_time(lambda: similarity_scores(comparison, images))
    print(f"bare Pillow 2x2 grid of 4x{SIZE}px (baseline): {baseline * 1000:8.1f} ms")
    print(f"contact sheet, 4 images, with 6 SSIM+dHash:     {sheet_time * 1000:8.1f} ms"
          f"  ratio {sheet_time / baseline:5.2f}x baseline")
    print(f"similarity only, 6 pairs (SSIM + dHash):        {scores_time * 1000:8.1f} ms"
          f"  ratio {scores_time / baseline:5.2f}x baseline")

    screen_time, bare_time, images_time = asyncio.run(_screens(studio, ids, paths))
    print(f"bare Textual app, 4 empty panes (baseline):     {bare_time * 1000:8.1f} ms")
    print(f"bare app, 4 half-cell images (baseline 2):      {images_time * 1000:8.1f} ms")
    print(f"compare screen, 4 panes until scores shown:     {screen_time * 1000:8.1f} ms"
          f"  ratio {screen_time / bare_time:5.2f}x baseline,"
          f" {screen_time / images_time:5.2f}x baseline 2")
    studio.close()


async def _screens(studio: Any, ids: list[str], paths: list[str]) -> tuple[float, float, float]:
    from textual.app import App, ComposeResult
    from textual.containers import Grid
    from textual.widgets import Static
    from textual_image.widget import HalfcellImage

    from chatimg.tui.screens.compare import CompareScreen

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            with Grid():
                for index in range(4):
                    yield Static(f"pane {index}")

    class BareImages(App[None]):
        CSS = "Grid { grid-size: 2 2; } HalfcellImage { width: auto; height: auto; }"

        def compose(self) -> ComposeResult:
            with Grid():
                for path in paths:
                    yield HalfcellImage(path)

    class WithCompare(App[None]):
        def on_mount(self) -> None:
            self.push_screen(CompareScreen(studio, ids, renderer="halfcell"))

    async def timed(app_class: type[App[None]], wait_workers: bool) -> float:
        samples = []
        for _ in range(RUNS):
            app = app_class()
            started = time.perf_counter()
            async with app.run_test(size=(160, 50)) as pilot:
                await pilot.pause()
                if wait_workers:
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    bare = await timed(Bare, False)
    images = await timed(BareImages, False)
    screen = await timed(WithCompare, True)
    return screen, bare, images


if __name__ == "__main__":
    main()
