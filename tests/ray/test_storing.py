"""Storing on the replica without Ray: which store, what travels, what a client accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from chatimg.config import StorageSection
from chatimg.engines.base import GeneratedImage, GenerationResult, ModelInfo
from chatimg.engines.ray_wire import decode_result, encode_result, store_request
from chatimg.errors import EngineRequestError
from chatimg.generation import png_parameters
from chatimg.imaging import prepare
from chatimg.rayserve.storing import same_store, storage_config, store_images
from chatimg.spec import GenerationSpec
from chatimg.store.assets import AssetStore


def test_a_replica_gets_the_store_but_never_its_keys() -> None:
    storage = StorageSection.model_validate({
        "url": "s3://bucket/team", "endpoint": "http://127.0.0.1:9000",
        "access_key_id": "AKIDEXAMPLE", "secret_access_key": "s3cr3t-value"})
    table = storage_config(storage)
    assert table is not None and table["url"] == "s3://bucket/team"
    assert "s3cr3t-value" not in repr(table) and "AKIDEXAMPLE" not in repr(table)
    assert table["cache_mb"] == 0
    assert storage_config(StorageSection()) is None
    assert storage_config(StorageSection(url="memory://x")) is None
    assert store_request("", "m", "id", None) is None
    assert store_request("memory://x", "m", "id", None) is None


def test_the_same_folder_is_the_same_store(tmp_path: Path) -> None:
    assert same_store(tmp_path.as_uri(), (tmp_path / ".").as_uri() + "/")
    assert not same_store(tmp_path.as_uri(), (tmp_path / "other").as_uri())
    assert same_store("s3://b/p/", "s3://b/p")
    assert not same_store("s3://b/p", "s3://b/q")
    assert not same_store("nope://x", "s3://b/q")


def test_a_replica_stores_the_bytes_the_client_would(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "shared")
    spec = GenerationSpec.build(prompt="a kite", seed=7)
    info = ModelInfo(name="tiny", engine="diffusers", model_id="served/tiny", version="r1")
    image = Image.new("RGB", (8, 8), (200, 10, 10))
    result = GenerationResult(images=[GeneratedImage(image=image, seed=7)])
    wanted = store_request(store.url, "ray-tiny", "client/id", "v9")
    assert wanted is not None
    done = store_images(store, (wanted["url"], wanted["png"]), info, spec.stored(), result)
    stored = done.images[0].stored
    assert stored is not None and done.images[0].image is None
    client_info = ModelInfo(name="ray-tiny", engine="ray", model_id="client/id", version="v9")
    expected = prepare(None, image, png_parameters("ray-tiny", client_info, spec, 7)).data
    assert store.read(stored.path) == expected
    # Over the wire only the hash travels; the client derives the path itself.
    back = decode_result(encode_result(done, {"replica": "r"}))
    assert back.images[0].data is None and back.images[0].stored == stored
    assert store.adopt(back.images[0].stored) == stored
    # Another store named in the request: the bytes go back instead.
    other = store_images(store, ("file:///elsewhere", wanted["png"]), info, spec.stored(),
                         result)
    assert other is result


def test_a_stored_image_with_a_bad_hash_is_refused() -> None:
    bad = {"images": [{"data": None, "seed": 1, "stored": {
        "sha256": "../../etc/passwd", "mime": "image/png", "width": 1, "height": 1,
        "bytes": 3, "path": "../../etc/passwd"}}]}
    with pytest.raises(EngineRequestError, match="cannot read"):
        decode_result(bad)
