"""``chatimg storage migrate|verify|gc`` and ``chatimg share --link`` against a real S3 server."""

from __future__ import annotations

import hashlib
import io
import os
import time
import tomllib
from pathlib import Path

import httpx
import obstore
import pytest
from PIL import Image

from chatimg.cli import main
from chatimg.config import StorageSection
from chatimg.store.backends import open_asset_store
from chatimg.store.objects import ObjectAssetStore, object_key


def noise_png(seed: int, size: int = 24) -> bytes:
    pixels = (hashlib.sha256(str(seed).encode()).digest() * (size * size * 3 // 32 + 1))
    image = Image.frombytes("RGB", (size, size), pixels[: size * size * 3])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``chatimg ARGS`` in this process: (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def fill_file_store(count: int) -> dict[str, bytes]:
    """``count`` images stored with their rows in this home's (file) store; sha → bytes."""
    from chatimg.studio import Studio

    studio = Studio.open()
    stored = {}
    for seed in range(count):
        data = noise_png(seed)
        stored[studio.store_image_bytes(data).sha256] = data
    studio.close()
    return stored


def file_snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_migrate_copies_verifies_and_switches_the_config(
    s3_url: str, home: Path, config_file: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    images = fill_file_store(12)
    before = file_snapshot(home / "data" / "assets")
    code, out, err = run(capsys, "storage", "migrate", "--to", s3_url)
    assert code == 0, err
    assert "12 images: 12 copied, 0 already there, 12 verified" in out
    assert "copying images" in err  # the progress bar
    assert tomllib.loads(config_file.read_text())["storage"]["url"] == s3_url
    assert file_snapshot(home / "data" / "assets") == before  # the source is untouched
    store = open_asset_store(StorageSection(url=s3_url, path_style=True))
    assert isinstance(store, ObjectAssetStore)
    assert {b.sha256 for b in store.blobs()} == set(images)
    code, out, _ = run(capsys, "storage", "verify", "-q")
    assert code == 0 and "12 images checked, 0 problems" in out
    # Run again: nothing left to copy.
    code, out, err = run(capsys, "storage", "migrate", "--to", s3_url, "-q")
    assert code == 1 and "already in" in err
    # And back to a folder.
    back = home / "back"
    code, out, err = run(capsys, "storage", "migrate", "--to", back.as_uri(), "-q")
    assert code == 0, err
    assert "12 images: 12 copied, 0 already there, 12 verified" in out
    assert {p.name.split(".")[0]: p.read_bytes() for p in back.rglob("*.png")} == images


def test_verify_lists_missing_and_corrupted_blobs(
    s3_url: str, home: Path, config_file: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    images = sorted(fill_file_store(4))
    assert run(capsys, "storage", "migrate", "--to", s3_url, "-q")[0] == 0
    store = open_asset_store(StorageSection(url=s3_url, path_style=True))
    assert isinstance(store, ObjectAssetStore)
    obstore.put(store.store, object_key(images[0]), b"flipped bytes")
    obstore.delete(store.store, object_key(images[1]))
    code, out, err = run(capsys, "storage", "verify", "-q")
    assert code == 1
    assert f"damaged: {images[0]}" in out and f"missing: {images[1]}" in out
    assert "4 images checked, 2 problems" in err
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in out + err


def test_gc_sweeps_only_old_unreferenced_blobs(
    home: Path, config_file: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from chatimg.store.assets import AssetStore

    kept = fill_file_store(2)
    store = AssetStore(home / "data" / "assets")
    old_orphan = store.put(noise_png(100))
    young_orphan = store.put(noise_png(101))
    week_ago = time.time() - 8 * 86400
    for relative in [old_orphan.path, *(AssetStore.relative_path(s, "image/png") for s in kept)]:
        os.utime(store.path_of(relative), (week_ago, week_ago))
    code, out, _ = run(capsys, "storage", "gc", "--older-than", "7d", "--dry-run")
    assert code == 0 and "4 blobs, 2 unreferenced (1 within 7d); would remove 1" in out
    assert store.path_of(old_orphan.path).exists()
    code, out, _ = run(capsys, "storage", "gc", "--older-than", "7d")
    assert code == 0 and "removed 1" in out
    assert not store.path_of(old_orphan.path).exists()
    assert store.path_of(young_orphan.path).exists()
    assert all(store.holds(AssetStore.relative_path(s, "image/png"), s, len(d))
               for s, d in kept.items())
    code, _, err = run(capsys, "storage", "gc", "--older-than", "10m")
    assert code == 1 and "at least 1h" in err


def test_share_prints_links_that_serve_the_images(
    s3_url: str, home: Path, config_file: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    config_file.write_text(f'[validation]\nenabled = []\n[storage]\nurl = "{s3_url}"\n')
    code, out, err = run(capsys, "gen", 'a sign that says "LINK"', "-m", "layout", "-q",
                         "--seed", "2")
    assert code == 0, err
    code, out, err = run(capsys, "ls", "--json")
    import json

    conversation = json.loads(out)[0]["id"]
    code, out, err = run(capsys, "share", conversation, "--link", "--ttl", "1h")
    assert code == 0, err
    (label, bundle_url), (sha, url) = (line.split() for line in out.splitlines())
    body = httpx.get(url, timeout=30).content
    assert label == "bundle" and hashlib.sha256(body).hexdigest().startswith(sha)
    import zipfile

    with zipfile.ZipFile(io.BytesIO(httpx.get(bundle_url, timeout=30).content)) as bundle:
        assert {"manifest.json", "index.html"} <= set(bundle.namelist())
        assert any(sha in name for name in bundle.namelist())
    code, _, err = run(capsys, "share", conversation, "--link", "--ttl", "30d")
    assert code == 1 and "at most 7d" in err


def test_share_on_files_says_links_need_an_object_store(
    home: Path, config_file: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    config_file.write_text('[validation]\nenabled = []\n')
    assert run(capsys, "gen", 'a sign that says "NO"', "-m", "layout", "-q")[0] == 0
    import json

    conversation = json.loads(run(capsys, "ls", "--json")[1])[0]["id"]
    code, _, err = run(capsys, "share", conversation, "--link")
    assert code == 1 and err.count("\n") == 1 and "cannot make links" in err
