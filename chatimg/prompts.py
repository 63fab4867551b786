"""What a prompt says besides its words: the text it asks to be written and the colours it names.

Shared by the layout typesetter, routing (quoted text goes to a typography model) and the
typography check (the expected text), so none of them imports another for it.
"""

from __future__ import annotations

import re

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
