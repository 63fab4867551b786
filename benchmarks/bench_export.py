"""Export of a 1,000-image thread vs zipping the same files with ``zipfile`` (stored).

Builds a thread in a throw-away ``CHATIMG_HOME`` (500 messages, each on two models, one image
per generation: 1,000 distinct PNGs of noise, which do not compress), then times, alternately
and several rounds each, after one warm-up of both so the page cache is warm for both:

- ``export_conversation``: load the thread, build the manifest and the HTML gallery, hash every
  image while copying it (stored), report progress after each image, fsync, rename over the
  bundle of the round before (the manifest and gallery are deflated on a thread meanwhile);
- the baseline: ``zipfile.ZipFile(..., ZIP_STORED).write(file, arcname)`` for the same files,
  over the zip of the round before;
- ``export_conversation(..., verify=False)``: sizes checked but no sha256, to show what the
  default verification (every image re-hashed as it is copied) costs;
- then, each on its own, the work an export does that zipping does not: reading the rows,
  building the manifest and the gallery, deflating them (which an export overlaps with the
  copying), hashing the images; with garbage collection paused, as during an export.

Every timed run starts settled, outside its timing: the export's own threads finished and
``os.sync()`` done. An export leaves the kernel writing its zip out and freeing the bundle it
replaced after it returns, and zipfile leaves its whole zip unwritten; without settling, that
work would fall into whichever run comes next and flatter or burden the other side.

Prints every time, the ratio of the best times, the median of the per-round ratios (each round
times both back to back, so the median is the estimate least moved by other load on a shared
machine; target: at most 1.5), and the progress the export reported. ``--size`` sets the image
side: the default 128 px noise PNG is 49 KB, between a 512 px layout poster (about 24 KB) and a
512 px diffusion image (about 400 KB); fixed per-generation costs weigh most with small images
(``--size 90`` makes 24 KB ones).

Run: ``.venv/bin/python benchmarks/bench_export.py [--images 1000] [--size 128] [--rounds 7]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any


def _noise_png(seed: int, size: int) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def build_thread(studio: Any, images: int, size: int) -> str:
    """A conversation with ``images`` generations of one image each, two per message."""
    conversation = studio.create_conversation("export benchmark", "layout")
    made = 0
    while made < images:
        message = studio.add_message(conversation.id, f'poster number {made} "BENCH"',
                                     model="layout", params={"seed": made})
        for model in ("layout", "poster"):
            if made >= images:
                break
            params = {"seed": made, "width": size, "height": size, "steps": 1}
            generation = studio.repo.create_generation(
                message.id, model, params, resolved_model=model, engine_kind="layout",
                model_id=model, model_version="1")
            stored = studio.assets.put(_noise_png(made, size))
            studio.repo.finish_generation(
                generation.id, [(stored, made, None)], status="succeeded",
                latency_ms=12.5, cost_usd=0.0, receipt={
                    "model": {"name": model, "engine": "layout", "version": "1"},
                    "request": {"prompt": "poster", **params}, "deterministic": True,
                    "images": [{"sha256": stored.sha256, "seed": made}]})
            made += 1
    return str(conversation.id)


def zip_baseline(files: list[tuple[Path, str]], target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, name in files:
            archive.write(path, name)


def settle() -> None:
    """Let the previous run's leftovers finish: the export's threads, and the writeback."""
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith("chatimg-export-"):
            thread.join(timeout=60)
    os.sync()


def export_parts(studio: Any, cid: str, files: list[tuple[Path, str]],
                 rounds: int) -> dict[str, float]:
    """Best times of the work an export does that zipping the files does not (garbage
    collection paused, as ``export_conversation`` pauses it)."""
    import gc
    import hashlib
    import zlib

    from chatimg import __version__
    from chatimg.bundle.gallery import render_index
    from chatimg.bundle.manifest import build_manifest
    from chatimg.store.tables import utcnow

    images = [path.read_bytes() for path, _ in files]
    times: dict[str, list[float]] = {}

    def since(name: str, start: float) -> None:
        times.setdefault(name, []).append(time.perf_counter() - start)

    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            dump = studio.repo.bundles.dump(cid)
            since("rows", start)
            start = time.perf_counter()
            manifest, text = build_manifest(dump, app_version=__version__,
                                            exported_at=utcnow(), secrets=[])
            since("manifest", start)
            start = time.perf_counter()
            html = render_index(manifest)
            since("gallery", start)
            start = time.perf_counter()
            for item in (text, html):
                packer = zlib.compressobj(1, zlib.DEFLATED, -15)
                packer.compress(item.encode("utf-8"))
                packer.flush()
            since("deflating both (beside the copying)", start)
            start = time.perf_counter()
            for data in images:
                hashlib.sha256(data).digest()
            since("sha256 of the images", start)
    finally:
        if collecting:
            gc.enable()
    return {name: min(seconds) for name, seconds in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=128, help="image side in pixels")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chatimg-bench-export-") as folder:
        os.environ["CHATIMG_HOME"] = str(Path(folder) / "home")
        from chatimg.bundle import export_conversation
        from chatimg.studio import Studio

        studio = Studio.open()
        clock = time.perf_counter()
        cid = build_thread(studio, args.images, args.size)
        print(f"built a {args.images}-image thread in {time.perf_counter() - clock:.1f} s")
        thread = studio.load_thread(cid)
        files = [(Path(a.path), f"assets/{a.sha256}.png")
                 for m in thread.messages for g in m.generations for a in g.assets]
        total_bytes = sum(p.stat().st_size for p, _ in files)
        out = Path(folder) / "out"
        out.mkdir()
        calls: list[tuple[int, int]] = []
        tty = sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            calls.append((done, total))
            if tty and (done % 50 == 0 or done == total):
                print(f"\rexporting images {done}/{total}", end="\n" if done == total else "",
                      file=sys.stderr, flush=True)

        def run_export() -> float:
            settle()
            start = time.perf_counter()
            export_conversation(studio, cid, out / "bundle.zip", progress)
            return time.perf_counter() - start

        def run_unverified() -> float:
            settle()
            start = time.perf_counter()
            export_conversation(studio, cid, out / "unverified.zip", verify=False)
            return time.perf_counter() - start

        def run_zip() -> float:
            settle()
            start = time.perf_counter()
            zip_baseline(files, out / "baseline.zip")
            return time.perf_counter() - start

        run_zip()  # warm the page cache for both
        export_times, zip_times, unverified_times = [], [], []
        for _ in range(args.rounds):
            calls.clear()
            export_times.append(run_export())
            zip_times.append(run_zip())
            unverified_times.append(run_unverified())
        parts = export_parts(studio, cid, files, args.rounds)
        studio.close()
        bundle_size = (out / "bundle.zip").stat().st_size
        baseline_size = (out / "baseline.zip").stat().st_size

    best_export, best_zip = min(export_times), min(zip_times)
    median_ratio = statistics.median(e / z for e, z in zip(export_times, zip_times, strict=True))
    print(f"images: {len(files)} ({total_bytes / 1e6:.1f} MB of PNG)")
    print(f"progress: {len(calls)} callbacks, last {calls[-1][0]}/{calls[-1][1]}")
    print(f"bundle {bundle_size / 1e6:.1f} MB, baseline zip {baseline_size / 1e6:.1f} MB")
    print("export_conversation: " + ", ".join(f"{t:.3f}" for t in export_times) + " s")
    print("zipfile (stored):    " + ", ".join(f"{t:.3f}" for t in zip_times) + " s")
    ratio = best_export / best_zip
    print(f"best export {best_export:.3f} s / best zipfile {best_zip:.3f} s = ratio {ratio:.2f}")
    print(f"median of the per-round ratios (export / zipfile in the same round): {median_ratio:.2f}"
          f" (target <= 1.5: {'OK' if median_ratio <= 1.5 else 'OVER'})")
    print("export, verify=False: " + ", ".join(f"{t:.3f}" for t in unverified_times) + " s")
    verify_cost = statistics.median(
        e / u for e, u in zip(export_times, unverified_times, strict=True))
    print(f"cost of verifying every image: median verified / unverified = {verify_cost:.2f}")
    print("export's own work, best of each (zipfile does none of it): "
          + ", ".join(f"{name} {seconds * 1000:.1f} ms" for name, seconds in parts.items()))


if __name__ == "__main__":
    main()
