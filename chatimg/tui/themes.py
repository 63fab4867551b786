"""Theme files (TOML) → Textual ``Theme`` objects: built-ins from ``themes/``, then the user's.

A file that cannot be read or is missing required keys is skipped and reported, so the app can
show every problem in one notification and fall back to the default theme.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textual.theme import Theme

from chatimg import paths
from chatimg.resources import resource_dir

DEFAULT_THEME = "chatimg-dark"
_COLOUR_KEYS = ("primary", "secondary", "accent", "background", "surface", "panel", "foreground",
                "warning", "error", "success", "boost")


@dataclass
class ThemeSet:
    """Loaded themes and the problems met while loading them."""

    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def theme_from_file(path: Path) -> Theme:
    """Read one theme file.

    Raises:
        ValueError: unreadable TOML, or a missing/invalid key (the message names the file).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    name = data.get("name") or path.stem
    if not isinstance(name, str) or not data.get("primary"):
        raise ValueError(f"{path.name}: a theme needs a name and a primary colour")
    colours = {key: str(data[key]) for key in _COLOUR_KEYS if key in data}
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ValueError(f"{path.name}: 'variables' must be a table")
    from textual.color import Color, ColorParseError

    for key, value in colours.items():
        try:
            Color.parse(value)
        except ColorParseError as exc:
            raise ValueError(f"{path.name}: {key}: {exc}") from None
    return Theme(
        name=name, primary=colours["primary"], secondary=colours.get("secondary"),
        accent=colours.get("accent"), background=colours.get("background"),
        surface=colours.get("surface"), panel=colours.get("panel"),
        foreground=colours.get("foreground"), warning=colours.get("warning"),
        error=colours.get("error"), success=colours.get("success"), boost=colours.get("boost"),
        dark=bool(data.get("dark", True)),
        variables={str(k): str(v) for k, v in variables.items()},
    )


def load_themes(folders: Iterable[Path] | None = None) -> ThemeSet:
    """Load every ``*.toml`` theme from the built-in folder and the user's themes folder.

    Later folders win on name clashes (a user may restyle a built-in theme).
    """
    if folders is None:
        found: list[Path] = []
        try:
            found.append(resource_dir("themes"))
        except FileNotFoundError:
            pass
        found.append(paths.user_themes_dir())
        folders = found
    result = ThemeSet()
    for folder in folders:
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.toml")):
            try:
                theme = theme_from_file(file)
            except ValueError as exc:
                result.problems.append(str(exc))
                continue
            result.themes[theme.name] = theme
    return result
