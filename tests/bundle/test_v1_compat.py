"""Bundles written by chatimg before issue 11's redesign (format version 1) still work.

The bundles under ``tests/bundle/data/v1/`` were made once, with the code of that time, by
``make_v1_bundles.py`` (one per engine kind, never regenerated). Each must still:

- import, on SQLite and on PostgreSQL, with every row and image;
- replay: ``identical`` for the deterministic engines (layout; the tiny diffusers pipelines
  rebuilt from their seeds too, or on a CPU whose float kernels round differently from the
  one that made them, at most one level apart in a few values), and for remote engines the same requests on the wire as when the
  bundle was made (the deterministic fake servers then answer the same bytes, so those replay
  ``identical`` too);
- re-export to a bundle whose manifest says the same as the original (export time and app
  version aside) and that imports again.
"""

from __future__ import annotations

import asyncio
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.bundle import v1_fakes

DATA = Path(__file__).resolve().parent / "data" / "v1"
KINDS = ("layout", "diffusers", "ideogram", "gemini", "imagen", "openai", "comfyui", "a1111")
REMOTE = tuple(kind for kind in KINDS if kind in v1_fakes.SERVERS)
#: Manifest members that legitimately change on re-export.
VOLATILE = ("exported_at", "app_version")

#: The config each bundle was made with (models that are not in the built-in catalog).
MODELS = {
    "layout": '[models.poster]\nengine = "layout"\ncost_per_image = 0.01\n',
    "diffusers": (
        '[diffusers]\nthreads = 1\n\n'
        '[models.tiny]\nengine = "diffusers"\nsource = "./tiny-sd"\nsteps = 2\nwidth = 32\n'
        'height = 32\nguidance = 5.0\n\n'
        '[models.tiny-up]\nengine = "diffusers"\nsource = "./tiny-up"\nsteps = 2\n'
        'guidance = 5.0\n'
    ),
    "openai": '[models.gpt-image-mini]\nengine = "openai"\nmodel = "gpt-image-1-mini"\n',
    "comfyui": (
        '[models.comfy-sd]\nengine = "comfyui"\nmodel = "v1-5-pruned.safetensors"\n\n'
        '[models.comfy-xl]\nengine = "comfyui"\nmodel = "sdxl.safetensors"\n'
    ),
    "a1111": (
        '[models.forge-sd]\nengine = "a1111"\nmodel = "dreamshaper_8.safetensors [879db523]"\n\n'
        '[models.forge-xl]\nengine = "a1111"\nmodel = "juggernaut_xl.safetensors [aa11bb22]"\n'
    ),
}


def bundle(kind: str) -> Path:
    return DATA / f"{kind}.zip"


def manifest_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        loaded: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return loaded


def content(manifest: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in manifest.items() if key not in VOLATILE}


def configure(config_file: Path, kind: str) -> None:
    config_file.write_text('[validation]\nenabled = []\n\n'
                           '[network]\nmax_retries = 0\nread_timeout = 30.0\n\n'
                           + MODELS.get(kind, ""), encoding="utf-8")


# -- the data itself ---------------------------------------------------------------------------


def test_one_version_1_bundle_per_engine_kind() -> None:
    kinds_seen: set[str] = set()
    for kind in KINDS:
        manifest = manifest_of(bundle(kind))
        assert (manifest["format"], manifest["version"]) == ("chatimg.bundle", 1)
        engines = {g["engine_kind"] for g in manifest["generations"]}
        kinds_seen |= engines
        assert len(manifest["picks"]) == 1 and manifest["validations"], kind
        per_message = [sum(g["message_id"] == m["id"] for g in manifest["generations"])
                       for m in manifest["messages"]]
        assert max(per_message) >= 2, f"{kind}: no fan-out message"
        assert b"SECRET" not in bundle(kind).read_bytes()
    assert kinds_seen >= {"layout", "diffusers", "ideogram", "google", "imagen", "openai",
                          "comfyui", "a1111"}


