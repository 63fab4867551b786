"""What the composer will send with the next prompt: model(s), preset and advanced params.

Pure data (no Textual): the composer edits a ``ComposerOptions`` (a pending ``GenerationSpec``
plus UI-only flags) and the main screen sends its spec. Presets (Draft / Balanced / Quality)
scale a model's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatimg.spec import GenerationSpec, RouteHints
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


def _spec_field(name: str) -> property:
    """A composer setting stored in the pending spec (setting it validates the value)."""

    def get(self: ComposerOptions) -> Any:
        return getattr(self.spec, name)

    def set_(self: ComposerOptions, value: Any) -> None:
        self.spec = self.spec.replace(**{name: value})

    return property(get, set_, doc=f"The pending spec's ``{name}``.")


@dataclass
class ComposerOptions:
    """The composer's pending settings: a spec plus UI-only flags (preset, seed lock).

    ``None`` in the spec means the model's default.
    """

    model: str
    fanout: tuple[str, ...] = ()
    preset: str = "Balanced"
    seed_locked: bool = False
    spec: GenerationSpec = field(default_factory=GenerationSpec)
    model_defaults: dict[str, Any] = field(default_factory=dict)

    seed = _spec_field("seed")
    steps = _spec_field("steps")
    guidance = _spec_field("guidance")
    scheduler = _spec_field("scheduler")
    width = _spec_field("width")
    height = _spec_field("height")
    count = _spec_field("count")
    negative = _spec_field("negative_prompt")

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
            self.spec = self.spec.replace(width=value[0], height=value[1])
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

    def continue_from(self, model: str | None, spec: GenerationSpec) -> None:
        """Take another image's settings (its model, seed and spec) for the next message."""
        if model:
            self.model, self.fanout = model, ()
        self.spec = spec.model_copy(update={"prompt": "", "source_asset": None,
                                            "mask_asset": None, "upscale": None,
                                            "strength": None})
        self.seed_locked = spec.seed is not None

    def params(self, **overrides: Any) -> GenerationSpec:
        """The spec for the next message (explicit values win over the preset)."""
        preset = preset_values(self.preset, self.model_defaults)
        spec = self.spec
        values = {
            "seed": spec.seed if self.seed_locked else None,
            "steps": spec.steps if spec.steps is not None else preset["steps"],
            "width": spec.width if spec.width is not None else preset["width"],
            "height": spec.height if spec.height is not None else preset["height"],
        }
        spec = spec.model_copy(update=values)
        return spec.replace(**overrides) if overrides else spec

    def hints(self) -> RouteHints:
        """What routing may read: the preset."""
        return RouteHints(preset=self.preset.lower())

    def summary(self) -> str:
        """One line for the composer: what differs from the defaults."""
        spec = self.spec
        parts = [self.preset]
        if self.seed_locked and spec.seed is not None:
            parts.append(f"seed {spec.seed}")
        if spec.steps is not None:
            parts.append(f"{spec.steps} steps")
        if spec.width and spec.height:
            parts.append(f"{spec.width}x{spec.height}")
        if spec.count != 1:
            parts.append(f"n={spec.count}")
        if spec.guidance is not None:
            parts.append(f"cfg {spec.guidance:g}")
        if spec.scheduler:
            parts.append(spec.scheduler)
        if spec.negative_prompt:
            parts.append("neg")
        return " · ".join(parts)
