"""Slash commands typed in the composer: one registry of entries that carry their handler.

Each ``CommandSpec`` says how to read its argument (``read``), what it does to the composer's
settings (``setting``, for commands like ``/seed``) or which ``CommandHost`` call carries it out
(``handler``); parsing, dispatch, completion and the help screen all read ``SPECS``. No Textual
import: the main screen is a ``CommandHost``, and tests drive the registry with a fake one.
Bad arguments raise ``SlashError`` with one line a person can act on (the composer shows it
inline and keeps the text).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chatimg.tui.options import ComposerOptions

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


class CommandHost(Protocol):
    """What slash commands act on (the main screen). Each call returns an error line or None."""

    async def change_setting(self, command: SlashCommand) -> str | None:
        """Apply a composer setting (``/seed``, ``/size``, ...) and confirm it."""

    async def vary_selected(self, strength: float) -> str | None:
        """Image-to-image from the selected (or newest) card."""

    async def upscale_selected(self, factor: float | None) -> str | None:
        """Upscale the selected (or newest) card's image."""

    async def edit_selected(self, mask: str) -> str | None:
        """Inpaint the selected (or newest) card's image with a mask file."""

    async def describe_selected(self) -> str | None:
        """Put a description of the selected card's image into the composer."""

    async def fixtext_selected(self) -> str | None:
        """Repair the selected (or newest) card's misspelled text as a new generation."""

    async def rename_open(self, title: str) -> str | None:
        """Rename the open conversation."""

    async def export_open(self, path: str | None) -> str | None:
        """Export the open conversation as a bundle."""

    async def set_theme(self, name: str) -> str | None:
        """Switch the colour theme."""

    async def open_compare(self) -> str | None:
        """Open the compare screen."""

    async def show_help(self) -> str | None:
        """Open the help screen."""


@dataclass(frozen=True)
class Names:
    """Names that exist, to check arguments against (``None`` skips the check)."""

    models: Collection[str] | None = None
    themes: Collection[str] | None = None


Reader = Callable[[str, Names], Any]
Handler = Callable[[CommandHost, Any], Awaitable[str | None]]
Setting = Callable[["ComposerOptions", Any], str]


@dataclass(frozen=True)
class CommandSpec:
    """One slash command: usage, help, how to read its argument and what carries it out.

    ``read(rest, names)`` turns the text after the name into the command's value (raising
    ``SlashError``); ``handler(host, value)`` carries it out. Composer settings also carry
    ``setting(options, value)``, which changes ``ComposerOptions`` and returns a confirmation;
    their handler hands the command to ``CommandHost.change_setting``.
    """

    name: str
    usage: str
    help: str
    read: Reader
    handler: Handler
    setting: Setting | None = None


def _no_argument(rest: str, names: Names) -> None:
    return None


def _text_or_none(rest: str, names: Names) -> str | None:
    return rest or None


def _path_or_none(rest: str, names: Names) -> str | None:
    return _single_path(rest) if rest else None


def _theme(rest: str, names: Names) -> str:
    if names.themes is not None and rest not in names.themes:
        raise SlashError(f"unknown theme {rest!r} (ctrl+t lists themes)")
    return rest


def _fanout(rest: str, names: Names) -> tuple[str, ...]:
    return tuple(_known_model(n, names.models) for n in dict.fromkeys(rest.split()))


def _setting(name: str, usage: str, help: str, read: Reader, setting: Setting) -> CommandSpec:
    """A composer setting: its handler passes the command to ``CommandHost.change_setting``."""

    async def handler(host: CommandHost, value: Any) -> str | None:
        return await host.change_setting(SlashCommand(name, value))

    return CommandSpec(name, usage, help, read, handler, setting)


def number_setting(name: str, field: str, help: str, kind: type[int] | type[float],
                   low: float, high: float) -> CommandSpec:
    """``/NAME N|default``: sets the spec's ``field`` (a number in [low, high])."""
    usage = f"/{name} {'N' if kind is int else 'F'}|default"

    def read(rest: str, names: Names) -> float | None:
        if rest.lower() == "default":
            return None
        if kind is int:
            return _int(rest, field.replace("_", " "), int(low), int(high))
        return _float(rest, field.replace("_", " "), low, high)

    return _setting(name, usage, help, read,
                    lambda options, value: options.set_field(field, value))