@pytest.mark.parametrize(("kind", "modes"), [
    ("diffusers", {"txt2img", "img2img", "inpaint", "upscale"}),
    ("ideogram", {"txt2img", "img2img", "inpaint", "upscale"}),
    ("openai", {"txt2img", "img2img", "inpaint"}),
    ("gemini", {"txt2img", "img2img"}),
    ("comfyui", {"txt2img", "img2img", "inpaint"}),
    ("a1111", {"txt2img", "img2img", "inpaint"}),
])
def test_lineage_points_at_earlier_images_of_the_thread(kind: str, modes: set[str]) -> None:
    manifest = manifest_of(bundle(kind))
    made = {image["sha256"] for g in manifest["generations"] for image in g["images"]}
    found = set()
    for g in manifest["generations"]:
        request = g["receipt"]["request"]
        mode = ("upscale" if request.get("upscale") else "inpaint" if request.get("mask_asset")
                else "img2img" if request.get("source_asset") else "txt2img")
        found.add(mode)
        if mode != "txt2img":
            assert request["source_asset"] in made
    assert found == modes


# -- import ------------------------------------------------------------------------------------


def _import(kind: str) -> tuple[Any, Any]:
    from chatimg.bundle import import_bundle
    from chatimg.studio import Studio

    studio = Studio.open()
    return studio, import_bundle(studio, bundle(kind))


def _check_imported(studio: Any, kind: str, report: Any) -> None:
    manifest = manifest_of(bundle(kind))
    assert report.bundle_version == 1
    assert report.conversation_id == manifest["conversation"]["id"]
    thread = studio.load_thread(report.conversation_id)
    generations = [g for m in thread.messages for g in m.generations]
    assert len(thread.messages) == len(manifest["messages"])
    assert sorted(g.id for g in generations) == sorted(g["id"] for g in manifest["generations"])
    assert len(thread.picks) == 1
    for g in generations:
        for asset in g.assets:
            assert Path(asset.path).is_file()


@pytest.mark.parametrize("kind", KINDS)
def test_imports_on_sqlite(kind: str, config_file: Path) -> None:
    configure(config_file, kind)
    studio, report = _import(kind)
    try:
        _check_imported(studio, kind, report)
    finally:
        studio.close()


@pytest.mark.postgres
@pytest.mark.parametrize("kind", KINDS)
def test_imports_on_postgresql(kind: str, config_file: Path, postgres_url: str,
                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from chatimg.bundle import export_conversation

    configure(config_file, kind)
    monkeypatch.setenv("CHATIMG_DATABASE_URL", postgres_url)
    studio, report = _import(kind)
    try:
        assert studio.db.backend == "postgresql"
        _check_imported(studio, kind, report)
        again = export_conversation(studio, report.conversation_id, tmp_path / "pg.zip")
    finally:
        studio.close()
    assert content(manifest_of(again)) == content(manifest_of(bundle(kind)))


# -- re-export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_reexport_has_the_same_manifest_and_imports_again(
    kind: str, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatimg.bundle import export_conversation, import_bundle
    from chatimg.studio import Studio

    configure(config_file, kind)
    studio, report = _import(kind)
    try:
        again = export_conversation(studio, report.conversation_id, tmp_path / "again.zip",
                                    verify=True)
    finally:
        studio.close()
    assert content(manifest_of(again)) == content(manifest_of(bundle(kind)))

    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "elsewhere"))
    elsewhere = Studio.open()
    try:
        imported = import_bundle(elsewhere, again)
        assert imported.generations == len(manifest_of(bundle(kind))["generations"])
    finally:
        elsewhere.close()


