"""The engine contract: what every engine kind (local, remote, built-in, plugin) implements."""

from __future__ import annotations

import abc
import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from chatimg.spec import CORE_FIELDS, GenerationSpec

if TYPE_CHECKING:
    import httpx
    from PIL.Image import Image

    from chatimg.config import Settings
    from chatimg.store.assets import StoredFile


@dataclass(frozen=True)
class Capabilities:
    """What a model can do. The UI disables or translates what is missing; routing falls back."""

    txt2img: bool = True
    img2img: bool = False
    inpaint: bool = False
    upscale: bool = False
    describe: bool = False
    seed: bool = True
    """The provider honours a seed, so outputs can be reproduced."""
    negative_prompt: bool = False
    schedulers: tuple[str, ...] = ()
    """Scheduler names that can be chosen; empty means no choice."""
    max_width: int = 2048
    max_height: int = 2048
    max_count: int = 4
    size_multiple: int = 1
    """Width and height must be multiples of this."""
    deterministic: bool = True
    """Same request and seed give the same bytes (false for most hosted providers)."""
    upscale_factors: tuple[float, ...] = ()
    """The only factors an upscaler takes (the x4 upscaler: 4); empty means any in (1, 8]."""

    def upscale_factor(self, wanted: float | None = None) -> float:
        """``wanted`` when given; else 2, or this model's only factor when 2 is not one of
        them (the x4 upscaler: 4)."""
        if wanted is not None:
            return wanted
        factors = self.upscale_factors
        return float(factors[0]) if factors and 2.0 not in factors else 2.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "txt2img": self.txt2img, "img2img": self.img2img, "inpaint": self.inpaint,
            "upscale": self.upscale, "describe": self.describe, "seed": self.seed,
            "negative_prompt": self.negative_prompt, "schedulers": list(self.schedulers),
            "max_width": self.max_width, "max_height": self.max_height,
            "max_count": self.max_count, "size_multiple": self.size_multiple,
            "deterministic": self.deterministic,
            "upscale_factors": list(self.upscale_factors),
        }


@dataclass(frozen=True)
class ModelInfo:
    """A model as the catalog shows it."""

    name: str
    """What people type: ``layout``, ``sd-turbo``, ``ideogram-v2-turbo``."""
    engine: str
    """Engine kind."""
    model_id: str
    """Hub id, path, or the provider's model string."""
    version: str | None = None
    """Revision, file hash or provider version, recorded on every generation."""
    capabilities: Capabilities = field(default_factory=Capabilities)
    cost_per_image: float | None = None
    """USD per image (None: free or unknown)."""
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Recommended defaults: ``steps``, ``guidance``, ``width``, ``height``, ``scheduler``."""
    note: str | None = None
    """Shown in ``chatimg models`` (e.g. a retirement notice)."""
    kept_versions: tuple[str, ...] = ()
    """Earlier versions this engine can still run, so their receipts replay byte for byte."""


class EngineOptions(BaseModel):
    """Per-engine options, declared by each engine class as ``Options`` and validated from the
    model's ``[models.NAME]`` table (unknown keys are an error naming the file and key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class EngineRequest:
    """What an engine runs: a resolved spec, its decoded inputs and the engine's options.

    Routing hints and validation input never reach engines; nothing else varies a run.
    """

    spec: GenerationSpec
    source_image: bytes | None = None
    """Encoded image for img2img, inpaint or upscale (the spec's ``source_asset``)."""
    mask: bytes | None = None
    """Encoded mask for inpaint: white (or, for providers that say so, transparent) = repaint."""
    options: EngineOptions = field(default_factory=EngineOptions)
    """The engine's ``Options`` for this run (the model's table, with replay overrides)."""
    version: str | None = None
    """A model version to reproduce (replay of a receipt): engines that keep earlier versions
    run that one; others run their own and replay reports the change."""

    @property
    def mode(self) -> str:
        """``txt2img``, ``img2img``, ``inpaint`` or ``upscale``."""
        return self.spec.mode

    def with_spec(self, spec: GenerationSpec) -> EngineRequest:
        return replace(self, spec=spec)


