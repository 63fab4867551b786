"""chatimg's Ray Serve application: an ingress that checks the token, and one deployment per
family of diffusers models whose replicas run the local diffusers engine.

Ray is imported only inside the functions here (the package imports without it). Each family
deployment multiplexes its models (``serve.multiplexed``): a request names its model in the
``serve_multiplexed_model_id`` header, so Serve sends it to a replica that already holds that
model, and a replica keeps ``[ray] models_per_replica`` models (least recently used first out).
Replicas ask for ``[ray] num_gpus`` and ``num_cpus`` and scale between ``min_replicas`` and
``max_replicas``.

With one family (the default) its deployment is the ingress itself; with several, a gateway
deployment routes each request to its model's family. The ingress compares a SHA-256 of the
bearer token with the digest it was given, so the token itself never enters Ray's deployment
config, logs or dashboards.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from chatimg.engines.ray_wire import encode_error
from chatimg.errors import ConfigError, InvalidRequestError

if TYPE_CHECKING:
    from chatimg.config import Settings

#: The Serve application's name.
APP_NAME = "chatimg"
#: The deployment of models that no ``[ray] families`` entry names.
DEFAULT_FAMILY = "diffusers"
#: Seconds between heartbeat events while a replica loads or runs without progress.
HEARTBEAT_SECONDS = 5.0

#: A hook awaited in the replica before each run, with the model's name (tests gate on it).
BeforeRun = Callable[[str], Awaitable[None]]


def token_digest(token: str) -> str:
    """What the ingress keeps of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def served_models(settings: Settings) -> dict[str, str]:
    """Model name → family (deployment) for the models the app serves.

    Raises:
        ConfigError: a listed model is not a ``diffusers`` model of the config, or none is.
    """
    names = settings.ray.models
    if names is None:
        names = [name for name, entry in settings.models.items() if entry.engine == "diffusers"]
    family_of = {model: family for family, members in settings.ray.families.items()
                 for model in members}
    chosen: dict[str, str] = {}
    for name in [*names, *family_of]:
        entry = settings.models.get(name)
        if entry is None or entry.engine != "diffusers":
            raise ConfigError(f"[ray] names {name!r}, which is not a diffusers model",
                              "serve models whose table says engine = \"diffusers\"")
        chosen[name] = family_of.get(name, DEFAULT_FAMILY)
    if not chosen:
        raise ConfigError("no diffusers model to serve",
                          "add a [models.NAME] table with engine = \"diffusers\"")
    return chosen


def replica_config(settings: Settings) -> dict[str, Any]:
    """The settings a replica needs (models, diffusers, limits, the shared asset store's
    url and options: never keys)."""
    from chatimg.rayserve.storing import storage_config

    return {"models": {name: entry.model_dump(exclude_none=True)
                       for name, entry in settings.models.items()
                       if entry.engine == "diffusers"},
            "diffusers": settings.diffusers.model_dump(),
            "limits": settings.limits.model_dump(),
            "storage": storage_config(settings.storage)}


def build_app(settings: Settings, token: str, *, before_run: BeforeRun | None = None) -> Any:
    """The Serve application (``serve.run`` it).

    Args:
        settings: The configuration (``[ray]`` and the diffusers models).
        token: The bearer token clients must send.
        before_run: Awaited in the replica before each run (tests).

    Raises:
        ConfigError: nothing to serve, or a bad ``[ray]`` table.
    """
    from ray import serve

    from chatimg.rayserve.deployments import gateway_class, replica_class

    ray_settings = settings.ray
    if ray_settings.min_replicas > ray_settings.max_replicas:
        raise ConfigError("[ray] min_replicas is larger than max_replicas")
    families = served_models(settings)
    config = replica_config(settings)
    scaling: dict[str, Any]
    if ray_settings.min_replicas == ray_settings.max_replicas:
        scaling = {"num_replicas": ray_settings.max_replicas}
    else:
        scaling = {"autoscaling_config": {"min_replicas": ray_settings.min_replicas,
                                          "max_replicas": ray_settings.max_replicas}}
    replica = replica_class(ray_settings.models_per_replica)
    handles = {}
    lone = len(set(families.values())) == 1
    for family in sorted(set(families.values())):
        members = sorted(m for m, f in families.items() if f == family)
        handles[family] = serve.deployment(
            name=f"family-{family}",
            ray_actor_options={"num_gpus": ray_settings.num_gpus,
                               "num_cpus": ray_settings.num_cpus},
            max_ongoing_requests=4, **scaling,
        )(replica).bind(config, members, family, before_run,
                        token_digest(token) if lone else None)
    if lone:  # one family: its replicas answer HTTP themselves (one hop less per request)
        return next(iter(handles.values()))
    gateway = serve.deployment(name="gateway", ray_actor_options={"num_cpus": 0})(
        gateway_class())
    return gateway.bind(token_digest(token), families, handles, config)


def check_token(header: str | None, digest: str) -> bool:
    """Whether an ``Authorization`` header carries the token with this digest."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(token_digest(given.strip()), digest)


async def with_heartbeats(events: AsyncIterator[Any], every: float = HEARTBEAT_SECONDS
                          ) -> AsyncIterator[Any]:
    """``events``, with ``{"alive": True}`` whenever none came for ``every`` seconds."""
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield {"alive": True}
                continue
            task, pending = pending, None
            try:
                item = task.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()


def ndjson(event: dict[str, Any]) -> bytes:
    return (json.dumps(event, separators=(",", ":")) + "\n").encode()


def request_error(message: str) -> dict[str, Any]:
    return {"error": encode_error(InvalidRequestError(message))}

