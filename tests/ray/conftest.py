"""One local Ray (``ray.init(num_cpus=2)``) and one chatimg Serve app for the whole session,
serving two tiny random-weight pipelines. Test modules here mark themselves ``RAY_TESTS``:
the ``ray`` marker and one xdist group, so one worker runs them all on one Ray."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.ray.gate import GATE_NAME, NAMESPACE, Gate
from tests.s3server import S3Server
from tests.tiny_diffusers import build_tiny_sd_pipeline, save_pipeline

TOKEN = "ray-test-token-0123456789abcdef"
SIZE = {"steps": 2, "width": 64, "height": 64, "guidance": 5.0}
#: ``pytestmark`` of every Ray test module.
RAY_TESTS = [pytest.mark.ray, pytest.mark.xdist_group("ray"), pytest.mark.timeout(300)]


@dataclass(frozen=True)
class ServedApp:
    """The running app: its URL and port, the gate its replicas pass, the pipeline folders, and
    the shared asset store its replicas write to (an ``s3://`` prefix on the session's
    SeaweedFS; None where no ``weed`` binary is installed)."""

    url: str
    port: int
    gate: Any
    folders: dict[str, Path]
    store_url: str | None = None
    store_env: dict[str, str] = field(default_factory=dict)


def _shared_store(request: pytest.FixtureRequest) -> tuple[str | None, dict[str, str]]:
    """The session's SeaweedFS as the replicas' shared store (skipped without ``weed``)."""
    try:
        server: S3Server = request.getfixturevalue("s3_server")
    except pytest.skip.Exception:
        return None, {}
    return f"s3://{server.bucket}/ray-{uuid.uuid4().hex[:12]}", server.env()


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` while Ray starts (its workers inherit them), then gone."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def ray_app(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
            ) -> Iterator[ServedApp]:
    """Ray on 2 CPUs, the Serve app on 127.0.0.1 with ``tiny-a`` and ``tiny-b`` (one replica
    that holds both), its replicas configured with a shared S3 store (credentials from their
    environment); torn down at the end of the session."""
    pytest.importorskip("ray")
    import ray
    import ray.cloudpickle

    import tests.ray.gate as gate_module
    from chatimg.config import Settings
    from chatimg.rayserve.server import start, stop

    root = tmp_path_factory.mktemp("ray-models")
    folders = {name: save_pipeline(build_tiny_sd_pipeline(seed=seed), root / name)
               for name, seed in (("tiny-a", 0), ("tiny-b", 1))}
    port = _free_port()
    store_url, store_env = _shared_store(request)
    storage = {} if store_url is None else {"storage": {"url": store_url, "path_style": True}}
    settings = Settings.model_validate({
        **storage,
        "models": {name: {"engine": "diffusers", "source": str(folder), **SIZE}
                   for name, folder in folders.items()},
        "diffusers": {"threads": 1},
        "ray": {"port": port, "num_cpus": 0, "models_per_replica": 2},
        "keys": {"ray": TOKEN},
    })
    ray.cloudpickle.register_pickle_by_value(gate_module)  # type: ignore[no-untyped-call]
    with _environment(store_env):
        ray.init(num_cpus=2, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False)
    try:
        gate = ray.remote(num_cpus=0)(Gate).options(name=GATE_NAME).remote()
        url = start(settings, before_run=gate_module.before_run)
        yield ServedApp(url, port, gate, folders, store_url, store_env)
    finally:
        try:
            stop()
        finally:
            ray.shutdown()


@pytest.fixture
async def ray_studio(ray_app: ServedApp, home: Path, monkeypatch: pytest.MonkeyPatch
                     ) -> AsyncIterator[Any]:
    """A Studio with ``local-a`` (diffusers, in this process) and ``ray-a``/``ray-b`` (served)."""
    from chatimg.config import load_settings
    from chatimg.studio import Studio

    monkeypatch.setenv("CHATIMG_RAY_TOKEN", TOKEN)
    settings = load_settings(
        models={"local-a": {"engine": "diffusers", "source": str(ray_app.folders["tiny-a"]),
                            **SIZE},
                "ray-a": {"engine": "ray", "url": ray_app.url, "model": "tiny-a", **SIZE},
                "ray-b": {"engine": "ray", "url": ray_app.url, "model": "tiny-b", **SIZE}},
        diffusers={"threads": 1}, validation={"enabled": []},
        network={"read_timeout": 60.0, "max_retries": 4, "max_retry_seconds": 60.0})
    studio = Studio.open(settings)
    try:
        yield studio
    finally:
        await studio.aclose()
