"""``chatimg ray serve``: serve the configured diffusers models on Ray Serve."""

from __future__ import annotations

import time

import click


@click.group()
def ray() -> None:
    """Local diffusers models on Ray Serve (needs `pip install 'chatimg[ray]'`)."""


@ray.command()
@click.option("--address", default=None, help="Join this Ray cluster (`auto`, ray://HOST:10001); "
              "default: [ray] address, else start a local Ray.")
@click.option("--host", default=None, help="Listen here (default: [ray] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="HTTP port (default: [ray] port, 8000).")
@click.option("--num-cpus", type=click.IntRange(min=1), default=None,
              help="CPUs of a local Ray started here.")
def serve(address: str | None, host: str | None, port: int | None,
          num_cpus: int | None) -> None:
    """Deploy every diffusers model of the config (or [ray] models) and serve until Ctrl+C.

    Clients add `[models.NAME] engine = "ray"`, `url = "<printed URL>"`, `model = "NAME"` and
    the same CHATIMG_RAY_TOKEN. The endpoint listens on 127.0.0.1 unless --host says otherwise.
    """
    from chatimg.config import load_settings
    from chatimg.rayserve.app import served_models
    from chatimg.rayserve.server import start, stop

    settings = load_settings()
    url = start(settings, address=address, host=host, port=port, num_cpus=num_cpus)
    models = served_models(settings)
    click.echo(f"serving {len(models)} models at {url}: {', '.join(sorted(models))}")
    click.echo("requests need the bearer token from CHATIMG_RAY_TOKEN; Ctrl+C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop()
