"""The asset store's object backends (memory:// and a real S3 server): keys, dedup, cache, links,
bad urls, secrets, and corrupted blobs (never shown or exported as good)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx
import obstore
import pytest
from click.testing import CliRunner
from PIL import Image

from chatimg.cli import cli
from chatimg.config import StorageSection, load_settings
from chatimg.errors import ConfigError, StoreError
from chatimg.spec import GenerationSpec
from chatimg.store.assets import AssetStore
from chatimg.store.backends import open_asset_store
from chatimg.store.objects import ObjectAssetStore, object_key
from chatimg.studio import Studio


def png(colour: tuple[int, int, int], size: tuple[int, int] = (48, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(params=["memory", "s3"])
def object_store(request: pytest.FixtureRequest, home: Path) -> ObjectAssetStore:
    url = ("memory://" + request.node.originalname if request.param == "memory"
           else str(request.getfixturevalue("s3_url")))
    store = open_asset_store(StorageSection(url=url, path_style=True))
    assert isinstance(store, ObjectAssetStore)
    return store


def _keys(store: ObjectAssetStore) -> list[str]:
    return sorted(str(meta["path"]) for batch in obstore.list(store.store) for meta in batch)


def test_blobs_are_content_addressed_and_stored_once(object_store: ObjectAssetStore) -> None:
    red = png((255, 0, 0))
    first = object_store.put(red)
    again = object_store.put(red)
    object_store.put(png((0, 0, 255)))
    assert first == again
    sha = hashlib.sha256(red).hexdigest()
    assert first.sha256 == sha and first.path == f"{sha[:2]}/{sha}.png"
    assert object_key(sha) in _keys(object_store)
    assert all(key.startswith("sha256/") for key in _keys(object_store))
    assert len(_keys(object_store)) == 2
    assert object_store.put_blob(first.path, red) is False  # already there: deduplicated
    assert object_store.read(first.path) == red


def test_reads_fall_back_to_the_store_when_the_cache_is_empty(
    object_store: ObjectAssetStore,
) -> None:
    data = png((0, 200, 0))
    stored = object_store.put(data)
    cached = object_store.root / stored.path
    cached.unlink()
    assert object_store.read(stored.path) == data
    assert cached.read_bytes() == data  # fetched once, then local
    cached.write_bytes(b"rot" + data[3:])  # the local copy rots: fetched again, not trusted
    assert object_store.local_path(stored.path).read_bytes() == data


def test_the_cache_stays_under_its_cap(home: Path) -> None:
    store = open_asset_store(StorageSection(url="memory://cap", cache_mb=0))
    assert isinstance(store, ObjectAssetStore)
    store.cache_bytes = 3 * len(png((1, 1, 1)))
    images = [png((i, 0, 0)) for i in range(10)]
    stored = [store.put(image) for image in images]
    held = sum(p.stat().st_size for p in store.root.rglob("*.png"))
    assert 0 < held <= store.cache_bytes
    assert [store.read(s.path) for s in stored] == images  # evicted ones come back remote


def test_a_corrupted_blob_is_never_read_as_good(object_store: ObjectAssetStore) -> None:
    data = png((9, 9, 9))
    stored = object_store.put(data)
    (object_store.root / stored.path).unlink()
    obstore.put(object_store.store, object_key(stored.sha256), b"X" + data[1:])
    with pytest.raises(StoreError, match="corrupted"):
        object_store.read(stored.path)
    assert object_store.prefetch([stored.path]) == {stored.path: "damaged"}
    assert not (object_store.root / stored.path).exists()
    from obstore.store import S3Store

    if isinstance(object_store.store, S3Store):  # its MD5 ETag tells the bytes changed
        object_store.put(data)  # storing the image again puts the good bytes back
        (object_store.root / stored.path).unlink()
        assert object_store.read(stored.path) == data


def test_unknown_schemes_and_missing_buckets_are_one_line_errors(home: Path) -> None:
    with pytest.raises(ConfigError, match="unknown scheme"):
        open_asset_store(StorageSection(url="ftp://host/x"))
    with pytest.raises(ConfigError, match="no bucket"):
        open_asset_store(StorageSection(url="s3:///prefix"))
    store = open_asset_store(StorageSection(url=""))
    assert type(store) is AssetStore and store.root == home / "data" / "assets"


def test_signed_links_fetch_the_image(s3_url: str, home: Path) -> None:
    store = open_asset_store(StorageSection(url=s3_url, path_style=True))
    data = png((1, 100, 200))
    stored = store.put(data)
    url = store.sign_url(stored.path, timedelta(minutes=5))
    assert url is not None and url.startswith("http://127.0.0.1:")
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200 and response.content == data
    assert AssetStore(home / "x").sign_url(stored.path, timedelta(minutes=5)) is None


def _studio_on(url: str, config_file: Path) -> Studio:
    config_file.write_text(f'[validation]\nenabled = []\n\n[storage]\nurl = "{url}"\n'
                           'path_style = true\n', encoding="utf-8")
    return Studio.open(load_settings())


def test_generated_images_live_in_s3_and_a_second_home_sees_them(
    s3_url: str, config_file: Path, home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    studio = _studio_on(s3_url, config_file)
    outcome = asyncio.run(studio.generate('a sign that says "S3"', ["layout"],
                                          GenerationSpec.build(seed=3, width=96, height=64),
                                          validate=False))
    asset = outcome.generations[0].assets[0]
    conversation = outcome.message.conversation_id
    assert not (home / "data" / "assets").exists()  # nothing in the file store
    database = studio.settings.database_url or f"sqlite:///{home / 'data' / 'chatimg.db'}"
    studio.close()
    # Another person's home: same database and bucket, empty cache.
    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "other"))
    monkeypatch.setenv("CHATIMG_DATABASE_URL", database)
    monkeypatch.setenv("CHATIMG_CONFIG", str(tmp_path / "other.toml"))
    other = _studio_on(s3_url, tmp_path / "other.toml")
    shown = other.load_thread(conversation).messages[0].generations[0].assets[0]
    assert shown.state is None
    assert Path(shown.path).is_relative_to(tmp_path / "other" / "cache")
    assert hashlib.sha256(Path(shown.path).read_bytes()).hexdigest() == asset.sha256
    other.close()


def test_a_corrupted_blob_is_marked_damaged_and_refused_by_export(
    s3_url: str, config_file: Path, home: Path, tmp_path: Path,
) -> None:
    from chatimg.bundle.export import export_conversation

    studio = _studio_on(s3_url, config_file)
    outcome = asyncio.run(studio.generate('a sign that says "ROT"', ["layout"],
                                          GenerationSpec.build(seed=4, width=96, height=64),
                                          validate=False))
    asset = outcome.generations[0].assets[0]
    assert isinstance(studio.assets, ObjectAssetStore)
    Path(asset.path).unlink()  # not in this machine's cache
    obstore.put(studio.assets.store, object_key(asset.sha256), b"changed bytes")
    thread = studio.load_thread(outcome.message.conversation_id)
    assert thread.messages[0].generations[0].assets[0].state == "damaged"
    assert not Path(asset.path).exists()
    with pytest.raises(StoreError, match="damaged"):
        export_conversation(studio, outcome.message.conversation_id, tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()
    studio.close()
    shown = CliRunner().invoke(cli, ["show", outcome.message.conversation_id])
    assert "[DAMAGED: run chatimg doctor]" in shown.output, shown.output


def test_bundle_import_uploads_only_missing_blobs(
    s3_url: str, config_file: Path, home: Path, tmp_path: Path,
) -> None:
    from chatimg.bundle.export import export_conversation
    from chatimg.bundle.importer import import_bundle

    studio = _studio_on(s3_url, config_file)
    outcome = asyncio.run(studio.generate('a sign that says "TWO"', ["layout"],
                                          GenerationSpec.build(seed=5, width=64, height=64,
                                                               count=2), validate=False))
    bundle = export_conversation(studio, outcome.message.conversation_id, tmp_path / "b.zip")
    with zipfile.ZipFile(bundle) as archive:
        assert sum(name.startswith("assets/") for name in archive.namelist()) == 2
    assert isinstance(studio.assets, ObjectAssetStore)
    gone = outcome.generations[0].assets[1]
    studio.assets.delete_blob(AssetStore.relative_path(gone.sha256, gone.mime))
    report = import_bundle(studio, bundle, as_copy=True)
    assert report.new_files == 1  # the other one was already in the bucket
    assert studio.assets.read(AssetStore.relative_path(gone.sha256, gone.mime))
    studio.close()