@dataclass
class GeneratedImage:
    """One image an engine produced."""

    data: bytes | None = None
    """Encoded image bytes (PNG/JPEG/WebP); or set ``image``."""
    image: Image | None = None
    """A PIL image, encoded to PNG by the Studio."""
    seed: int | None = None
    """The seed actually used (None when the provider does not say)."""
    revised_prompt: str | None = None
    safety_filtered: bool = False
    """The provider withheld this image; ``data`` and ``image`` are empty."""
    info: dict[str, Any] = field(default_factory=dict)
    """Per-image facts for the receipt (e.g. the resolution the provider used)."""
    stored: StoredFile | None = None
    """Already in the shared asset store (a Ray replica wrote it there, with the generation
    parameters embedded): the Studio checks it is there and records it without uploading."""


@dataclass
class GenerationResult:
    """What ``Engine.generate`` returns."""

    images: list[GeneratedImage]
    model_version: str | None = None
    """The version that actually ran, if the engine learns it while generating."""
    cost_usd: float | None = None
    """Billed cost if the provider reports it; else the Studio estimates from the catalog."""
    receipt: dict[str, Any] = field(default_factory=dict)
    """Engine facts that explain the run (pipeline, scheduler config, device, dtype, timings)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Option values that shaped the output (replay passes them back, e.g. ``threads``)."""
    cancelled: bool = False
    """Cancelled part-way: ``images`` holds only those finished before the cancel."""


@dataclass(frozen=True)
class Progress:
    """A progress report: ``step`` of ``total`` (total 0 = unknown)."""

    step: int
    total: int
    message: str = ""
    image: GeneratedImage | None = None
    """An image of the batch that is finished (decoded, not yet stored): the run shows it and
    starts storing it while the engine makes the next one."""


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Set by the person (Escape, Ctrl+C); engines check it between steps. Thread-safe."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    async def wait(self, poll: float = 0.05) -> None:
        """Return once cancelled (for racing against a network request)."""
        while not self._event.is_set():
            await asyncio.sleep(poll)


@dataclass(frozen=True)
class Availability:
    """Whether a model can run here, and why not."""

    available: bool
    reason: str | None = None


@dataclass
class EngineContext:
    """What engines share: settings, the one async HTTP client, and the pipeline cache."""

    settings: Settings
    http_client_factory: Callable[[], httpx.AsyncClient] | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    """Engine-kind scoped shared state (e.g. the diffusers pipeline cache)."""

    def http(self) -> httpx.AsyncClient:
        """The shared async HTTP client (created on first use)."""
        client = self.shared.get("http_client")
        if client is None or client.is_closed:
            if self.http_client_factory is not None:
                client = self.http_client_factory()
            else:
                import httpx

                network = self.settings.network
                client = httpx.AsyncClient(
                    timeout=httpx.Timeout(
                        network.read_timeout, connect=network.connect_timeout
                    ),
                    follow_redirects=True,
                )
            self.shared["http_client"] = client
        return client


