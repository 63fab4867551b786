"""What was asked (``GenerationSpec``) and what ran (``Receipt``): the one shape of generation
parameters that the CLI, the TUI, Studio, routing, engines, bundles, compare and replay share.

A spec is frozen and validated where it is made, so a value JSON or a database cannot hold (NaN,
infinity, a NUL byte, a seed past 63 bits) never gets further than the edge. Source and mask
images are asset references (sha256), never paths or bytes. Routing hints and the text a check
expects travel beside the spec (``RouteHints``, ``expected_text``), never to engines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from chatimg.errors import InvalidRequestError

Mode = Literal["txt2img", "img2img", "inpaint", "upscale"]

#: Seeds are stored in 64-bit signed integer columns and JSON numbers: image i of a request uses
#: seed + i, so seed + count - 1 must stay below this.
SEED_LIMIT = 2**63

#: Fields every engine reads (or may ignore); any later field is honoured only by engines that
#: list it in ``Engine.extra_spec_fields``, and asking another engine for it is an error.
CORE_FIELDS = frozenset({
    "prompt", "negative_prompt", "seed", "steps", "guidance", "scheduler", "width", "height",
    "count", "strength", "upscale", "source_asset", "mask_asset",
})

#: What ``stored()`` keeps for the fields below (the rest of a v1 params dict is ignored).
_LEGACY_KEYS = {"source": "source_asset", "mask": "mask_asset"}
#: Keys of a format-1 ``request.extra`` that were not engine options: routing hints,
#: validation input, and the thread count (kept as the ``threads`` option).
_LEGACY_NOT_OPTIONS = frozenset({"preset", "budget", "expected_text", "torch_threads"})


class GenerationSpec(BaseModel):
    """What a person asks one model for. ``None`` means "the model's default".

    Build one with ``GenerationSpec.build(...)`` from user input (one-line errors) or
    ``GenerationSpec.from_stored(...)`` from a row, receipt or bundle (lenient about old keys).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    prompt: str = ""
    negative_prompt: str | None = None
    seed: int | None = Field(default=None, ge=0, lt=SEED_LIMIT)
    steps: int | None = Field(default=None, ge=1, le=1000)
    guidance: float | None = Field(default=None, ge=0.0, le=100.0)
    scheduler: str | None = None
    width: int | None = Field(default=None, ge=8, le=16384)
    height: int | None = Field(default=None, ge=8, le=16384)
    count: int = Field(default=1, ge=1, le=64)
    strength: float | None = Field(default=None, ge=0.0, le=1.0)
    """img2img strength in [0, 1]."""
    upscale: float | None = Field(default=None, gt=1.0, le=16.0)
    """Upscale factor; with ``source_asset`` this asks for an upscale."""
    source_asset: str | None = None
    """sha256 of the source image for img2img, inpaint or upscale (on input also a unique
    prefix or an image file, which ``Studio`` stores and replaces by its sha256)."""
    mask_asset: str | None = None
    """sha256 of the inpainting mask, white = repaint (on input as ``source_asset``)."""
    clip_skip: int | None = Field(default=None, ge=1, le=12)
    """Layers of the CLIP text encoder to skip from the end (diffusers pipelines)."""

    @model_validator(mode="after")
    def _consistent(self) -> GenerationSpec:
        for name in ("prompt", "negative_prompt", "scheduler"):
            value = getattr(self, name)
            if value is not None and "\x00" in value:
                raise ValueError(f"{name.replace('_', ' ')} holds a NUL character")
        if self.seed is not None and self.seed + self.count > SEED_LIMIT:
            raise ValueError(f"seed {self.seed} + {self.count} images passes 2**63")
        if self.mask_asset and not self.source_asset:
            raise ValueError("a mask needs a source image (--from)")
        if self.upscale is not None and not self.source_asset:
            raise ValueError("upscaling needs a source image (--from)")
        return self

    # -- making specs -------------------------------------------------------------------------

    @classmethod
    def build(cls, **values: Any) -> GenerationSpec:
        """A spec from user input (``source``/``mask`` are accepted for the asset fields).

        Raises:
            InvalidRequestError: one line naming the first bad value.
        """
        for old, new in _LEGACY_KEYS.items():
            if old in values:
                values[new] = values.pop(old)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise InvalidRequestError(_one_line(exc)) from None

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None, *, lenient: bool = False
                    ) -> GenerationSpec:
        """A spec from a stored params dict, a receipt's ``request`` or a bundle.

        Unknown keys (routing hints and engine extras of format-1 records) are left out. Values
        that do not validate raise ``InvalidRequestError``, or with ``lenient`` are left out
        (rows an older version stored must still load).
        """
        values: dict[str, Any] = {}
        for key, value in (data or {}).items():
            key = _LEGACY_KEYS.get(key, key)
            if key in cls.model_fields and value is not None:
                values[key] = value
        if not lenient:
            return cls.build(**values)
        for _ in range(len(values) + 1):
            try:
                return cls(**values)
            except ValidationError as exc:
                bad = {str(error["loc"][0]) for error in exc.errors() if error.get("loc")}
                if not bad & values.keys():
                    break
                for key in bad:
                    values.pop(key, None)
        return cls()

    def replace(self, **changes: Any) -> GenerationSpec:
        """A copy with ``changes`` applied and validated."""
        return self.build(**{**self.stored(), **changes})

    def with_defaults(self, defaults: dict[str, Any]) -> GenerationSpec:
        """Fill unset fields from a model's recommended defaults."""
        changes = {
            name: defaults[name]
            for name in ("steps", "guidance", "scheduler", "width", "height")
            if getattr(self, name) is None and defaults.get(name) is not None
        }
        return self.model_copy(update=changes) if changes else self

    # -- reading specs ------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        """``txt2img``, ``img2img``, ``inpaint`` or ``upscale``."""
        if self.source_asset is None:
            return "txt2img"
        if self.upscale:
            return "upscale"
        if self.mask_asset is not None:
            return "inpaint"
        return "img2img"

    def stored(self) -> dict[str, Any]:
        """The JSON form for rows, receipts, PNG parameters and bundles (unset fields left out)."""
        return self.model_dump(exclude_none=True)

    def seeds(self) -> list[int] | None:
        """The seed of each image (seed + i), when a seed is set."""
        if self.seed is None:
            return None
        return [self.seed + index for index in range(self.count)]


