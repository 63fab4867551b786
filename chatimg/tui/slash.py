"""Slash commands typed in the composer: parsing, validation and completion.

Pure functions with no Textual import, so they are unit-tested directly. ``parse`` turns
``/seed 42`` into a ``SlashCommand``; bad arguments raise ``SlashError`` with one line a person
can act on (the composer shows it inline and keeps the text).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CommandSpec:
    """One slash command: its usage line and what it does."""

    name: str
    usage: str
    help: str


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("model", "/model NAME", "switch model from the next message on"),
    CommandSpec("seed", "/seed N|random", "fix the seed, or go back to a random one"),
    CommandSpec("steps", "/steps N", "inference steps"),
    CommandSpec("size", "/size WxH", "image size in pixels"),
    CommandSpec("n", "/n N", "images per message"),
    CommandSpec("guidance", "/guidance F", "guidance scale"),
    CommandSpec("scheduler", "/scheduler NAME|default", "sampler/scheduler"),
    CommandSpec("negative", "/negative TEXT", "negative prompt (empty clears it)"),
    CommandSpec("fanout", "/fanout M1 M2 ...", "send the next prompts to several models"),
    CommandSpec("vary", "/vary [strength]", "image-to-image from the selected card"),
    CommandSpec("upscale", "/upscale [factor]", "upscale the selected card's image"),
    CommandSpec("edit", "/edit MASKFILE", "inpaint the selected card with a mask"),
    CommandSpec("describe", "/describe", "describe the selected card's image as a prompt"),
    CommandSpec("rename", "/rename TITLE", "rename this conversation"),
    CommandSpec("export", "/export [PATH]", "export this conversation as a bundle"),
    CommandSpec("theme", "/theme NAME", "switch the colour theme"),
    CommandSpec("compare", "/compare", "compare the picked cards side by side"),
    CommandSpec("help", "/help", "list keys and commands"),
)
SPEC_BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in SPECS}

MIN_SIDE, MAX_SIDE = 16, 4096
_SIZE = re.compile(r"^(\d+)\s*[xX×]\s*(\d+)$")


class SlashError(ValueError):
    """A slash command that cannot run as typed; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class SlashCommand:
    """A parsed command: ``name`` and its checked ``value`` (type depends on the command)."""

    name: str
    value: Any = None


def is_command(text: str) -> bool:
    """Whether composer text is a slash command rather than a prompt."""
    return text.lstrip().startswith("/")


