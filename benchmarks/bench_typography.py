"""How well and how fast the typography check judges images.

1. Agreement with the truth on the labelled set (``tests/validate/labelled_set.py``): per
   category, the images, agreements, false alarms (correct text failed) and misses (wrong text
   passed); overall agreement, the false-alarm rate on correct text and misses on look-alike
   digit/letter swaps. ``tests/validate/test_labelled_set.py`` holds these figures.
2. Time to check a 4096x4096 image against the same image at 1024x1024 (the baseline, measured
   in the same run), with the model loaded; the verdicts must be the same.

Run: ``.venv/bin/python benchmarks/bench_typography.py [--repeat N] [--skip-set]``
(the labelled set needs the fonts from ``.ci/install-fonts.sh``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def labelled_set() -> None:
    from chatimg.validate import run_checks
    from tests.validate.labelled_set import Tally, cases

    rows = []
    started = time.perf_counter()
    for case in cases():
        (result,) = run_checks(case.image(), expected_text=case.expected, names=["typography"])
        rows.append((case, bool(result.passed)))
    elapsed = time.perf_counter() - started
    tally = Tally(rows)
    print(f"labelled set: {len(rows)} images, {elapsed / len(rows) * 1000:.0f} ms per image")
    print(f"{'category':<18}{'images':>7}{'agree':>7}{'false alarms':>14}{'misses':>8}")
    for category, counts in tally.by_category().items():
        print(f"{category:<18}{counts['images']:>7}{counts['agree']:>7}"
              f"{counts['false alarms']:>14}{counts['misses']:>8}")
    swaps = [case for case, _ in rows if case.mistake == "look-alike"]
    print(f"agreement {tally.agreement():.1%}  false alarms on correct text "
          f"{tally.false_alarm_rate():.1%}  look-alike swaps missed "
          f"{len(tally.misses('look-alike'))}/{len(swaps)}")
    for case in tally.false_alarms():
        print(f"  false alarm: {case.name} ({case.expected!r})")
    for case in tally.misses():
        print(f"  miss: {case.name} ({case.expected!r})")


def big_image(repeat: int) -> None:
    from PIL import Image

    from chatimg.validate import ocr, run_checks
    from tests.validate.painter import Line, Scene, paint

    ocr.available()  # load the model first: the goal is with the model loaded
    scene = Scene(lines=(Line("GRAND OPENING", 64, "arial"),
                         Line("this saturday from 10am", 24, "open")),
                  seed=11, background="photo", size=(512, 512))
    base = paint(scene)
    images = {side: base.resize((side, side), Image.Resampling.BICUBIC) for side in (1024, 4096)}
    times: dict[int, list[float]] = {1024: [], 4096: []}
    verdicts: dict[int, tuple[object, ...]] = {}
    run_checks(images[1024], expected_text="GRAND OPENING", names=["typography"])  # warm up
    for _ in range(repeat):
        for side, image in images.items():
            start = time.perf_counter()
            (result,) = run_checks(image, expected_text="GRAND OPENING", names=["typography"])
            times[side].append(time.perf_counter() - start)
            verdicts[side] = (result.passed, result.details["read"], result.details["cer"])
    small, big = statistics.median(times[1024]), statistics.median(times[4096])
    print(f"typography check, median of {repeat}: 1024x1024 {small * 1000:.0f} ms, "
          f"4096x4096 {big * 1000:.0f} ms -> 4096/1024 = {big / small:.2f}x "
          f"(goal: at most 1.5 s at 4096)")
    same = verdicts[1024] == verdicts[4096]
    print(f"same verdict at both sizes: {same} {verdicts[4096]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-set", action="store_true", help="only the timing")
    args = parser.parse_args()
    from tests.validate.painter import missing_fonts

    if missing_fonts():
        print("fonts missing: run .ci/install-fonts.sh as root", file=sys.stderr)
        raise SystemExit(1)
    if not args.skip_set:
        labelled_set()
    big_image(args.repeat)


if __name__ == "__main__":
    main()
