"""The model catalog: built-in entries plus ``[models.NAME]`` tables from the config file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatimg.config import ModelEntry
from chatimg.errors import ChatImgError, EngineUnavailableError, InvalidRequestError

if TYPE_CHECKING:
    from chatimg.engines.base import Availability, Engine, EngineContext, ModelInfo

#: Built-in models. Remote prices are the providers' published per-image prices (USD). Local
#: models carry their hub id (``source``), licence and about how much ``models pull`` fetches.
BUILTIN_MODELS: dict[str, dict[str, Any]] = {
    "layout": {
        "engine": "layout",
        "description": "Built-in typesetter: offline, instant, deterministic (no ML)",
        "cost_per_image": 0.0,
    },
    "sd-turbo": {
        "engine": "diffusers",
        "source": "stabilityai/sd-turbo",
        "steps": 1, "guidance": 0.0, "width": 512, "height": 512,
        "cost_per_image": 0.0,
        "description": "Stable Diffusion Turbo: 1-4 steps at 512x512",
        "licence": "Stability AI Community License", "download_gb": 2.6,
    },
    "sdxl-turbo": {
        "engine": "diffusers",
        "source": "stabilityai/sdxl-turbo",
        "steps": 1, "guidance": 0.0, "width": 512, "height": 512,
        "cost_per_image": 0.0,
        "description": "SDXL Turbo: 1-4 steps at 512x512",
        "licence": "sai-nc-community (non-commercial)", "download_gb": 6.9,
    },
    "sd-1.5": {
        "engine": "diffusers",
        "source": "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "steps": 30, "guidance": 7.5, "width": 512, "height": 512,
        "cost_per_image": 0.0,
        "description": "Stable Diffusion 1.5",
        "licence": "creativeml-openrail-m", "download_gb": 2.7,
    },
    "sdxl": {
        "engine": "diffusers",
        "source": "stabilityai/stable-diffusion-xl-base-1.0",
        "steps": 30, "guidance": 5.0, "width": 1024, "height": 1024,
        "cost_per_image": 0.0,
        "description": "Stable Diffusion XL base 1.0",
        "licence": "openrail++", "download_gb": 6.9,
    },
    "segmind-vega": {
        "engine": "diffusers",
        "source": "segmind/Segmind-Vega",
        "steps": 25, "guidance": 9.0, "width": 1024, "height": 1024,
        "cost_per_image": 0.0,
        "description": "Segmind Vega: SDXL distilled to 745M UNet parameters",
        "licence": "apache-2.0", "download_gb": 3.3,
    },
    "flux-schnell": {
        "engine": "diffusers",
        "source": "black-forest-labs/FLUX.1-schnell",
        "steps": 4, "guidance": 0.0, "width": 1024, "height": 1024,
        "cost_per_image": 0.0,
        "description": "FLUX.1 [schnell]: 4 steps at 1024x1024",
        "licence": "apache-2.0", "download_gb": 33.7,
    },
    "sd-x4-upscaler": {
        "engine": "diffusers",
        "source": "stabilityai/stable-diffusion-x4-upscaler",
        "steps": 20, "guidance": 9.0,
        "cost_per_image": 0.0,
        "task": "upscale",
        "description": "Stable Diffusion x4 upscaler",
        "licence": "openrail++", "download_gb": 3.5,
    },
    # Remote models (issue 4). Prices: the providers' published USD per output image.
    "ideogram-v2-turbo": {"engine": "ideogram", "model": "V_2_TURBO", "cost_per_image": 0.05,
                          "description": "Ideogram 2.0 Turbo"},
    "ideogram-v2": {"engine": "ideogram", "model": "V_2", "cost_per_image": 0.08,
                    "description": "Ideogram 2.0"},
    "ideogram-v2a-turbo": {"engine": "ideogram", "model": "V_2A_TURBO", "cost_per_image": 0.025,
                           "description": "Ideogram 2a Turbo"},
    "ideogram-v2a": {"engine": "ideogram", "model": "V_2A", "cost_per_image": 0.04,
                     "description": "Ideogram 2a"},
    "ideogram-v3": {"engine": "ideogram", "model": "V_3", "speed": "DEFAULT",
                    "description": "Ideogram 3.0 (extra option speed: TURBO $0.03, "
                                   "DEFAULT $0.06, QUALITY $0.09)"},
    "ideogram-v3-turbo": {"engine": "ideogram", "model": "V_3", "speed": "TURBO",
                          "description": "Ideogram 3.0 at turbo speed"},
    "ideogram-v3-quality": {"engine": "ideogram", "model": "V_3", "speed": "QUALITY",
                            "description": "Ideogram 3.0 at quality speed"},
    "gemini-2.5-flash-image": {"engine": "google", "model": "gemini-2.5-flash-image",
                               "description": "Google Gemini 2.5 Flash Image"},
    "gemini-3.1-flash-image": {"engine": "google", "model": "gemini-3.1-flash-image",
                               "description": "Google Gemini 3.1 Flash Image (token-priced)"},
    "gemini-3-pro-image": {"engine": "google", "model": "gemini-3-pro-image",
                           "description": "Google Gemini 3 Pro Image (token-priced)"},
    "imagen-4": {"engine": "imagen", "model": "imagen-4.0-generate-001",
                 "description": "Google Imagen 4 (retired; Imagen-compatible endpoints)"},
    "imagen-4-fast": {"engine": "imagen", "model": "imagen-4.0-fast-generate-001",
                      "description": "Google Imagen 4 Fast (retired; compatible endpoints)"},
    "imagen-4-ultra": {"engine": "imagen", "model": "imagen-4.0-ultra-generate-001",
                       "description": "Google Imagen 4 Ultra (retired; compatible endpoints)"},
    "gpt-image-2": {"engine": "openai", "model": "gpt-image-2",
                    "description": "OpenAI gpt-image-2 (or any OpenAI-compatible server)"},
}


@dataclass(frozen=True)
class Listing:
    """A model for ``chatimg models`` and the picker: its facts and whether it can run."""

    name: str
    engine: str
    info: ModelInfo | None
    available: bool
    reason: str | None
    builtin: bool
    licence: str | None = None
    """The weights' licence, for hub models that say."""
    download_gb: float | None = None
    """Set when ``chatimg models pull NAME`` would fetch the weights: about how many GB (0.0
    when the size is not known)."""