def _int(text: str, label: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SlashError(f"{label} must be a whole number, not {text!r}") from None
    if not low <= value <= high:
        raise SlashError(f"{label} must be {low} to {high}, not {value}")
    return value


def _float(text: str, label: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SlashError(f"{label} must be a number, not {text!r}") from None
    if not low <= value <= high:
        raise SlashError(f"{label} must be between {low:g} and {high:g}, not {value:g}")
    return value


def parse_size(text: str) -> tuple[int, int]:
    """``"512x768"`` → ``(512, 768)``; raises ``SlashError`` outside 16..4096 px."""
    match = _SIZE.match(text.strip())
    if not match:
        raise SlashError(f"size must look like 512x512, not {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise SlashError(f"each side must be {MIN_SIDE} to {MAX_SIDE} pixels, not {side}")
    return width, height


def parse_seed(text: str) -> int | None:
    """``"random"`` → ``None``; otherwise an integer in 0..2**32-1."""
    if text.strip().lower() in ("random", "rand", "none"):
        return None
    return _int(text.strip(), "seed", 0, 2**32 - 1)


def _known_model(name: str, models: Collection[str] | None) -> str:
    if models is not None and name not in models:
        close = [m for m in models if name.lower() in m.lower()][:3]
        hint = f" (did you mean {', '.join(close)}?)" if close else " (ctrl+o lists models)"
        raise SlashError(f"unknown model {name!r}{hint}")
    return name


def parse(
    text: str,
    models: Collection[str] | None = None,
    themes: Collection[str] | None = None,
) -> SlashCommand:
    """Parse one composer line starting with ``/``.

    Args:
        text: The composer text.
        models: Model names that exist (``None`` skips the check).
        themes: Theme names that exist (``None`` skips the check).

    Returns:
        The command with its checked value.

    Raises:
        SlashError: unknown command or invalid arguments.
    """
    body = text.strip()
    if not body.startswith("/"):
        raise SlashError("not a command")
    name, _, rest = body[1:].partition(" ")
    name = name.lower()
    rest = rest.strip()
    if name not in SPEC_BY_NAME:
        raise SlashError(f"unknown command /{name} (type /help)")
    usage = SPEC_BY_NAME[name].usage
    if name in ("model", "seed", "steps", "size", "n", "guidance", "scheduler", "edit", "theme",
                "rename") and not rest:
        raise SlashError(f"usage: {usage}")
    if name == "model":
        return SlashCommand(name, _known_model(rest, models))
    if name == "seed":
        return SlashCommand(name, parse_seed(rest))
    if name == "steps":
        return SlashCommand(name, _int(rest, "steps", 1, 500))
    if name == "size":
        return SlashCommand(name, parse_size(rest))
    if name == "n":
        return SlashCommand(name, _int(rest, "count", 1, 8))
    if name == "guidance":
        return SlashCommand(name, _float(rest, "guidance", 0.0, 50.0))
    if name == "scheduler":
        return SlashCommand(name, None if rest.lower() == "default" else rest)
    if name == "negative":
        return SlashCommand(name, rest or None)
    if name == "fanout":
        names = rest.split()
        if not names:
            raise SlashError(f"usage: {usage}")
        return SlashCommand(name, tuple(_known_model(n, models) for n in dict.fromkeys(names)))
    if name == "vary":
        return SlashCommand(name, _float(rest, "strength", 0.0, 1.0) if rest else 0.6)
    if name == "upscale":
        return SlashCommand(name, _float(rest, "factor", 1.0, 8.0) if rest else 2.0)
    if name == "edit":
        return SlashCommand(name, _single_path(rest))
    if name == "export":
        return SlashCommand(name, _single_path(rest) if rest else None)
    if name == "rename":
        return SlashCommand(name, " ".join(rest.split()))
    if name == "theme":
        if themes is not None and rest not in themes:
            raise SlashError(f"unknown theme {rest!r} (ctrl+t lists themes)")
        return SlashCommand(name, rest)
    if rest:
        raise SlashError(f"/{name} takes no arguments")
    return SlashCommand(name)


def _single_path(text: str) -> str:
    try:
        parts = shlex.split(text)
    except ValueError:
        raise SlashError(f"cannot read the path {text!r}") from None
    if len(parts) != 1:
        raise SlashError("give one path (quote it if it has spaces)")
    return parts[0]


def complete(
    text: str,
    models: Collection[str] = (),
    themes: Collection[str] = (),
) -> list[str]:
    """Completions for what is typed so far: full replacement texts, best first.

    ``"/mo"`` → ``["/model "]``; ``"/model la"`` → ``["/model layout"]``.
    """
    if not text.startswith("/") or "\n" in text:
        return []
    head, space, tail = text[1:].partition(" ")
    if not space:
        return [f"/{spec.name} " for spec in SPECS if spec.name.startswith(head.lower())]
    name = head.lower()
    if name == "model":
        return [f"/model {m}" for m in sorted(models) if m.startswith(tail.strip())]
    if name == "theme":
        return [f"/theme {t}" for t in sorted(themes) if t.startswith(tail.strip())]
    if name == "fanout":
        done, _, current = tail.rpartition(" ")
        prefix = f"/fanout {done} " if done else "/fanout "
        taken = set(done.split())
        return [f"{prefix}{m} " for m in sorted(models) if m.startswith(current) and m not in taken]
    if name == "seed" and "random".startswith(tail) and tail:
        return ["/seed random"]
    return []


def help_lines() -> list[tuple[str, str]]:
    """(usage, help) for every command, for the help screen."""
    return [(spec.usage, spec.help) for spec in SPECS]
