"""Bundles carry which image won a comparison; picks of first images export as before."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chatimg.spec import GenerationSpec
from chatimg.studio import Studio


def _picks(bundle: Path) -> list[dict[str, Any]]:
    with zipfile.ZipFile(bundle) as archive:
        picks: list[dict[str, Any]] = json.loads(archive.read("manifest.json"))["picks"]
    return picks


async def test_an_image_pick_survives_export_and_import(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatimg.bundle import export_conversation, import_bundle

    studio = Studio.open()
    try:
        outcome = await studio.generate('"FOUR"', ["layout"], GenerationSpec.build(
            seed=3, count=4, width=64, height=64), validate=False)
        (grid,) = outcome.generations
        cid = outcome.message.conversation_id
        single = await studio.generate('"ONE"', ["layout"], GenerationSpec.build(
            seed=5, width=64, height=64), conversation_id=cid, validate=False)
        (one,) = single.generations
        first_images = studio.add_pick([grid.id, one.id], one.id, "me")
        third = studio.add_pick([grid.id, one.id], grid.id, "me", winner_image=2,
                                images=[2, 0])
        bundle = export_conversation(studio, cid, tmp_path / "picks.zip")
    finally:
        studio.close()
    exported = {pick["id"]: pick for pick in _picks(bundle)}
    # first images: the same members as every bundle written before image picks
    assert set(exported[first_images.id]) == {"id", "conversation_id", "generation_ids",
                                              "winner_id", "picked_by", "created_at"}
    assert (exported[third.id]["winner_image"], exported[third.id]["images"]) == (2, [2, 0])
    assert "#3" in zipfile.ZipFile(bundle).read("index.html").decode()  # the gallery says so

    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "second"))
    studio = Studio.open()
    try:
        import_bundle(studio, bundle)
        picks = {pick.id: pick for pick in studio.load_thread(cid).picks}
    finally:
        studio.close()
    assert (picks[third.id].winner_image, picks[third.id].images) == (2, (2, 0))
    assert (picks[first_images.id].winner_image, picks[first_images.id].images) == (0, ())


def test_a_pick_naming_an_image_it_did_not_compare_is_refused(
        made_thread: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest check: ``images`` lines up with ``generation_ids`` and holds the winner."""
    from chatimg.bundle import import_bundle
    from chatimg.errors import BundleInvalidError

    _, bundle = made_thread
    with zipfile.ZipFile(bundle) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(entries["manifest.json"])
    pick = manifest["picks"][0]
    for images, winner_image, reason in (([0], 0, "image indexes"),
                                         ([1] * len(pick["generation_ids"]), 0, "its images")):
        pick["images"], pick["winner_image"] = images, winner_image
        entries["manifest.json"] = json.dumps(manifest).encode()
        broken = tmp_path / f"broken-{reason[:3]}.zip"
        with zipfile.ZipFile(broken, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / f"home-{reason[:3]}"))
        studio = Studio.open()
        try:
            with pytest.raises(BundleInvalidError, match=reason):
                import_bundle(studio, broken)
        finally:
            studio.close()
