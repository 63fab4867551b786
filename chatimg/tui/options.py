"""What the composer will send with the next prompt: model(s), preset and advanced params.

Pure data (no Textual), owned by the main screen: slash commands and the composer's messages
change it through its ``set_*`` methods, and the screen turns it into ``GenerationParams``.
Presets (Draft / Balanced / Quality) scale a model's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chatimg.studio import GenerationParams

if TYPE_CHECKING:
    from chatimg.tui.slash import SlashCommand

PRESETS: tuple[str, ...] = ("Draft", "Balanced", "Quality")


def preset_values(preset: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """Steps and size for ``preset`` given a model's defaults (``steps``, ``width``, ``height``).

    Draft halves the steps and the size (fast look), Balanced keeps the model's defaults,
    Quality uses 1.5x the steps at the default size.
    """
    steps = defaults.get("steps")
    width, height = defaults.get("width"), defaults.get("height")
    if preset == "Draft":
        return {
            "steps": max(1, int(steps) // 2) if steps else None,
            "width": _round8(width / 2) if width else None,
            "height": _round8(height / 2) if height else None,
        }
    if preset == "Quality":
        return {"steps": round(steps * 1.5) if steps else None, "width": None, "height": None}
    return {"steps": None, "width": None, "height": None}


def _round8(value: float) -> int:
    return max(64, int(value) // 8 * 8)


@dataclass
class ComposerOptions:
    """The composer's pending settings. ``None`` means the model's default."""

    model: str
    fanout: tuple[str, ...] = ()
    preset: str = "Balanced"
    seed: int | None = None
    seed_locked: bool = False
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    width: int | None = None
    height: int | None = None
    count: int = 1
    negative: str | None = None
    model_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        """The models the next prompt goes to."""
        return list(self.fanout) if self.fanout else [self.model]

    def apply(self, command: SlashCommand) -> str | None:
        """Apply a settings command; return a short confirmation, or ``None`` if not ours.

        What each command does is its ``setting`` in the slash-command registry.
        """
        from chatimg.tui.slash import SPEC_BY_NAME

        spec = SPEC_BY_NAME.get(command.name)
        if spec is None or spec.setting is None:
            return None
        return spec.setting(self, command.value)

    def set_model(self, name: str) -> str:
        """One model from the next message on (ends a fan-out)."""
        self.model, self.fanout = name, ()
        return f"model → {name}"

    def set_fanout(self, names: tuple[str, ...]) -> str:
        self.fanout = tuple(names)
        return "fan-out → " + ", ".join(names)

    def set_seed(self, seed: int | None) -> str:
        """A fixed seed (locked), or ``None`` for a random one."""
        self.seed, self.seed_locked = seed, seed is not None
        return f"seed → {seed}" if seed is not None else "seed → random"

    def set_seed_locked(self, locked: bool) -> str:
        self.seed_locked = locked
        return "seed locked" if locked else "seed unlocked"

    def set_steps(self, steps: int | None) -> str:
        self.steps = steps
        return f"steps → {steps if steps is not None else 'default'}"

    def set_size(self, size: tuple[int, int] | None) -> str:
        self.width, self.height = size if size is not None else (None, None)
        return f"size → {size[0]}x{size[1]}" if size is not None else "size → default"

    def set_count(self, count: int) -> str:
        self.count = count
        return f"images per message → {count}"

    def set_guidance(self, guidance: float | None) -> str:
        self.guidance = guidance
        return f"guidance → {guidance:g}" if guidance is not None else "guidance → default"

    def set_scheduler(self, scheduler: str | None) -> str:
        self.scheduler = scheduler
        return f"scheduler → {scheduler or 'default'}"

    def set_negative(self, negative: str | None) -> str:
        self.negative = negative
        return "negative prompt set" if negative else "negative prompt cleared"

    def cycle_preset(self) -> str:
        """Draft → Balanced → Quality → Draft."""
        index = PRESETS.index(self.preset) if self.preset in PRESETS else 0
        self.preset = PRESETS[(index + 1) % len(PRESETS)]
        return f"preset → {self.preset}"

    def continue_from(self, model: str | None, seed: int | None,
                      params: Mapping[str, Any]) -> None:
        """Take model (when given), seed and params of a stored generation (compare's
        "continue from this one")."""
        if model:
            self.model, self.fanout = model, ()
        self.seed = seed
        self.seed_locked = seed is not None
        self.steps = params.get("steps")
        self.guidance = params.get("guidance")
        self.scheduler = params.get("scheduler")
        self.width, self.height = params.get("width"), params.get("height")
        self.negative = params.get("negative_prompt")

    def apply_field(self, name: str, value: str) -> None:
        """Apply an advanced-panel field as typed (``""`` goes back to the default).

        Raises:
            SlashError: the value cannot be used (the panel marks the field).
        """
        from chatimg.tui import slash

        value = value.strip()
        if name == "negative":
            self.set_negative(value or None)
        elif name == "seed":
            self.set_seed(slash.parse_seed(value) if value else None)
        elif value:
            self.apply(slash.parse(f"/{name} {value}"))
        elif name == "size":
            self.set_size(None)
        elif name == "n":
            self.set_count(1)
        elif name == "steps":
            self.set_steps(None)
        elif name == "guidance":
            self.set_guidance(None)
        elif name == "scheduler":
            self.set_scheduler(None)

    def advanced_values(self) -> dict[str, str]:
        """What the advanced panel's fields show (``""`` = the default)."""
        return {"seed": "" if self.seed is None else str(self.seed),
                "steps": "" if self.steps is None else str(self.steps),
                "guidance": "" if self.guidance is None else f"{self.guidance:g}",
                "scheduler": self.scheduler or "",
                "size": f"{self.width}x{self.height}" if self.width and self.height else "",
                "n": "" if self.count == 1 else str(self.count),
                "negative": self.negative or ""}

    def params(self, **overrides: Any) -> GenerationParams:
        """The ``GenerationParams`` for the next message (explicit values win over the preset)."""
        preset = preset_values(self.preset, self.model_defaults)
        params = GenerationParams(
            seed=self.seed if self.seed_locked else None,
            steps=self.steps if self.steps is not None else preset["steps"],
            guidance=self.guidance,
            scheduler=self.scheduler,
            width=self.width if self.width is not None else preset["width"],
            height=self.height if self.height is not None else preset["height"],
            count=self.count,
            negative_prompt=self.negative,
        )
        return replace(params, **overrides) if overrides else params

    def summary(self) -> str:
        """One line for the composer: what differs from the defaults."""
        parts = [self.preset]
        if self.seed_locked and self.seed is not None:
            parts.append(f"seed {self.seed}")
        if self.steps is not None:
            parts.append(f"{self.steps} steps")
        if self.width and self.height:
            parts.append(f"{self.width}x{self.height}")
        if self.count != 1:
            parts.append(f"n={self.count}")
        if self.guidance is not None:
            parts.append(f"cfg {self.guidance:g}")
        if self.scheduler:
            parts.append(self.scheduler)
        if self.negative:
            parts.append("neg")
        return " · ".join(parts)
