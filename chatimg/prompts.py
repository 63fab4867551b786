"""What a prompt says besides its words: the text it asks to be written, its colours and type style.

Shared by the layout typesetter, routing (quoted text goes to a typography model) and the
typography check (the expected text), so none of them imports another for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»')

#: Colour words people use in prompts, as RGB.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (214, 40, 40), "crimson": (170, 20, 50), "orange": (247, 127, 0),
    "amber": (255, 191, 0), "yellow": (252, 191, 73), "gold": (212, 175, 55),
    "lime": (160, 220, 60), "green": (46, 139, 87), "olive": (110, 120, 40),
    "teal": (0, 128, 128), "cyan": (0, 200, 220), "turquoise": (64, 224, 208),
    "blue": (40, 90, 200), "navy": (20, 33, 80), "indigo": (75, 0, 130),
    "purple": (120, 60, 170), "violet": (143, 94, 200), "magenta": (200, 30, 150),
    "pink": (240, 130, 170), "rose": (230, 90, 120), "brown": (120, 72, 40),
    "beige": (230, 215, 185), "cream": (250, 240, 215), "white": (245, 245, 245),
    "silver": (192, 192, 192), "gray": (128, 128, 128), "grey": (128, 128, 128),
    "black": (15, 15, 20), "sunset": (250, 110, 60), "ocean": (20, 100, 160),
    "forest": (34, 90, 50), "sky": (135, 195, 235), "mint": (170, 240, 200),
}
_COLOUR_WORD = re.compile(r"\b(" + "|".join(COLOURS) + r")\b", re.IGNORECASE)


def quoted_text(prompt: str) -> list[str]:
    """The strings the prompt asks to be written, in order (``"..."``, “...”, «...»)."""
    return [next(part for part in match.groups() if part) for match in _QUOTED.finditer(prompt)]


def colour_words(prompt: str) -> list[tuple[int, int, int]]:
    """The colours the prompt names, in order, without the quoted text."""
    unquoted = _QUOTED.sub(" ", prompt)
    return [COLOURS[word.lower()] for word in _COLOUR_WORD.findall(unquoted)]


_TEXT_NOUNS = (r"(?:text|letters|lettering|letter|type|typeface|font|words|title|headline"
               r"|ink|script)")
_STYLE_WORDS = r"(?:bold|heavy|thick|light|thin|serif|sans|mono|script|handwritten|uppercase|caps)"
_COLOUR_ALT = "|".join(COLOURS)
_TEXT_COLOUR = re.compile(
    rf"\b(?:in|with)\s+(?:(?:a|an)\s+)?(?:{_STYLE_WORDS}[\s,-]+)*({_COLOUR_ALT})\b"
    rf"|\b({_COLOUR_ALT})(?:[\s,-]+{_STYLE_WORDS})*[\s-]+{_TEXT_NOUNS}\b",
    re.IGNORECASE,
)
_BACKGROUND_COLOUR = re.compile(
    rf"\bon\s+(?:(?:a|an)\s+)?({_COLOUR_ALT})\b"
    rf"|\b({_COLOUR_ALT})[\s-]+(?:background|backdrop|ground|backing)\b",
    re.IGNORECASE,
)
_WEIGHTS = (("bold", r"\b(?:bold|heavy|thick|black-weight|chunky)\b"),
            ("light", r"\b(?:light|thin|hairline|delicate)\b"))
_FAMILIES = (
    ("handwritten", r"\b(?:handwritten|hand-written|handwriting|hand-lettered|marker|chalk)\b"),
    ("script", r"\b(?:script|cursive|calligraph\w*|brush)\b"),
    ("mono", r"\b(?:mono|monospaced?|typewriter|code|terminal)\b"),
    ("serif", r"\b(?:serif|classic|elegant|roman|times)\b(?<!sans serif)(?<!sans-serif)"),
    ("sans", r"\b(?:sans|sans-serif|grotesk|helvetica|modern|clean)\b"),
)
_UPPERCASE = re.compile(r"\b(?:uppercase|upper-case|all caps|all-caps|capitals|caps)\b",
                        re.IGNORECASE)


@dataclass(frozen=True)
class TextStyle:
    """How the prompt asks its text to look; ``None`` means "not said"."""

    text_colour: tuple[int, int, int] | None = None
    background: tuple[int, int, int] | None = None
    weight: str = "regular"
    """``regular``, ``bold`` or ``light``."""
    family: str = "sans"
    """``sans``, ``serif``, ``mono``, ``script`` or ``handwritten``."""
    uppercase: bool = False
    palette: tuple[tuple[int, int, int], ...] = ()
    """Other colours the prompt names (for the background's shapes)."""


def text_style(prompt: str) -> TextStyle:
    """The style words of a prompt, outside its quoted text.

    "in bold red" and "red letters" set the text colour, "on black" and "navy background" the
    background; bold/light, serif/sans/mono/script/handwritten and uppercase/caps set the type.
    """
    unquoted = _QUOTED.sub(" ", prompt)
    text_match = _TEXT_COLOUR.search(unquoted)
    text_colour = _colour_of(text_match)
    background_match = _BACKGROUND_COLOUR.search(unquoted)
    background = _colour_of(background_match)
    taken = {m.span(m.lastindex or 0) for m in (text_match, background_match) if m}
    palette = tuple(
        COLOURS[m.group(1).lower()] for m in _COLOUR_WORD.finditer(unquoted)
        if m.span(1) not in taken
    )
    weight = next((name for name, rx in _WEIGHTS if re.search(rx, unquoted, re.IGNORECASE)),
                  "regular")
    family = next((name for name, rx in _FAMILIES if re.search(rx, unquoted, re.IGNORECASE)),
                  "sans")
    return TextStyle(text_colour=text_colour, background=background, weight=weight,
                     family=family, uppercase=bool(_UPPERCASE.search(unquoted)), palette=palette)


def _colour_of(match: re.Match[str] | None) -> tuple[int, int, int] | None:
    if match is None:
        return None
    word = next(group for group in match.groups() if group)
    return COLOURS[word.lower()]
