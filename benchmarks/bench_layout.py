"""The built-in ``layout`` engine at 1024x1024: time per image (target: under 50 ms).

Measures, in one process, the median over many runs of:

- render only (``chatimg.engines.layout.render``: background, colours, typesetting);
- render + PNG encode as the Studio stores it (``chatimg.imaging.encode_png``);
- the engine's ``generate_blocking`` for one image (render plus the engine's bookkeeping).

Run: ``.venv/bin/python benchmarks/bench_layout.py``
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

RUNS = 25
PROMPT = 'a navy and gold poster that says "SUMMER SALE" with "50% OFF everything"'


def _median_ms(action: Callable[[int], object], runs: int = RUNS) -> float:
    action(0)  # warm-up (font loading)
    times = []
    for index in range(runs):
        clock = time.perf_counter()
        action(index + 1)
        times.append((time.perf_counter() - clock) * 1000)
    return statistics.median(times)


def main() -> None:
    from chatimg.config import Settings
    from chatimg.engines.base import CancelToken, EngineContext, EngineRequest
    from chatimg.engines.catalog import Catalog
    from chatimg.engines.layout import render
    from chatimg.imaging import encode_png
    from chatimg.spec import GenerationSpec

    catalog = Catalog.from_settings(EngineContext(Settings()))
    engine = catalog.engine("layout")
    request = EngineRequest(GenerationSpec(prompt=PROMPT, width=1024, height=1024))
    cancel = CancelToken()

    render_ms = _median_ms(lambda seed: render(PROMPT, seed, 1024, 1024))
    encode_ms = _median_ms(lambda seed: encode_png(render(PROMPT, seed, 1024, 1024)))

    def through_engine(seed: int) -> object:
        from dataclasses import replace

        result = engine.generate_blocking(replace(request, seed=seed), lambda p: None, cancel)
        return encode_png(result.images[0].image)

    engine_ms = _median_ms(through_engine)
    print(f"layout 1024x1024, median of {RUNS} runs")
    print(f"  render only:                 {render_ms:7.1f} ms")
    print(f"  render + PNG encode:         {encode_ms:7.1f} ms")
    print(f"  engine + PNG encode:         {engine_ms:7.1f} ms")
    for label, value in (("render", render_ms), ("render + encode", encode_ms)):
        print(f"  target < 50 ms ({label}): {'PASS' if value < 50 else 'FAIL'}")


if __name__ == "__main__":
    main()
