"""The labelled typography set: posters, signs, labels and shirts, half drawn right.

Each case says what the prompt asked for, what was actually painted and how; the truth is
whether the painting shows the asked text (extra taglines allowed). The wrong half carries the
mistakes image models make: look-alike characters, doubled/dropped/swapped letters,
missing and extra words, gibberish, missing accents and wrong digits. Used by
``tests/validate/test_labelled_set.py`` and ``benchmarks/bench_typography.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

from tests.validate.painter import Line, Scene, paint


@dataclass(frozen=True)
class Case:
    """One labelled image."""

    name: str
    category: str
    """How it looks (rotated, arc, script, ...)."""
    mistake: str
    """``correct`` or the kind of mistake painted."""
    expected: str
    scene: Scene

    @property
    def truth(self) -> bool:
        """Whether the typography check should pass."""
        return self.mistake == "correct"

    def image(self) -> Image.Image:
        """The painted image (deterministic)."""
        return paint(self.scene)


def _one(text: str, size: int = 64, font: str = "sans", **scene: object) -> Scene:
    return Scene(lines=(Line(text, size, font),), **scene)  # type: ignore[arg-type]


def _lines(*lines: Line, **scene: object) -> Scene:
    return Scene(lines=tuple(lines), **scene)  # type: ignore[arg-type]


Maker = Callable[[str, int], Scene]


def _rotated(angle: float) -> Maker:
    def make(text: str, seed: int) -> Scene:
        return _one(text, 66, "open", seed=seed, angle=angle)
    return make


def _on(background: str) -> Maker:
    def make(text: str, seed: int) -> Scene:
        return _one(text, 60, "open", seed=seed, background=background)
    return make


def _with_effect(effect: str) -> Maker:
    def make(text: str, seed: int) -> Scene:
        return _one(text, 70, "poster", seed=seed, effect=effect, background="gradient",
                    dark_text=True)
    return make


def _in_font(font: str) -> Maker:
    def make(text: str, seed: int) -> Scene:
        return _lines(Line(text, 66, font, rise=6), seed=seed, dark_text=True)
    return make


def _with_tagline(tagline: str) -> Maker:
    def make(text: str, seed: int) -> Scene:
        return _lines(Line(text, 70, "arial"), Line(tagline, 26, "open"), seed=seed,
                      background="photo")
    return make


def _pairs() -> Iterator[tuple[str, str, str, str, Maker]]:
    """(category, expected, painted, mistake, scene maker)."""
    sans = "sans"
    yield ("multiline", "GRAND OPENING", "GRAND OPENING", "correct",
           lambda t, s: _lines(*(Line(w, 72, "arial") for w in t.split()), seed=s))
    yield ("multiline", "GRAND OPENING", "GRAND OPENNIG", "swapped letters",
           lambda t, s: _lines(*(Line(w, 72, "arial") for w in t.split()), seed=s))
    yield ("multiline", "FRESH BREAD DAILY", "FRESH BREAD|DAILY", "correct",
           lambda t, s: _lines(*(Line(p, 60, "serif") for p in t.split("|")), seed=s,
                               background="gradient"))
    yield ("multiline", "FRESH BREAD DAILY", "FRESH BREAD|DAILY DAILY", "doubled word",
           lambda t, s: _lines(*(Line(p, 60, "serif") for p in t.split("|")), seed=s,
                               background="gradient"))
    for angle in (12.0, -18.0):
        yield ("rotated", "SUMMER SALE", "SUMMER SALE", "correct",
               _rotated(angle))
    yield ("rotated", "SUMMER SALE", "SUMMER SAEL", "swapped letters",
           lambda t, s: _one(t, 66, "open", seed=s, angle=15.0))
    yield ("rotated", "OPEN LATE", "OPEN LTE", "dropped letter",
           lambda t, s: _one(t, 70, sans, seed=s, angle=-10.0))
    for text, painted, mistake in (("NO PARKING", "NO PARKING", "correct"),
                                   ("NO PARKING", "NO PARKNG", "dropped letter"),
                                   ("WELCOME HOME", "WELCOME HOME", "correct"),
                                   ("WELCOME HOME", "WELCOME HOEM", "swapped letters")):
        yield ("perspective", text, painted, mistake,
               lambda t, s: _one(t, 58, "arial", seed=s, shape="perspective",
                                 extras={"squeeze": 0.35}))
    for text, painted, mistake in (("BEST COFFEE", "BEST COFFEE", "correct"),
                                   ("BEST COFFEE", "BEST COFFE", "dropped letter"),
                                   ("SURF CLUB", "SURF CLUB", "correct"),
                                   ("SURF CLUB", "SRUF CLUB", "swapped letters")):
        yield ("arc", text, painted, mistake,
               lambda t, s: _one(t, 56, "arial", seed=s, shape="arc",
                                 extras={"radius": 380.0}))
    for text, painted, mistake in (("TEAM SPIRIT", "TEAM SPIRIT", "correct"),
                                   ("TEAM SPIRIT", "TEAM SPRIT", "dropped letter"),
                                   ("GOOD VIBES", "GOOD VIBES", "correct"),
                                   ("GOOD VIBES", "GOOD VIIBES", "doubled letter")):
        yield ("cloth wave", text, painted, mistake,
               lambda t, s: _one(t, 64, sans, seed=s, shape="wave", background="texture",
                                 extras={"amplitude": 6.0, "wavelength": 180.0}))
    for text, painted, mistake, bg in (
            ("FARMERS MARKET", "FARMERS MARKET", "correct", "texture"),
            ("FARMERS MARKET", "FARMRES MARKET", "swapped letters", "texture"),
            ("BOOK SALE", "BOOK SALE", "correct", "photo"),
            ("BOOK SALE", "BOOK SAL", "dropped letter", "photo"),
            ("CITY LIGHTS", "CITY LIGHTS", "correct", "photo"),
            ("CITY LIGHTS", "CITY LIHGTS", "swapped letters", "photo")):
        yield ("textured", text, painted, mistake,
               _on(bg))
    for text, painted, mistake, effect in (
            ("MOVIE NIGHT", "MOVIE NIGHT", "correct", "outline"),
            ("MOVIE NIGHT", "MOVIE NIGHTT", "doubled letter", "shadow"),
            ("GAME OVER", "GAME OVER", "correct", "shadow"),
            ("GAME OVER", "GAME OVRE", "swapped letters", "outline")):
        yield ("shadow outline", text, painted, mistake,
               _with_effect(effect))
    for text, painted, mistake, font in (
            ("Happy Birthday", "Happy Birthday", "correct", "script"),
            ("Happy Birthday", "Happy Brithday", "swapped letters", "script"),
            ("Thank You", "Thank You", "correct", "lobster"),
            ("Thank You", "Thank Yuo", "swapped letters", "lobster"),
            ("Best Friends", "Best Friends", "correct", "comic"),
            ("Best Friends", "Best Freinds", "swapped letters", "comic")):
        yield ("script", text, painted, mistake,
               _in_font(font))
    for text, painted, mistake in (("Handmade with care", "Handmade with care", "correct"),
                                   ("Handmade with care", "Handmade with cart", "wrong letter"),
                                   ("Small batch roasters", "Small batch roasters", "correct"),
                                   ("Small batch roasters", "Smal batch roasters",
                                    "dropped letter")):
        yield ("small text", text, painted, mistake,
               lambda t, s: _one(t, 20, "arial", seed=s, dark_text=True))
    for text, painted, mistake in (
            ("OPEN 24/7", "OPEN 24/7", "correct"), ("OPEN 24/7", "0PEN 24/7", "look-alike"),
            ("50% OFF", "50% OFF", "correct"), ("50% OFF", "5O% OFF", "look-alike"),
            ("ROOM 101", "ROOM 101", "correct"), ("ROOM 101", "ROOM 1O1", "look-alike"),
            ("FLIGHT 101", "FLIGHT 101", "correct"), ("FLIGHT 101", "FL1GHT 101", "look-alike"),
            ("SALE 5 FOR $10", "SALE 5 FOR $10", "correct"),
            ("SALE 5 FOR $10", "5ALE 5 FOR $10", "look-alike"),
            ("ONLY $19.99", "ONLY $19.99", "correct"),
            ("ONLY $19.99", "ONLY $19.98", "wrong digit"),
            ("TABLE 42", "TABLE 42", "correct"), ("TABLE 42", "TABLE 24", "wrong digit")):
        yield ("numbers", text, painted, mistake,
               lambda t, s: _one(t, 60, "arial" if "$" in t else "sans", seed=s))
    for text, painted, mistake in (("CAFÉ CRÈME", "CAFÉ CRÈME", "correct"),
                                   ("CAFÉ CRÈME", "CAFE CREME", "missing accents"),
                                   ("SEÑOR TACO", "SEÑOR TACO", "correct"),
                                   ("SEÑOR TACO", "SENOR TACO", "missing accents"),
                                   ("Crème brûlée", "Crème brûlée", "correct"),
                                   ("Crème brûlée", "Creme brulee", "missing accents")):
        yield ("accents", text, painted, mistake,
               lambda t, s: _one(t, 64, sans, seed=s, background="gradient"))
    for head, painted, mistake, tag in (
            ("GRAND OPENING", "GRAND OPENING", "correct", "this saturday from 10am"),
            ("GRAND OPENING", "GRAND OPENIGN", "swapped letters", "this saturday from 10am"),
            ("SUMMER SALE", "SUMMER SALE", "correct", "up to half price on everything"),
            ("SUMMER SALE", "SUMER SALE", "dropped letter", "up to half price on everything")):
        yield ("headline+tagline", head, painted, mistake,
               _with_tagline(tag))
    for text, painted, mistake in (
            ("SPECIAL OFFER TODAY", "SPECIAL TODAY", "missing word"),
            ("SPECIAL OFFER TODAY", "SPECIAL OFFER TODAY", "correct"),
            ("HOT COFFEE", "HOT FRESH COFFEE", "extra word"),
            ("HOT COFFEE", "HOT COFFEE", "correct"),
            ("OPEN LATE", "QVEM LXTR", "gibberish"),
            ("LIVE MUSIC", "LIVE MUSIC", "correct"),
            ("LIVE MUSIC", "LIVE MUSIC MUSIC", "doubled word"),
            ("CLOSED", "CL0SED", "look-alike"),
            ("CLOSED", "CLOSED", "correct"),
            ("WELCOME", "VVELCOME", "look-alike")):
        yield ("words", text, painted, mistake,
               lambda t, s: _one(t, 60, "arial", seed=s, background="texture"))


def cases() -> list[Case]:
    """Every labelled case, in a fixed order (seeds follow the order)."""
    found = []
    for index, (category, expected, painted, mistake, make) in enumerate(_pairs()):
        scene = make(painted, 1000 + index)
        found.append(Case(f"{index:03d}-{category}-{mistake}".replace(" ", "_"),
                          category, mistake, expected, scene))
    return found


@dataclass
class Tally:
    """Agreement with the truth, by category and overall."""

    rows: list[tuple[Case, bool]]

    def agreement(self) -> float:
        """Share of verdicts equal to the truth."""
        return sum(case.truth == verdict for case, verdict in self.rows) / len(self.rows)

    def false_alarm_rate(self) -> float:
        """Share of correct images the check failed."""
        correct = [verdict for case, verdict in self.rows if case.truth]
        return sum(not v for v in correct) / max(1, len(correct))

    def misses(self, mistake: str | None = None) -> list[Case]:
        """Wrong images the check passed (of one mistake kind, or all)."""
        return [case for case, verdict in self.rows if not case.truth and verdict
                and (mistake is None or case.mistake == mistake)]

    def false_alarms(self) -> list[Case]:
        """Correct images the check failed."""
        return [case for case, verdict in self.rows if case.truth and not verdict]

    def by_category(self) -> dict[str, Counter[str]]:
        """category → counts of images, agreements, false alarms, misses."""
        table: dict[str, Counter[str]] = {}
        for case, verdict in self.rows:
            counts = table.setdefault(case.category, Counter())
            counts["images"] += 1
            counts["agree"] += case.truth == verdict
            counts["false alarms"] += case.truth and not verdict
            counts["misses"] += (not case.truth) and verdict
        return table