@pytest.mark.parametrize("kind", KINDS)
def test_reexport_writes_the_same_manifest_and_gallery_bytes(
    kind: str, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the original's export time and app version, a re-export's ``manifest.json`` and
    ``index.html`` are the bytes the bundle was made with (written by the code of that time)."""
    from datetime import datetime

    from chatimg.bundle import export

    configure(config_file, kind)
    original = manifest_of(bundle(kind))
    monkeypatch.setattr(export, "__version__", original["app_version"])
    studio, report = _import(kind)
    try:
        again = export.export_conversation(
            studio, report.conversation_id, tmp_path / "again.zip",
            exported_at=datetime.fromisoformat(original["exported_at"]))
    finally:
        studio.close()
    with zipfile.ZipFile(again) as written, zipfile.ZipFile(bundle(kind)) as made:
        for name in ("manifest.json", "index.html"):
            assert written.read(name) == made.read(name), name


# -- replay ------------------------------------------------------------------------------------


def _replay(kind: str) -> dict[str, Any]:
    from chatimg.bundle.replay import replay_target
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        report = asyncio.run(replay_target(studio, str(bundle(kind))))
    finally:
        studio.close()
    return report.as_dict()


def _statuses(report: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for result in report["results"]:
        found.setdefault(result["model"], set()).add(result["status"])
    return found


def test_layout_bundle_replays_identical(config_file: Path) -> None:
    configure(config_file, "layout")
    report = _replay("layout")
    assert _statuses(report) == {"layout": {"identical"}, "poster": {"identical"},
                                 "no-such-model": {"skipped"}}
    assert report["ok"] is True


def test_layout_1_images_replay_with_layout_1_while_new_ones_use_layout_2(
    config_file: Path,
) -> None:
    """The typesetter (``layout-2``) draws new images; a receipt naming ``layout-1`` runs the
    renderer it names, so the images of version-1 bundles still replay byte for byte."""
    from chatimg.engines.layout import VERSION
    from chatimg.studio import Studio

    configure(config_file, "layout")
    report = _replay("layout")
    replayed = [r for r in report["results"] if r["status"] != "skipped"]
    assert len(replayed) == 5 and {r["status"] for r in replayed} == {"identical"}
    assert VERSION != "1"
    from chatimg.bundle import import_bundle

    studio = Studio.open()
    try:
        imported = import_bundle(studio, bundle("layout"))
        thread = studio.load_thread(imported.conversation_id)
        old = next(g for m in thread.messages for g in m.generations if g.status == "succeeded"
                   and g.model_version == "layout-1")
        again = asyncio.run(studio.generate(old.spec.prompt, [old.model], old.ran,
                                            validate=False)).generations[0]
        assert again.model_version == f"layout-{VERSION}"
        assert again.assets[0].sha256 != old.assets[0].sha256
    finally:
        studio.close()


@pytest.mark.slow
def test_diffusers_bundle_replays_identical(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tiny pipelines rebuilt from their seeds, at ./tiny-sd and ./tiny-up as recorded.

    Each image replays byte for byte, or, on a CPU other than the one the bundle was made on
    (its float kernels may round differently), ``near`` and at most one level apart in a few
    values; and every replay on this machine gives the same bytes."""
    import chatimg.bundle.replay as replay_module
    from tests.tiny_diffusers import (
        build_tiny_sd_pipeline,
        build_tiny_upscaler_pipeline,
        save_pipeline,
    )

    save_pipeline(build_tiny_sd_pipeline(), tmp_path / "tiny-sd")
    save_pipeline(build_tiny_upscaler_pipeline(), tmp_path / "tiny-up")
    monkeypatch.chdir(tmp_path)
    configure(config_file, "diffusers")
    manifest = manifest_of(bundle("diffusers"))
    threads = {g["receipt"]["engine"]["replay"]["torch_threads"]
               for g in manifest["generations"] if g["engine_kind"] == "diffusers"}
    assert threads == {1}, "the bundle was made with one torch thread"
    compared: list[tuple[bytes, bytes]] = []  # (stored, replayed) of each image not identical
    compare_images = replay_module.compare_images

    def comparing(stored: bytes, replayed: bytes) -> Any:
        compared.append((stored, replayed))
        return compare_images(stored, replayed)

    monkeypatch.setattr(replay_module, "compare_images", comparing)
    report = _replay("diffusers")
    statuses = _statuses(report)
    assert statuses["tiny"] <= {"identical", "near"}
    assert statuses["tiny-up"] <= {"identical", "near"}
    tiny = [r for r in report["results"] if r["model"] in ("tiny", "tiny-up")]
    assert len(tiny) == 5
    assert len(compared) == sum(r["status"] == "near" for r in tiny)
    for stored, replayed in compared:
        assert _last_level_apart(stored, replayed)
    again = _replay("diffusers")
    assert [r["replay_sha256"] for r in again["results"]] == \
        [r["replay_sha256"] for r in report["results"]]
    # The fan-out's layout image: see test_layout_bundle_replays_identical.
    assert set(statuses) == {"tiny", "tiny-up", "layout"}
    assert statuses["layout"] == {"identical"}


def _last_level_apart(stored: bytes, replayed: bytes) -> bool:
    """Whether two encoded images of the same size differ by at most one level (of 255) in
    any value, in at most 1 value in 1,000: float rounding, not a different image."""
    import io

    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(stored)) as a, Image.open(io.BytesIO(replayed)) as b:
        if a.size != b.size:
            return False
        first = np.asarray(a.convert("RGB"), dtype=np.int16)
        second = np.asarray(b.convert("RGB"), dtype=np.int16)
    apart = np.abs(first - second)
    return int(apart.max()) <= 1 and int(np.count_nonzero(apart)) * 1000 <= apart.size