class Catalog:
    """Resolves model names to engines.

    Args:
        entries: name → ``ModelEntry`` (built-ins merged with the config file).
        context: Shared engine context.
    """

    def __init__(self, entries: dict[str, ModelEntry], context: EngineContext,
                 builtin_names: set[str] | None = None) -> None:
        self.entries = entries
        self.context = context
        self.builtin_names = builtin_names or set()
        self._engines: dict[str, Engine] = {}

    @classmethod
    def from_settings(cls, context: EngineContext) -> Catalog:
        """Built-ins, then models pulled by hub id (``chatimg models pull``), then the config."""
        from chatimg.engines.pulled import pulled_entries

        entries = {name: ModelEntry(**data) for name, data in BUILTIN_MODELS.items()}
        entries.update(pulled_entries(entries))
        entries.update(context.settings.models)
        return cls(entries, context, set(BUILTIN_MODELS) - set(context.settings.models))

    def names(self) -> list[str]:
        return list(self.entries)

    def entry(self, name: str) -> ModelEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise InvalidRequestError(
                f"unknown model {name!r}", "`chatimg models` lists the models you can use"
            ) from None

    def engine(self, name: str) -> Engine:
        """The engine instance for a model name (made once, then reused)."""
        engine = self._engines.get(name)
        if engine is None:
            from chatimg.engines.registry import load_engine_class

            entry = self.entry(name)
            engine_class = load_engine_class(entry.engine)
            try:
                engine = engine_class(name, entry, self.context)
            except ChatImgError:
                raise
            except Exception as exc:
                raise EngineUnavailableError(
                    f"model {name!r} is misconfigured: {exc}", "check its [models] table"
                ) from None
            self._engines[name] = engine
        return engine

    def use_engine(self, name: str, engine: Engine) -> None:
        """Run ``name`` on ``engine`` from now on (``bench --executor ray`` swaps in engines
        that call Ray Serve); the entry must exist."""
        self.entry(name)
        self._engines[name] = engine

    def listing(self, name: str) -> Listing:
        entry = self.entry(name)
        try:
            engine = self.engine(name)
            info = engine.info
            availability: Availability = engine.availability()
        except ChatImgError as exc:
            return Listing(name, entry.engine, None, False, exc.one_line(),
                           name in self.builtin_names)
        pullable = bool(getattr(engine, "pullable", False))
        return Listing(name, entry.engine, info, availability.available, availability.reason,
                       name in self.builtin_names, entry.licence,
                       (entry.download_gb or 0.0) if pullable else None)

    def listings(self) -> list[Listing]:
        return [self.listing(name) for name in self.entries]

    async def aclose(self) -> None:
        for engine in self._engines.values():
            await engine.aclose()
        client = self.context.shared.get("http_client")
        if client is not None:
            await client.aclose()
