"""The common base of remote and self-hosted engines: keys, base URLs, options and the client.

Keys come from ``Settings.api_key(provider)`` (environment, then config file) and are only ever put
in request headers. Base URLs come from the model entry's ``base_url``, then the provider's
environment variable, then the provider's public default.
"""

from __future__ import annotations

import math
import os
from typing import Any, ClassVar

from chatimg.config import KEY_ENV_VARS
from chatimg.engines.base import (
    Availability,
    Engine,
    EngineContext,
    EngineRequest,
    GenerationResult,
)
from chatimg.engines.http import ProviderClient
from chatimg.errors import NeedsKeyError


class RemoteEngine(Engine):
    """An engine that talks HTTP to a provider or a self-hosted server.

    Subclasses set the class attributes and implement ``info``, ``generate`` and ``headers``.
    """

    provider: ClassVar[str] = ""
    """Key name for ``Settings.api_key`` and the in-flight limit."""
    display: ClassVar[str] = ""
    """Provider name in messages."""
    base_url_env: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    needs_key: ClassVar[bool] = True
    self_hosted: ClassVar[bool] = False

    def __init__(self, name: str, entry: Any, context: EngineContext) -> None:
        super().__init__(name, entry, context)
        self._client: ProviderClient | None = None
        self._client_key: str | None = None

    # -- configuration --------------------------------------------------------------------------

    @property
    def key_env(self) -> str:
        """The first environment variable that holds this provider's key."""
        return KEY_ENV_VARS.get(self.provider, (self.provider.upper() + "_API_KEY",))[0]

    def api_key(self) -> str | None:
        return self.context.settings.api_key(self.provider)

    def base_url(self) -> str:
        """The server URL: entry ``base_url``, then the environment variable, then the default."""
        url = getattr(self.entry, "base_url", None) or os.environ.get(self.base_url_env or "-")
        return (url or self.default_base_url).rstrip("/")

    def custom_base_url(self) -> bool:
        """Whether the URL was set by the person (entry or environment)."""
        entry_url = getattr(self.entry, "base_url", None)
        return bool(entry_url or os.environ.get(self.base_url_env or "-"))

    def option(self, name: str, request: EngineRequest | None = None,
               default: Any = None) -> Any:
        """An engine option: this run's (``request.options``) or else the model's table."""
        options = request.options if request is not None else self.options
        value = getattr(options, name, None)
        return default if value is None else value

    @property
    def model_string(self) -> str:
        """The provider's model string (entry ``model``)."""
        return str(getattr(self.entry, "model", None) or "")

    def entry_cost(self, fallback: float | None = None) -> float | None:
        cost = getattr(self.entry, "cost_per_image", None)
        return fallback if cost is None else cost

    def entry_defaults(self) -> dict[str, Any]:
        values = {name: getattr(self.entry, name, None)
                  for name in ("steps", "guidance", "width", "height", "scheduler")}
        return {name: value for name, value in values.items() if value is not None}

    # -- availability and client ----------------------------------------------------------------

    def availability(self) -> Availability:
        """Cheap: no network. Missing key → unavailable; self-hosted servers are not probed."""
        if self.needs_key and not self.api_key():
            return Availability(False, f"needs {self.key_env}")
        if self.self_hosted:
            return Availability(True, f"server at {self.base_url()} (not checked)")
        return Availability(True)

    def require_key(self) -> str | None:
        """The key, or ``NeedsKeyError`` when this engine needs one and none is set."""
        key = self.api_key()
        if self.needs_key and not key:
            raise NeedsKeyError(f"{self.name} needs an API key", f"set {self.key_env}")
        return key

    def headers(self, key: str | None) -> dict[str, str]:
        """Request headers carrying ``key`` (override per provider)."""
        return {}

    def auth(self, key: str | None) -> tuple[str, str] | None:
        return None

    def classify(self, status: int, text: str) -> str | None:
        """Provider-specific error reasons (e.g. ``safety``); None keeps the default."""
        lowered = text.lower()
        if status in (400, 422) and any(word in lowered for word in
                                        ("safety", "moderation", "prohibited", "blocked")):
            return "safety"
        return None

    def scrubbed(self, result: GenerationResult) -> GenerationResult:
        """``result`` with every known key removed from provider text (receipt, infos, prompts).

        Engines return through this, so a hostile server that echoes a key back cannot get it
        into the database.
        """
        client = self.client()
        result.receipt = client.clean_data(result.receipt)
        if result.model_version is not None:
            result.model_version = client.clean(result.model_version)
        for image in result.images:
            image.info = client.clean_data(image.info)
            if image.revised_prompt is not None:
                image.revised_prompt = client.clean(image.revised_prompt)
        return result

    def client(self) -> ProviderClient:
        """The provider client for the current key (made again if the key changed)."""
        key = self.require_key()
        if self._client is None or self._client_key != key:
            hint = f"set {self.key_env} to a valid key"
            self._client = ProviderClient(
                self.context, self.provider, self.display, headers=self.headers(key),
                key_hint=hint, auth=self.auth(key), classify=self.classify,
                per_server=self.self_hosted,
            )
            self._client_key = key
        return self._client


def nearest_ratio(width: int, height: int, choices: dict[str, tuple[int, int]]) -> str:
    """The name in ``choices`` (name → (w, h)) whose aspect ratio is closest to ``width:height``."""
    target = math.log(width / height)
    return min(choices, key=lambda name: abs(math.log(choices[name][0] / choices[name][1])
                                             - target))


def clamp_seed(seed: int | None, limit: int = 2**31 - 1) -> int | None:
    """``seed`` folded into ``0..limit`` (providers take smaller ranges than chatimg draws)."""
    if seed is None:
        return None
    return seed % (limit + 1)