def _key(request: dict[str, Any]) -> str:
    return json.dumps(request, sort_keys=True)


@pytest.mark.parametrize("kind", REMOTE)
def test_remote_bundle_replays_the_same_wire_requests(
    kind: str, config_file: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(config_file, kind)
    server = v1_fakes.serve(kind)
    try:
        for name, value in v1_fakes.environment(server).items():
            monkeypatch.setenv(name, value)
        report = _replay(kind)
        sent = v1_fakes.generation_requests(server)
    finally:
        server.stop()
    recorded = json.loads((DATA / f"{kind}.wire.json").read_text(encoding="utf-8"))
    # Fan-out requests went out concurrently when the bundle was made: compare as multisets.
    assert sorted(map(_key, sent)) == sorted(map(_key, recorded))
    stored = manifest_of(bundle(kind))["generations"]
    identical = [r for r in report["results"] if r["status"] == "identical"]
    assert len(identical) == sum(len(g["images"]) for g in stored), report["results"]
    # An image the provider withheld both times (Imagen's safety filter) is no failure.
    others = [r for r in report["results"] if r["status"] != "identical"]
    assert all(r["status"] == "non-deterministic" and r["stored_sha256"] is None
               and r["replay_sha256"] is None for r in others), others
    assert report["ok"] is True
    assert os.environ.get("CHATIMG_DATABASE_URL") is None


def test_format_1_request_extra_becomes_engine_options() -> None:
    """Format 1 kept a run's engine options (quality, speed, ...) in ``request.extra`` beside
    routing hints and validation input; only the options reach the engine on replay."""
    from chatimg.spec import Receipt

    openai = next(g for g in manifest_of(bundle("openai"))["generations"]
                  if g["resolved_model"] == "gpt-image-mini")
    assert openai["receipt"]["request"]["extra"] == {"quality": "high"}
    receipt = Receipt.from_stored({
        **openai["receipt"],
        "request": {**openai["receipt"]["request"], "extra": {
            "quality": "high", "preset": "draft", "budget": 0.1, "expected_text": "FOX",
            "torch_threads": 2}},
    })
    assert receipt is not None
    assert receipt.options == {"quality": "high", "threads": 2}
