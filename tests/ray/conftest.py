"""One local Ray (``ray.init(num_cpus=2)``) and one chatimg Serve app for the whole session,
serving two tiny random-weight pipelines. Test modules here mark themselves ``RAY_TESTS``:
the ``ray`` marker and one xdist group, so one worker runs them all on one Ray."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ray.gate import GATE_NAME, NAMESPACE, Gate
from tests.tiny_diffusers import build_tiny_sd_pipeline, save_pipeline

TOKEN = "ray-test-token-0123456789abcdef"
SIZE = {"steps": 2, "width": 64, "height": 64, "guidance": 5.0}
#: ``pytestmark`` of every Ray test module.
RAY_TESTS = [pytest.mark.ray, pytest.mark.xdist_group("ray"), pytest.mark.timeout(300)]


@dataclass(frozen=True)
class ServedApp:
    """The running app: its URL and port, the gate its replicas pass, the pipeline folders."""

    url: str
    port: int
    gate: Any
    folders: dict[str, Path]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def ray_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """Ray on 2 CPUs, the Serve app on 127.0.0.1 with ``tiny-a`` and ``tiny-b`` (one replica
    that holds both); torn down at the end of the session."""
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
    settings = Settings.model_validate({
        "models": {name: {"engine": "diffusers", "source": str(folder), **SIZE}
                   for name, folder in folders.items()},
        "diffusers": {"threads": 1},
        "ray": {"port": port, "num_cpus": 0, "models_per_replica": 2},
        "keys": {"ray": TOKEN},
    })
    ray.cloudpickle.register_pickle_by_value(gate_module)  # type: ignore[no-untyped-call]
    ray.init(num_cpus=2, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False)
    try:
        gate = ray.remote(num_cpus=0)(Gate).options(name=GATE_NAME).remote()
        url = start(settings, before_run=gate_module.before_run)
        yield ServedApp(url, port, gate, folders)
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
