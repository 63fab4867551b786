"""How long validation takes, and whether it delays the card's image.

1. OCR validation time per 1024x1024 image (typography + blank + size), against the time the
   ``layout`` engine takes to make that image (the baseline, measured in the same run).
2. A ``layout`` generation through ``Studio.generate``: the time until the ``finished`` event
   (when the card can show the image) with validation on and off, and the time until
   ``validated``. Validation runs after ``finished`` in a worker thread, so the card is not
   delayed; the script prints the event order to show it.

Run: ``.venv/bin/python benchmarks/bench_validation.py [--images N]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time


def ocr_per_image(count: int) -> None:
    from chatimg.engines.layout import render
    from chatimg.imaging import encode_png
    from chatimg.validate import ocr, run_checks

    load_start = time.perf_counter()
    ocr.available()
    load = time.perf_counter() - load_start
    prompts = [f'a poster that says "GRAND OPENING {n}"' for n in range(count)]
    make, check = [], []
    for n, prompt in enumerate(prompts):
        start = time.perf_counter()
        image = render(prompt, n, 1024, 1024)
        data = encode_png(image)
        made = time.perf_counter()
        results = run_checks(data, expected_text=f"GRAND OPENING {n}",
                             requested_size=(1024, 1024))
        checked = time.perf_counter()
        assert [r.name for r in results] == ["blank", "size", "typography"]
        make.append(made - start)
        check.append(checked - made)
    gen_ms, val_ms = statistics.median(make) * 1000, statistics.median(check) * 1000
    print(f"OCR model load (once per process): {load * 1000:.0f} ms")
    print(f"1024x1024, median of {count}: layout generation {gen_ms:.0f} ms, "
          f"validation (blank+size+typography) {val_ms:.0f} ms "
          f"-> validation/generation = {val_ms / gen_ms:.2f}x")


async def background(count: int) -> None:
    from chatimg.spec import GenerationSpec
    from chatimg.studio import Studio

    studio = Studio.open()
    params = GenerationSpec.build(width=1024, height=1024, seed=1)
    to_finished: dict[bool, list[float]] = {True: [], False: []}
    to_validated: list[float] = []
    order: list[str] = []
    import chatimg.validate as validate

    real = validate.validate_images

    def spy(*args):  # type: ignore[no-untyped-def]
        order.append("validation starts")
        return real(*args)

    validate.validate_images = spy  # type: ignore[assignment]
    await studio.generate('a warm-up "SIGN"', ["layout"], params)  # imports, caches, OCR load
    order.clear()
    for n in range(count):
        for enabled in (False, True):
            start = time.perf_counter()
            stamps: dict[str, float] = {}

            def on_event(event, stamps=stamps, first=enabled and n == 0):  # type: ignore[no-untyped-def]
                if event.kind in ("finished", "validated"):
                    stamps[event.kind] = time.perf_counter()
                    if first:
                        order.append(event.kind)

            await studio.generate(f'a sign that says "OPEN {n}"', ["layout"], params,
                                  on_event=on_event, validate=enabled)
            end = time.perf_counter()
            to_finished[enabled].append(stamps["finished"] - start)
            if enabled:
                to_validated.append(end - start)
    studio.close()
    off = statistics.median(to_finished[False]) * 1000
    on = statistics.median(to_finished[True]) * 1000
    total = statistics.median(to_validated) * 1000
    print(f"layout 1024x1024 via Studio.generate, median of {count}:")
    print(f"  image ready ('finished') without validation {off:.0f} ms, with validation "
          f"{on:.0f} ms -> ratio {on / off:.2f}x (1.00 = not delayed)")
    print(f"  until 'validated' {total:.0f} ms; validation is {(total - on) / total:.0%} of the "
          "generation's total time, all of it after the image is shown")
    print("  event order:", " -> ".join(order[:3]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("CHATIMG_HOME", tempfile.mkdtemp(prefix="chatimg-bench-"))
    ocr_per_image(args.images)
    asyncio.run(background(args.images))


if __name__ == "__main__":
    main()
