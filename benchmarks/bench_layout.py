"""The built-in ``layout`` engine at 1024x1024: time per image (target: under 50 ms).

Measures, in one process, the median over many runs of:

- render only (``chatimg.engines.layout.render``: background, colours, typesetting);
- render + PNG encode as the Studio stores it (``chatimg.imaging.encode_png``);
- the engine's ``generate_blocking`` for one image (render plus the engine's bookkeeping);
- the baseline, measured in the same run: PNG-encoding the same 1024x1024 image, which every
  stored image pays anyway; the ratio render / baseline says what typesetting adds to it;
- long text (issue 17): the time to set 2,000 and 20,000 characters at 4096x4096, and the ratio
  of the per-character times (about 1 or less when setting is linear in the text), and the time
  to refuse a 100 KB quoted prompt (target: under 2 s).

Run: ``.venv/bin/python benchmarks/bench_layout.py``
"""

from __future__ import annotations

import random
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
        seeded = request.with_spec(request.spec.model_copy(update={"seed": seed}))
        result = engine.generate_blocking(seeded, lambda p: None, cancel)
        return encode_png(result.images[0].image)

    engine_ms = _median_ms(through_engine)
    image = render(PROMPT, 1, 1024, 1024)
    baseline_ms = _median_ms(lambda seed: encode_png(image))
    print(f"layout 1024x1024, median of {RUNS} runs")
    print(f"  render only:                 {render_ms:7.1f} ms")
    print(f"  render + PNG encode:         {encode_ms:7.1f} ms")
    print(f"  engine + PNG encode:         {engine_ms:7.1f} ms")
    print(f"  baseline (PNG encode only):  {baseline_ms:7.1f} ms")
    print(f"  ratio render / baseline:     {render_ms / baseline_ms:7.2f}x")
    for label, value in (("render", render_ms), ("render + encode", encode_ms)):
        print(f"  target < 50 ms ({label}): {'PASS' if value < 50 else 'FAIL'}")
    _long_text()


def _words(characters: int) -> str:
    rng = random.Random(characters)
    out, size = [], 0
    while size < characters:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:characters]


def _long_text() -> None:
    from chatimg.errors import InvalidRequestError
    from chatimg.typeset.fit import MAX_CHARACTERS
    from chatimg.typeset.poster import render_poster

    print("long text at 4096x4096 (setting only: background excluded by subtraction)")
    empty_ms = _median_ms(lambda seed: render_poster("no quoted text", 4096, 4096, 0), runs=3)
    per_char = {}
    for characters in (2_000, MAX_CHARACTERS - 1):
        text = f'"{_words(characters)}"'
        total_ms = _median_ms(lambda seed, text=text: render_poster(text, 4096, 4096, 0), runs=3)
        per_char[characters] = max(total_ms - empty_ms, 0.01) / characters
        print(f"  {characters:>6,} characters:          {total_ms:7.1f} ms "
              f"({per_char[characters] * 1000:.2f} us/char after the background)")
    small, large = per_char.values()
    print(f"  ratio per-char time 20k / 2k: {large / small:6.2f}x (linear: about 1 or less)")
    prompt = f'"{_words(100_000)}"'
    clock = time.perf_counter()
    try:
        render_poster(prompt, 1024, 1024, 0)
        outcome = "typeset"
    except InvalidRequestError:
        outcome = "refused"
    seconds = time.perf_counter() - clock
    print(f"  100 KB quoted prompt {outcome} in {seconds:.3f} s: "
          f"{'PASS' if seconds < 2 else 'FAIL'} (< 2 s)")


if __name__ == "__main__":
    main()
