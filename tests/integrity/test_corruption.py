"""Damaged images are found, named and repaired; nothing trusts a stored file unread."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integrity.conftest import asset_paths, dead_pid


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in (100, 101, 102, 103):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-50])


def _intact(path: Path) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == path.stem


DAMAGE: dict[str, tuple[Callable[[Path], object], str]] = {
    "flipped": (_flip, "damaged-file"),
    "truncated": (_truncate, "damaged-file"),
    "deleted": (Path.unlink, "missing-file"),
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_doctor_replay_export_and_show_name_a_damaged_image(
    cli: Any, made: dict[str, Any], tmp_path: Path, how: str
) -> None:
    damage, kind = DAMAGE[how]
    assert cli("doctor").code == 0
    victim = asset_paths(made)[1]
    damage(victim)
    report = cli("doctor", "--json")
    assert report.code == 1
    problems = json.loads(report.out)["problems"]
    assert [(p["kind"], p["subject"]) for p in problems] == [(kind, victim.stem)]
    assert problems[0]["generations"] == [made["generations"][0]["id"]]

    replayed = cli("replay", made["conversation_id"])
    assert replayed.code == 1
    assert len(replayed.err.strip().splitlines()) == 1 and victim.stem[:12] in replayed.err
    bundle = tmp_path / "out.zip"
    exported = cli("export", made["conversation_id"], "-o", str(bundle))
    assert exported.code == 1 and victim.stem[:12] in exported.err
    assert len(exported.err.strip().splitlines()) == 1
    assert not bundle.exists() and not list(tmp_path.glob(".chatimg-export-*"))
    shown = cli("show", made["conversation_id"]).out
    state = "MISSING" if how == "deleted" else "DAMAGED"
    assert f"{victim.name} [{state}" in shown

    # The image is deterministic: --repair regenerates it from its receipt.
    repaired = cli("doctor", "--repair")
    assert repaired.code == 0, repaired.out
    assert _intact(victim)
    if how != "deleted":
        aside = list((victim.parents[2] / "damaged").iterdir())
        assert [p.name.split(".png")[0] for p in aside] == [victim.stem]
    assert cli("replay", made["conversation_id"]).code == 0


def test_a_missing_asset_folder_is_found_and_regenerated(
    cli: Any, made: dict[str, Any]
) -> None:
    root = asset_paths(made)[0].parents[1]
    shutil.rmtree(root)
    report = json.loads(cli("doctor", "--json").out)
    assert sorted(p["kind"] for p in report["problems"]) == ["missing-file", "missing-file"]
    assert cli("doctor", "--repair").code == 0
    assert all(_intact(p) for p in asset_paths(made))


def test_repair_restores_a_non_deterministic_image_only_from_a_bundle(
    cli: Any, made: dict[str, Any], tmp_path: Path
) -> None:
    from chatimg.studio import Studio

    bundle = tmp_path / "backup.zip"
    assert cli("export", made["conversation_id"], "-o", str(bundle)).code == 0
    generation_id = made["generations"][0]["id"]
    studio = Studio.open()
    receipt = {**studio.get_generation(generation_id).receipt_data, "deterministic": False}
    studio.repo.update_generation(generation_id, receipt=receipt)
    studio.close()
    victim = asset_paths(made)[0]
    _flip(victim)

    without = cli("doctor", "--repair")
    assert without.code == 1 and "could not be restored" in without.out
    assert not victim.exists()  # moved aside, not deleted
    assert "missing or damaged" in cli("show", made["conversation_id"]).out

    restored = cli("doctor", "--repair", "--from-bundle", str(bundle))
    assert restored.code == 0, restored.out
    assert _intact(victim)
    assert "missing or damaged" not in cli("show", made["conversation_id"]).out


def test_generating_the_same_image_again_replaces_a_damaged_file(
    cli: Any, made: dict[str, Any]
) -> None:
    victim = asset_paths(made)[0]
    _flip(victim)
    again = cli("gen", 'a sign that says "INTACT"', "-m", "layout", "-n", "2", "--seed", "5",
                "--json")
    assert again.code == 0
    assert asset_paths(json.loads(again.out)) == asset_paths(made)
    assert _intact(victim)
    assert cli("doctor").code == 0


def test_checks_that_never_ran_are_found_and_run(cli: Any, made: dict[str, Any]) -> None:
    import sqlalchemy as sa

    from chatimg.studio import Studio

    generation_id = made["generations"][0]["id"]
    studio = Studio.open()
    with studio.db.write() as session:  # as if killed between storing the image and its checks
        session.execute(sa.text("DELETE FROM validation"))
        session.execute(sa.text("UPDATE generation SET checks_state = 'pending', owner_pid = :p")
                        .bindparams(p=dead_pid()))
    studio.close()
    report = json.loads(cli("doctor", "--json").out)
    assert [(p["kind"], p["subject"]) for p in report["problems"]] == [
        ("checks-missing", generation_id)
    ]
    assert cli("doctor", "--repair").code == 0
    shown = json.loads(cli("show", made["conversation_id"], "--json").out)
    checks = shown["messages"][0]["generations"][0]["validations"]
    assert sorted(c["name"] for c in checks) == ["blank", "blank", "size", "size"]


def test_import_replaces_a_same_size_damaged_image_with_the_bundles_copy(
    cli: Any, made: dict[str, Any], tmp_path: Path
) -> None:
    bundle = tmp_path / "share.zip"
    assert cli("export", made["conversation_id"], "-o", str(bundle)).code == 0
    victim = asset_paths(made)[0]
    size = victim.stat().st_size
    _flip(victim)  # same size, other bytes
    assert victim.stat().st_size == size and not _intact(victim)

    imported = cli("import", str(bundle), "--as-copy", "--json")

    assert imported.code == 0, imported.err
    assert _intact(victim)
    assert cli("doctor").code == 0


def test_finished_runs_leave_no_checks_for_doctor_with_or_without_validation(
    cli: Any, made: dict[str, Any]
) -> None:
    import asyncio

    import sqlalchemy as sa

    from chatimg.studio import Studio

    studio = Studio.open()
    try:  # validators are on in the config; this run is asked not to check
        asyncio.run(studio.generate('a sign that says "SKIP"', ["layout"], validate=False))
        with studio.db.write() as session:  # every writing process is gone now
            session.execute(sa.text("UPDATE generation SET owner_pid = :p")
                            .bindparams(p=dead_pid()))
    finally:
        studio.close()

    report = json.loads(cli("doctor", "--json").out)

    assert report["problems"] == []
