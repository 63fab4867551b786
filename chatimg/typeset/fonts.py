"""Fonts for the typesetter: found at run time in the standard font folders (no fontconfig).

A ``FontChain`` is the ordered list of font files tried for one style (family and weight): the
style's own face first, then plainer faces, symbol and emoji fonts, then every other installed
font, then Pillow's bundled font. Each character is drawn with the first font whose ``cmap``
has it, so no character is ever drawn as a missing-glyph box; a character no installed font has
raises a one-line error naming the Debian package to install.

``CHATIMG_FONT_DIRS`` (folders separated by ``os.pathsep``) replaces the standard folders.
"""

from __future__ import annotations

import os
import sys
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from chatimg.errors import EngineUnavailableError
from chatimg.typeset.cmap import Coverage, FontFormatError, coverage, file_coverage

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

FONT_DIRS_ENV = "CHATIMG_FONT_DIRS"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
#: The Debian packages ``.ci/install-fonts.sh`` installs, for hints.
PACKAGES = "fonts-dejavu-core fonts-dejavu-extra fonts-symbola fonts-dancingscript fonts-comic-neue"

#: Preferred font files (lower-case file stems) per (family, weight), best first.
FACES: dict[tuple[str, str], tuple[str, ...]] = {
    ("sans", "regular"): ("dejavusans", "notosans-regular", "liberationsans-regular", "freesans"),
    ("sans", "bold"): ("dejavusans-bold", "notosans-bold", "liberationsans-bold", "freesansbold"),
    ("sans", "light"): ("dejavusans-extralight", "notosans-light", "notosans-extralight"),
    ("serif", "regular"): ("dejavuserif", "notoserif-regular", "liberationserif-regular",
                           "freeserif"),
    ("serif", "bold"): ("dejavuserif-bold", "notoserif-bold", "liberationserif-bold",
                        "freeserifbold"),
    ("serif", "light"): ("notoserif-light", "notoserif-extralight"),
    ("mono", "regular"): ("dejavusansmono", "notosansmono-regular", "liberationmono-regular",
                          "freemono"),
    ("mono", "bold"): ("dejavusansmono-bold", "notosansmono-bold", "liberationmono-bold",
                       "freemonobold"),
    ("mono", "light"): ("notosansmono-light",),
    ("script", "regular"): ("dancingscript-regular", "kaushanscript-regular", "lobster-regular",
                            "kristi"),
    ("script", "bold"): ("dancingscript-bold", "lobster-regular", "kaushanscript-regular"),
    ("script", "light"): ("kristi",),
    ("handwritten", "regular"): ("comicneue-regular", "humor-sans", "rufscript010"),
    ("handwritten", "bold"): ("comicneue-bold",),
    ("handwritten", "light"): ("comicneue-light",),
}
#: Fonts with symbols and (monochrome) emoji, tried after the text faces.
SYMBOL_FACES = ("symbola_hint", "symbola", "notosanssymbols2-regular", "notosanssymbols-regular",
                "notoemoji-regular")
PILLOW_DEFAULT = "pillow-default"


def font_dirs() -> list[Path]:
    """The folders searched for fonts: ``CHATIMG_FONT_DIRS`` or the platform's standard ones."""
    configured = os.environ.get(FONT_DIRS_ENV)
    if configured is not None:
        return [Path(part).expanduser() for part in configured.split(os.pathsep) if part]
    home = Path.home()
    data_home = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    dirs = [data_home / "fonts", home / ".fonts", Path("/usr/local/share/fonts"),
            Path("/usr/share/fonts")]
    if sys.platform == "darwin":
        dirs += [home / "Library" / "Fonts", Path("/Library/Fonts"), Path("/System/Library/Fonts")]
    elif sys.platform == "win32":
        dirs.append(Path(os.environ.get("WINDIR", "C:\\Windows")) / "Fonts")
    return dirs