SPECS: tuple[CommandSpec, ...] = (
    _setting("model", "/model NAME", "switch model from the next message on",
             lambda rest, names: _known_model(rest, names.models),
             lambda options, value: options.set_model(value)),
    _setting("seed", "/seed N|random", "fix the seed, or go back to a random one",
             lambda rest, names: parse_seed(rest),
             lambda options, value: options.set_seed(value)),
    _setting("steps", "/steps N", "inference steps",
             lambda rest, names: _int(rest, "steps", 1, 500),
             lambda options, value: options.set_steps(value)),
    number_setting("clipskip", "clip_skip", "CLIP layers to skip (diffusers)", int, 1, 12),
    _setting("size", "/size WxH", "image size in pixels",
             lambda rest, names: parse_size(rest),
             lambda options, value: options.set_size(value)),
    _setting("n", "/n N", "images per message",
             lambda rest, names: _int(rest, "count", 1, 8),
             lambda options, value: options.set_count(value)),
    _setting("guidance", "/guidance F", "guidance scale",
             lambda rest, names: _float(rest, "guidance", 0.0, 50.0),
             lambda options, value: options.set_guidance(value)),
    _setting("scheduler", "/scheduler NAME|default", "sampler/scheduler",
             lambda rest, names: None if rest.lower() == "default" else rest,
             lambda options, value: options.set_scheduler(value)),
    _setting("negative", "/negative TEXT", "negative prompt (empty clears it)",
             _text_or_none, lambda options, value: options.set_negative(value)),
    _setting("fanout", "/fanout M1 M2 ...", "send the next prompts to several models",
             _fanout, lambda options, value: options.set_fanout(value)),
    CommandSpec("vary", "/vary [strength]", "image-to-image from the selected card",
                lambda rest, names: _float(rest, "strength", 0.0, 1.0) if rest else 0.6,
                lambda host, value: host.vary_selected(value)),
    CommandSpec("upscale", "/upscale [factor]",
                "upscale the selected card's image (by 2, or what the model takes)",
                lambda rest, names: _float(rest, "factor", 1.0, 8.0) if rest else None,
                lambda host, value: host.upscale_selected(value)),
    CommandSpec("edit", "/edit MASKFILE", "inpaint the selected card with a mask",
                lambda rest, names: _single_path(rest),
                lambda host, value: host.edit_selected(value)),
    CommandSpec("describe", "/describe", "describe the selected card's image as a prompt",
                _no_argument, lambda host, value: host.describe_selected()),
    CommandSpec("fixtext", "/fixtext", "rewrite the selected card's misspelled text",
                _no_argument, lambda host, value: host.fixtext_selected()),
    CommandSpec("rename", "/rename TITLE", "rename this conversation",
                lambda rest, names: " ".join(rest.split()),
                lambda host, value: host.rename_open(value)),
    CommandSpec("export", "/export [PATH]", "export this conversation as a bundle",
                _path_or_none, lambda host, value: host.export_open(value)),
    CommandSpec("theme", "/theme NAME", "switch the colour theme", _theme,
                lambda host, value: host.set_theme(value)),
    CommandSpec("compare", "/compare", "compare the picked cards side by side",
                _no_argument, lambda host, value: host.open_compare()),
    CommandSpec("help", "/help", "list keys and commands",
                _no_argument, lambda host, value: host.show_help()),
)
SPEC_BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in SPECS}

#: Commands that cannot run without an argument (the rest take an optional one or none).
_NEEDS_ARGUMENT = frozenset({"model", "seed", "steps", "size", "n", "guidance", "scheduler",
                             "fanout", "edit", "theme", "rename"})
_NO_ARGUMENT = frozenset({"describe", "fixtext", "compare", "help"})


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
    spec = SPEC_BY_NAME.get(name)
    if spec is None:
        raise SlashError(f"unknown command /{name} (type /help)")
    if name in _NEEDS_ARGUMENT and not rest:
        raise SlashError(f"usage: {spec.usage}")
    if name in _NO_ARGUMENT and rest:
        raise SlashError(f"/{name} takes no arguments")
    return SlashCommand(name, spec.read(rest, Names(models, themes)))


async def run(command: SlashCommand, host: CommandHost) -> str | None:
    """Carry out a parsed command through its registry entry; an error line or ``None``."""
    return await SPEC_BY_NAME[command.name].handler(host, command.value)

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