@dataclass(frozen=True)
class RouteHints:
    """What routing may read besides the spec (never passed to engines)."""

    preset: str | None = None
    """``draft``, ``balanced`` or ``quality`` (a ``draft`` rule routes to a fast model)."""
    budget: float | None = None
    """Most this message may cost in USD (``budget`` rules pick by it)."""

    def __post_init__(self) -> None:
        if self.budget is not None and (not math.isfinite(self.budget) or self.budget < 0):
            raise InvalidRequestError(f"a budget must be a finite amount >= 0, not {self.budget}")

    def stored(self) -> dict[str, Any]:
        return {key: value for key, value in (("preset", self.preset), ("budget", self.budget))
                if value is not None}


class ReceiptModel(BaseModel):
    """The model that ran."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    engine: str | None = None
    model_id: str | None = None
    version: str | None = None


class ReceiptImage(BaseModel):
    """One image of a run (``sha256`` is unset when the provider withheld it)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    sha256: str | None = None
    seed: int | None = None
    safety_filtered: bool = False


class Receipt(BaseModel):
    """What ran: written once when a generation finishes; read by replay, re-run, "continue
    from", compare and bundles. ``run_spec`` plus ``options`` reproduce the images where
    ``deterministic``."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    model: ReceiptModel
    run_spec: GenerationSpec = Field(validation_alias=AliasChoices("request", "run_spec"),
                                     serialization_alias="request")
    """The resolved spec (defaults filled, seed chosen): stored under ``request``."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Engine options that shape the output (e.g. diffusers' torch thread count)."""
    engine: dict[str, Any] = Field(default_factory=dict)
    """Engine facts (pipeline, scheduler config, device, dtype, timings)."""
    images: tuple[ReceiptImage, ...] = ()
    environment: dict[str, Any] = Field(default_factory=dict)
    deterministic: bool = False
    """Same spec and options give the same bytes on the same machine."""
    note: str | None = None

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> Receipt | None:
        """A receipt from its stored JSON (format 1 included); None when there is none."""
        if not data or not isinstance(data.get("model"), dict) or "request" not in data:
            return None
        request = data.get("request") or {}
        options = dict(data.get("options") or {})
        legacy_replay = (data.get("engine") or {}).get("replay") or {}
        legacy_extra = request.get("extra") or {}
        for source in (legacy_replay, legacy_extra):  # format 1 kept torch_threads there
            if "torch_threads" in source and "threads" not in options:
                options["threads"] = source["torch_threads"]
        if isinstance(legacy_extra, dict):  # format 1: the run's engine options (quality, ...)
            for key, value in legacy_extra.items():
                if key not in _LEGACY_NOT_OPTIONS and value is not None:
                    options.setdefault(key, value)
        deterministic = data.get("deterministic")
        if not isinstance(deterministic, bool):
            deterministic = data.get("note") != "non-deterministic provider"
        return cls(
            model=ReceiptModel.model_validate(data["model"]),
            run_spec=GenerationSpec.from_stored(request),
            options=options,
            engine=dict(data.get("engine") or {}),
            images=tuple(ReceiptImage.model_validate(image) for image in data.get("images") or ()),
            environment=dict(data.get("environment") or {}),
            deterministic=deterministic,
            note=data.get("note"),
        )

    def stored(self) -> dict[str, Any]:
        """The JSON form kept in the generation row and bundles."""
        data = self.model_dump(by_alias=True, exclude_none=True)
        data["request"] = self.run_spec.stored()
        return data


def _one_line(exc: ValidationError) -> str:
    """The first error of a validation as one line a person can act on."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    label = where.replace("_", " ")
    value = error.get("input")
    kind = str(error.get("type", ""))
    bounds = error.get("ctx") or {}
    words = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
             "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}
    if kind == "finite_number":
        return f"{label} must be a finite number, not {value}"
    if kind == "extra_forbidden":
        return f"unknown setting {where!r}"
    if kind in words:
        phrase, key = words[kind]
        bound = bounds.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"{label} must be {phrase} {bound}, not {value}"
    return f"{label}: {message}" if label else message
