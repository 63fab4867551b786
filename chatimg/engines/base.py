"""The engine contract: what every engine kind (local, remote, built-in, plugin) implements."""

from __future__ import annotations

import abc
import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import httpx
    from PIL.Image import Image

    from chatimg.config import Settings


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "txt2img": self.txt2img, "img2img": self.img2img, "inpaint": self.inpaint,
            "upscale": self.upscale, "describe": self.describe, "seed": self.seed,
            "negative_prompt": self.negative_prompt, "schedulers": list(self.schedulers),
            "max_width": self.max_width, "max_height": self.max_height,
            "max_count": self.max_count, "size_multiple": self.size_multiple,
            "deterministic": self.deterministic,
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


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a model is asked for. ``None`` means "the model's default"."""

    prompt: str
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    width: int | None = None
    height: int | None = None
    count: int = 1
    strength: float | None = None
    """img2img strength in [0, 1]."""
    source_image: bytes | None = None
    """Encoded image for img2img, inpaint or upscale."""
    mask: bytes | None = None
    """Encoded mask for inpaint: white (or, for providers that say so, transparent) = repaint."""
    upscale: float | None = None
    """Upscale factor; with ``source_image`` this asks for an upscale."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Engine-specific options (e.g. Ideogram rendering speed)."""

    @property
    def mode(self) -> str:
        """``txt2img``, ``img2img``, ``inpaint`` or ``upscale``."""
        if self.source_image is None:
            return "txt2img"
        if self.upscale:
            return "upscale"
        if self.mask is not None:
            return "inpaint"
        return "img2img"

    def with_defaults(self, defaults: dict[str, Any]) -> GenerationRequest:
        """Fill unset fields from a model's defaults."""
        changes = {
            name: defaults[name]
            for name in ("steps", "guidance", "scheduler", "width", "height")
            if getattr(self, name) is None and defaults.get(name) is not None
        }
        return replace(self, **changes) if changes else self


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


@dataclass
class GenerationResult:
    """What ``Engine.generate`` returns."""

    images: list[GeneratedImage]
    model_version: str | None = None
    """The version that actually ran, if the engine learns it while generating."""
    cost_usd: float | None = None
    """Billed cost if the provider reports it; else the Studio estimates from the catalog."""
    receipt: dict[str, Any] = field(default_factory=dict)
    """Engine facts needed to reproduce or explain the run (scheduler, device, dtype, sizes)."""
    cancelled: bool = False
    """Cancelled part-way: ``images`` holds only those finished before the cancel."""


@dataclass(frozen=True)
class Progress:
    """A progress report: ``step`` of ``total`` (total 0 = unknown)."""

    step: int
    total: int
    message: str = ""


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

    Subclasses set ``kind`` and implement ``info``-building, ``availability`` and ``generate``.
    Local engines that block (torch) set ``blocking = True`` and implement ``generate_blocking``;
    the base ``generate`` then runs it in a worker thread so the caller's loop stays free.

    Args:
        name: The catalog name of the model.
        entry: The model's catalog entry (``chatimg.config.ModelEntry``).
        context: Shared settings and clients.
    """

    kind: ClassVar[str] = ""
    blocking: ClassVar[bool] = False

    def __init__(self, name: str, entry: Any, context: EngineContext) -> None:
        self.name = name
        self.entry = entry
        self.context = context

    @property
    @abc.abstractmethod
    def info(self) -> ModelInfo:
        """This model's catalog facts."""

    def availability(self) -> Availability:
        """Whether it can run now (cheap: no network, no model loading)."""
        return Availability(True)

    def validate_request(self, request: GenerationRequest) -> GenerationRequest:
        """Check a request against the capabilities; return it with defaults filled.

        Raises:
            InvalidRequestError: the request asks for something the model cannot do.
        """
        from chatimg.errors import InvalidRequestError

        info = self.info
        caps = info.capabilities
        request = request.with_defaults(info.defaults)
        mode = request.mode
        if not getattr(caps, mode):
            raise InvalidRequestError(f"{self.name} cannot do {mode}", "pick another model")
        if request.count < 1 or request.count > caps.max_count:
            raise InvalidRequestError(
                f"{self.name} makes 1 to {caps.max_count} images per request, not {request.count}"
            )
        if request.steps is not None and request.steps < 1:
            raise InvalidRequestError(f"steps must be at least 1, not {request.steps}")
        if request.strength is not None and not 0.0 <= request.strength <= 1.0:
            raise InvalidRequestError(f"strength must be between 0 and 1, not {request.strength}")
        for label, value, limit in (
            ("width", request.width, caps.max_width),
            ("height", request.height, caps.max_height),
        ):
            if value is None:
                continue
            if value < 8 or value > limit:
                raise InvalidRequestError(f"{label} must be 8 to {limit} pixels, not {value}")
            if caps.size_multiple > 1 and value % caps.size_multiple:
                raise InvalidRequestError(
                    f"{label} {value} is not a multiple of {caps.size_multiple} for {self.name}"
                )
        if request.negative_prompt and not caps.negative_prompt:
            raise InvalidRequestError(f"{self.name} does not take a negative prompt")
        if request.scheduler and caps.schedulers and request.scheduler not in caps.schedulers:
            raise InvalidRequestError(
                f"unknown scheduler {request.scheduler!r} for {self.name}",
                "valid: " + ", ".join(caps.schedulers),
            )
        return request

    async def generate(
        self,
        request: GenerationRequest,
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
        request: GenerationRequest,
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