@lru_cache(maxsize=8)
def _scan(dirs: tuple[Path, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for root, subdirs, files in os.walk(folder):
            subdirs.sort()
            for name in sorted(files):
                if name.lower().endswith(FONT_SUFFIXES):
                    found.setdefault(Path(name).stem.lower(), Path(root) / name)
    return found


def installed_fonts() -> dict[str, Path]:
    """Font files found, by lower-case file stem (the first one found wins), sorted by stem."""
    found = _scan(tuple(font_dirs()))
    return {stem: found[stem] for stem in sorted(found)}


@dataclass(eq=False)
class FontFile:
    """One font file (or Pillow's bundled font) and, once read, the characters it covers."""

    name: str
    path: Path | None
    _coverage: Coverage | None = field(default=None, repr=False)
    _broken: bool = field(default=False, repr=False)

    def data(self) -> bytes:
        if self.path is None:
            from PIL import ImageFont

            return bytes(ImageFont.load_default(size=10).font_bytes)  # type: ignore[union-attr]
        return self.path.read_bytes()

    def has(self, char: str) -> bool:
        if self._broken:
            return False
        if self._coverage is None:
            try:
                self._coverage = (coverage(self.data()) if self.path is None
                                  else file_coverage(self.path))
            except (OSError, FontFormatError):
                self._broken = True
                return False
        return self._coverage.has(char)

    def face(self, size: int) -> FreeTypeFont:
        """This font at ``size`` pixels (cached)."""
        return _face(self.path, size)


@lru_cache(maxsize=256)
def _face(path: Path | None, size: int) -> FreeTypeFont:
    from PIL import ImageFont

    if path is None:
        return ImageFont.load_default(size=size)  # type: ignore[return-value]
    return ImageFont.truetype(str(path), size=size)


@lru_cache(maxsize=1)
def _pillow_default() -> FontFile:
    return FontFile(PILLOW_DEFAULT, None)


@lru_cache(maxsize=512)
def _font_file(path: Path) -> FontFile:
    return FontFile(path.name, path)


class FontChain:
    """The fonts tried, in order, for one style; picks a font per character.

    Thread-safe: the per-character choices are cached under a lock.
    """

    def __init__(self, family: str, weight: str, fonts: dict[str, Path]) -> None:
        self.family, self.weight = family, weight
        preferred: list[str] = []
        for key in ((family, weight), (family, "regular"), ("sans", weight), ("sans", "regular"),
                    ("serif", "regular")):
            preferred += [stem for stem in FACES.get(key, ()) if stem in fonts]
        preferred += [stem for stem in SYMBOL_FACES if stem in fonts]
        ordered = list(dict.fromkeys(preferred))
        self._first = [_font_file(fonts[stem]) for stem in ordered]
        self._rest = [_font_file(path) for stem, path in fonts.items() if stem not in ordered]
        self._chosen: dict[str, FontFile | None] = {}
        self._lock = threading.Lock()

    @property
    def primary(self) -> FontFile:
        """The style's own face (Pillow's bundled font when nothing is installed)."""
        return self._first[0] if self._first else _pillow_default()

    def pick(self, char: str) -> FontFile | None:
        """The first font with a glyph for ``char``; None for an invisible mark no font has.

        Raises:
            EngineUnavailableError: a visible character that no installed font has.
        """
        with self._lock:
            if char in self._chosen:
                return self._chosen[char]
            chosen = next((font for font in self._first if font.has(char)), None)
            if chosen is None:
                chosen = next((font for font in self._rest if font.has(char)), None)
            if chosen is None and _pillow_default().has(char):
                chosen = _pillow_default()
            if chosen is None and unicodedata.category(char) not in ("Mn", "Me", "Cf", "Cc"):
                raise missing_glyph(char)
            self._chosen[char] = chosen
            return chosen

    def runs(self, text: str) -> list[tuple[FontFile, str]]:
        """``text`` split into runs that one font draws (invisible unknown marks dropped)."""
        chosen = {char: self.primary if char == " " else self.pick(char) for char in set(text)}
        fonts = set(chosen.values())
        if len(fonts) == 1 and None not in fonts:  # the common case: one font draws it all
            return [(chosen[text[0]], text)] if text else []  # type: ignore[list-item]
        runs: list[tuple[FontFile, str]] = []
        start = 0
        current: FontFile | None = None
        for index, char in enumerate(text):
            font = chosen[char]
            if font is not current:
                if current is not None:
                    runs.append((current, text[start:index]))
                current, start = font, index
        if current is not None:
            runs.append((current, text[start:]))
        return runs

    def fonts_used(self, text: str) -> list[str]:
        """The font file names that draw ``text``, in order of first use."""
        return list(dict.fromkeys(font.name for font, _ in self.runs(text)))


def package_for(char: str) -> str:
    """The Debian package most likely to have a glyph for ``char``."""
    cp = ord(char)
    if 0x1F000 <= cp < 0x1FC00 or 0x2190 <= cp < 0x2C00 or 0x1D400 <= cp < 0x1D800:
        return "fonts-symbola"
    if 0x2E80 <= cp < 0xA000 or 0xAC00 <= cp < 0xD7B0 or 0xF900 <= cp < 0xFB00 \
            or 0xFF00 <= cp < 0xFFF0:
        return "fonts-noto-cjk"
    if cp < 0x0530 or 0x1D00 <= cp < 0x2190:
        return "fonts-dejavu-core"
    return "fonts-noto-core"


def missing_glyph(char: str) -> EngineUnavailableError:
    """The one-line error for a character no installed font can draw."""
    name = unicodedata.name(char, "")
    label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
    package = package_for(char)
    return EngineUnavailableError(
        f"no installed font has a glyph for {char!r} ({label})",
        f"install {package} (apt-get install {package}) or put a font that has it in "
        f"~/.local/share/fonts",
    )


_chains: dict[tuple[tuple[Path, ...], str, str], FontChain] = {}
_chains_lock = threading.Lock()


def font_chain(family: str = "sans", weight: str = "regular") -> FontChain:
    """The (cached) chain of fonts for a family (sans, serif, mono, script, handwritten) and a
    weight (regular, bold, light), over the fonts installed now."""
    dirs = tuple(font_dirs())
    key = (dirs, family, weight)
    with _chains_lock:
        chain = _chains.get(key)
        if chain is None:
            chain = _chains[key] = FontChain(family, weight, installed_fonts())
        return chain