class Engine(abc.ABC):
    """One instance per model entry in the catalog.

    Subclasses set ``kind``, declare their ``Options`` (a pydantic model of the extra keys their
    ``[models.NAME]`` table may hold) and implement ``info``, ``availability`` and ``generate``.
    Local engines that block (torch) set ``blocking = True`` and implement
    ``generate_blocking``; the base ``generate`` then runs it in a worker thread so the caller's
    loop stays free.

    Args:
        name: The catalog name of the model.
        entry: The model's catalog entry (``chatimg.config.ModelEntry``).
        context: Shared settings and clients.

    Raises:
        ConfigError: the entry holds an unknown or wrong option (names the file and key).
    """

    kind: ClassVar[str] = ""
    blocking: ClassVar[bool] = False
    Options: ClassVar[type[EngineOptions]] = EngineOptions
    extra_spec_fields: ClassVar[frozenset[str]] = frozenset()
    """Spec fields beyond ``spec.CORE_FIELDS`` that this engine honours (e.g. ``clip_skip``)."""

    def __init__(self, name: str, entry: Any, context: EngineContext) -> None:
        self.name = name
        self.entry = entry
        self.context = context
        self.options: EngineOptions = self.parse_options(getattr(entry, "model_extra", None))

    def parse_options(self, values: dict[str, Any] | None) -> EngineOptions:
        """Validate option values against ``Options``.

        Raises:
            ConfigError: one line naming the config file, the model's table and the key.
        """
        from chatimg.config import key_location
        from chatimg.errors import ConfigError

        try:
            return self.Options.model_validate(values or {})
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(part) for part in error.get("loc", ()))
            path = getattr(self.context.settings, "config_path", None)
            where = key_location(path, ("models", self.name, *error.get("loc", ())))
            if error.get("type") == "extra_forbidden":
                problem = f"unknown option {key!r} for a {self.kind} model"
            else:
                problem = f"{key}: {error.get('msg', 'invalid value')}"
            known = ", ".join(self.Options.model_fields) or "none"
            raise ConfigError(f"{where}: [models.{self.name}] {problem}",
                              f"options of {self.kind} models: {known}") from None

    def request(self, spec: GenerationSpec, *, source_image: bytes | None = None,
                mask: bytes | None = None, options: dict[str, Any] | None = None
                ) -> EngineRequest:
        """An ``EngineRequest`` for ``spec`` with this model's options (``options`` override
        them for one run, e.g. a receipt's on replay)."""
        chosen = self.options
        if options:
            chosen = self.parse_options({**self.options.model_dump(exclude_unset=True),
                                         **options})
        return EngineRequest(spec, source_image=source_image, mask=mask, options=chosen)

    @property
    @abc.abstractmethod
    def info(self) -> ModelInfo:
        """This model's catalog facts."""

    def availability(self) -> Availability:
        """Whether it can run now (cheap: no network, no model loading)."""
        return Availability(True)

    def validate_request(self, request: EngineRequest) -> EngineRequest:
        """Check a request against the capabilities; return it with defaults filled.

        Raises:
            InvalidRequestError: the request asks for something the model cannot do.
        """
        from chatimg.errors import InvalidRequestError

        info = self.info
        caps = info.capabilities
        spec = request.spec.with_defaults(info.defaults)
        mode = spec.mode
        if not getattr(caps, mode):
            raise InvalidRequestError(f"{self.name} cannot do {mode}", "pick another model")
        if spec.count > caps.max_count:
            raise InvalidRequestError(
                f"{self.name} makes 1 to {caps.max_count} images per request, not {spec.count}"
            )
        for label, value, limit in (
            ("width", spec.width, caps.max_width),
            ("height", spec.height, caps.max_height),
        ):
            if value is None:
                continue
            if value > limit:
                raise InvalidRequestError(f"{label} must be 8 to {limit} pixels, not {value}")
            if caps.size_multiple > 1 and value % caps.size_multiple:
                raise InvalidRequestError(
                    f"{label} {value} is not a multiple of {caps.size_multiple} for {self.name}"
                )
        for name in spec.stored().keys() - CORE_FIELDS - self.extra_spec_fields:
            raise InvalidRequestError(f"{self.name} does not take {name.replace('_', ' ')}",
                                      "leave it unset for this model")
        if spec.negative_prompt and not caps.negative_prompt:
            raise InvalidRequestError(f"{self.name} does not take a negative prompt")
        if spec.scheduler and caps.schedulers and spec.scheduler not in caps.schedulers:
            raise InvalidRequestError(
                f"unknown scheduler {spec.scheduler!r} for {self.name}",
                "valid: " + ", ".join(caps.schedulers),
            )
        return request.with_spec(spec)

    async def generate(
        self,
        request: EngineRequest,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult:
        """Make the images.

        Args:
            request: The validated request (see ``validate_request``).
            progress: Called with step reports; may be called from a worker thread.
            cancel: Checked between steps; when set, stop and raise ``CancelledError``.

        Returns:
            The images and receipt facts.

        Raises:
            CancelledError: ``cancel`` was set.
            EngineUnavailableError: the model cannot run here.
            EngineRequestError: the model ran and failed.
        """
        if not self.blocking:  # pragma: no cover - subclasses override one of the two
            raise NotImplementedError
        return await asyncio.to_thread(self.generate_blocking, request, progress, cancel)

    def generate_blocking(
        self,
        request: EngineRequest,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult:
        """The blocking implementation for local engines (runs in a worker thread)."""
        raise NotImplementedError

    async def describe(self, image: bytes) -> str:
        """Describe an image as a prompt (only where ``capabilities.describe``)."""
        from chatimg.errors import InvalidRequestError

        raise InvalidRequestError(f"{self.name} cannot describe images")

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources (loaded pipelines are kept in the shared cache)."""
