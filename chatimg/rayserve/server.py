"""Start chatimg's Serve app on a local Ray or an existing cluster (``chatimg ray serve``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatimg.errors import ConfigError, EngineUnavailableError
from chatimg.rayserve.app import APP_NAME, BeforeRun, build_app, served_models

if TYPE_CHECKING:
    from chatimg.config import Settings


def require_token(settings: Settings) -> str:
    """The app's bearer token.

    Raises:
        ConfigError: no token is set (the app never runs without one).
    """
    token = settings.api_key("ray")
    if not token or len(token) < 16:
        raise ConfigError("chatimg ray serve needs a token of 16 characters or more",
                          "set CHATIMG_RAY_TOKEN (or [keys] ray) on the server and its clients")
    return token


def start(settings: Settings, *, address: str | None = None, host: str | None = None,
          port: int | None = None, num_cpus: int | None = None,
          before_run: BeforeRun | None = None) -> str:
    """Deploy the app (starting a local Ray unless one is running or ``address`` is given).

    Args:
        settings: The configuration; ``[ray]`` gives the defaults of the other arguments.
        address: A Ray cluster to join (``auto``, ``ray://host:10001``).
        host: Where the HTTP endpoint listens (default ``[ray] host``, 127.0.0.1).
        port: Its port (default ``[ray] port``).
        num_cpus: CPUs of a local Ray started here.
        before_run: Awaited in the replica before each run (tests).

    Returns:
        The URL clients put in ``[models.NAME] url``.

    Raises:
        ConfigError: no token, nothing to serve, a bad ``[ray]`` table.
        EngineUnavailableError: Ray is not installed (``pip install 'chatimg[ray]'``).
    """
    token = require_token(settings)
    served_models(settings)
    try:
        import ray
        from ray import serve
    except ImportError:
        raise EngineUnavailableError("Ray is not installed",
                                     "pip install 'chatimg[ray]'") from None
    host = host or settings.ray.host
    port = port or settings.ray.port
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address or settings.ray.address:
            options["address"] = address or settings.ray.address
        else:
            options["num_cpus"] = num_cpus
        ray.init(**options)
    serve.start(http_options={"host": host, "port": port})
    serve.run(build_app(settings, token, before_run=before_run), name=APP_NAME,
              route_prefix=settings.ray.route_prefix)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{port}{settings.ray.route_prefix}"


def stop() -> None:
    """Remove the app and stop Serve (the Ray cluster stays)."""
    from ray import serve

    serve.shutdown()  # type: ignore[no-untyped-call]
