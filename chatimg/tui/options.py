"""What the composer will send with the next prompt: model(s), preset and advanced params.

Pure data (no Textual), owned by the main screen: a pending ``GenerationSpec`` plus UI-only
flags. Slash commands and the composer's messages change it through its ``set_*`` methods (the
slash-command registry names which one each command uses), and the screen sends its spec.
Presets (Draft / Balanced / Quality) scale a model's defaults.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class AdvancedField:
    """One field of the advanced panel: a slash command's value shown as text."""

    name: str
    """The slash command that sets it (``/steps``), and the field's id."""
    label: str
    placeholder: str
    spec_field: str | None = None
    """The spec field it shows; None for the fields handled by name (seed, size, count)."""


#: The advanced panel, in order. A plain numeric spec field needs one row here and one
#: ``slash.number_setting`` command; the panel, defaults and display follow from them.
ADVANCED_FIELDS: tuple[AdvancedField, ...] = (
    AdvancedField("seed", "seed", "random"),
    AdvancedField("steps", "steps", "default", "steps"),
    AdvancedField("guidance", "guidance", "default", "guidance"),
    AdvancedField("scheduler", "scheduler", "default", "scheduler"),
    AdvancedField("clipskip", "clip skip", "default", "clip_skip"),
    AdvancedField("size", "size", "WxH"),
    AdvancedField("n", "count", "1"),
)


def _spec_field(name: str) -> property:
    """A composer setting stored in the pending spec (setting it validates the value)."""

    def get(self: ComposerOptions) -> Any:
        return getattr(self.spec, name)

    def set_(self: ComposerOptions, value: Any) -> None:
        self.spec = self.spec.replace(**{name: value})

    return property(get, set_, doc=f"The pending spec's ``{name}``.")


def _blank_spec() -> GenerationSpec:
    """An empty spec (pydantic loads here, not when the composer's module is imported)."""
    from chatimg.spec import GenerationSpec

    return GenerationSpec()


@dataclass
class ComposerOptions:
    """The composer's pending settings: a spec plus UI-only flags (preset, seed lock).

    ``None`` in the spec means the model's default.
    """

    model: str
    fanout: tuple[str, ...] = ()
    preset: str = "Balanced"
    seed_locked: bool = False
    spec: GenerationSpec = field(default_factory=lambda: _blank_spec())
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
        width, height = size if size is not None else (None, None)
        self.spec = self.spec.replace(width=width, height=height)
        return f"size → {width}x{height}" if size is not None else "size → default"

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

    def set_field(self, name: str, value: Any) -> str:
        """Set one spec field (``None``: the model's default); return a confirmation."""
        self.spec = self.spec.replace(**{name: value})
        shown = "default" if value is None else (f"{value:g}" if isinstance(value, float)
                                                 else value)
        return f"{name.replace('_', ' ')} → {shown}"

    def apply_field(self, name: str, value: str) -> None:
        """Apply an advanced-panel field as typed (``""`` goes back to the default).

        Raises:
            SlashError: the value cannot be used (the panel marks the field).
        """
        from chatimg.tui import slash

        value = value.strip()
        field_ = next((f for f in ADVANCED_FIELDS if f.name == name), None)
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
        elif field_ is not None and field_.spec_field:
            self.set_field(field_.spec_field, None)

    def advanced_values(self) -> dict[str, str]:
        """What the advanced panel's fields show (``""`` = the default)."""
        spec = self.spec
        values = {"seed": "" if spec.seed is None else str(spec.seed),
                  "size": f"{spec.width}x{spec.height}" if spec.width and spec.height else "",
                  "n": "" if spec.count == 1 else str(spec.count),
                  "negative": spec.negative_prompt or ""}
        for field_ in ADVANCED_FIELDS:
            if field_.spec_field:
                value = getattr(spec, field_.spec_field)
                values[field_.name] = ("" if value is None else
                                       f"{value:g}" if isinstance(value, float) else str(value))
        return values

    def continue_from(self, model: str | None, spec: GenerationSpec) -> None:
        """Take another image's settings (its model, seed and spec) for the next message."""
        if model:
            self.model, self.fanout = model, ()
        self.spec = spec.model_copy(update={"prompt": "", "source_asset": None,
                                            "mask_asset": None, "upscale": None,
                                            "strength": None})
        self.seed_locked = spec.seed is not None

    def edit_from(self, models: list[str], spec: GenerationSpec, preset: object = None) -> None:
        """Take a sent message's settings (its models, spec and preset) for editing it."""
        self.continue_from(models[0], spec)
        if len(models) > 1:
            self.fanout = tuple(models)
        if isinstance(preset, str) and preset.capitalize() in PRESETS:
            self.preset = preset.capitalize()

    def to_state(self) -> dict[str, Any]:
        """The settings as JSON for the state file (the prompt and image inputs left out)."""
        spec = self.spec.model_copy(update={"prompt": "", "source_asset": None,
                                            "mask_asset": None})
        return {"model": self.model, "fanout": list(self.fanout), "preset": self.preset,
                "seed_locked": self.seed_locked, "spec": spec.stored()}

    @classmethod
    def from_state(cls, data: object, model: str,
                   models: Collection[str] | None = None) -> ComposerOptions:
        """Settings saved by ``to_state``; what no longer fits is left at its default.

        Args:
            data: The saved JSON (anything: a hand-edited or old file must not stop the app).
            model: The model to use when the saved one is unknown.
            models: Model names that exist now (``None`` accepts any).
        """
        options = cls(model=model)
        if not isinstance(data, dict):
            return options

        def known(name: object) -> bool:
            return isinstance(name, str) and bool(name) and (models is None or name in models)

        if known(data.get("model")):
            options.model = str(data["model"])
        fanout = data.get("fanout")
        if isinstance(fanout, list) and fanout and all(known(name) for name in fanout):
            options.fanout = tuple(str(name) for name in fanout)
        if data.get("preset") in PRESETS:
            options.preset = str(data["preset"])
        spec = data.get("spec")
        if isinstance(spec, dict):
            from chatimg.spec import GenerationSpec

            options.spec = GenerationSpec.from_stored(spec, lenient=True).model_copy(
                update={"prompt": "", "source_asset": None, "mask_asset": None})
        options.seed_locked = bool(data.get("seed_locked")) and options.spec.seed is not None
        return options

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
        from chatimg.spec import RouteHints

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
