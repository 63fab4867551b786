"""What the composer will send with the next prompt: model(s), preset and advanced params.

Pure data (no Textual): the composer edits a ``ComposerOptions`` and the main screen turns it
into ``GenerationParams``. Presets (Draft / Balanced / Quality) scale a model's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from chatimg.studio import GenerationParams
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
        """Apply a settings command; return a short confirmation, or ``None`` if not ours."""
        name, value = command.name, command.value
        if name == "model":
            self.model, self.fanout = value, ()
            return f"model → {value}"
        if name == "fanout":
            self.fanout = tuple(value)
            return "fan-out → " + ", ".join(value)
        if name == "seed":
            self.seed, self.seed_locked = value, value is not None
            return f"seed → {value}" if value is not None else "seed → random"
        if name == "steps":
            self.steps = value
            return f"steps → {value}"
        if name == "size":
            self.width, self.height = value
            return f"size → {value[0]}x{value[1]}"
        if name == "n":
            self.count = value
            return f"images per message → {value}"
        if name == "guidance":
            self.guidance = value
            return f"guidance → {value:g}"
        if name == "scheduler":
            self.scheduler = value
            return f"scheduler → {value or 'default'}"
        if name == "negative":
            self.negative = value
            return "negative prompt set" if value else "negative prompt cleared"
        return None

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
