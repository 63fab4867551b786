"""Bundles move between SQLite and PostgreSQL homes unchanged, and refusals touch neither."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chatimg import paths
from chatimg.domain import to_jsonable
from chatimg.errors import BundleInvalidError


def _thread(studio: Any, cid: str) -> Any:
    text = json.dumps(to_jsonable(studio.load_thread(cid)))
    return json.loads(text.replace(str(studio.assets.root) + "/", ""))


def _manifest(bundle: Path) -> dict[str, Any]:
    with zipfile.ZipFile(bundle) as archive:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    manifest.pop("exported_at")
    return manifest


def _counts(studio: Any) -> dict[str, int]:
    import sqlalchemy as sa

    tables = ("conversation", "message", "generation", "asset", "generation_asset",
              "validation", "pick")
    with studio.db.read() as session:
        return {t: session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in tables}


@pytest.mark.postgres
def test_sqlite_to_postgresql_and_back(
    made_thread: tuple[str, Path], postgres_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatimg.bundle import export_conversation, import_bundle
    from chatimg.studio import Studio

    cid, from_sqlite = made_thread
    studio = Studio.open()
    try:
        original = _thread(studio, cid)
    finally:
        studio.close()

    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "pg-home"))
    monkeypatch.setenv("CHATIMG_DATABASE_URL", postgres_url)
    studio = Studio.open()
    try:
        assert studio.db.backend == "postgresql"
        import_bundle(studio, from_sqlite)
        assert _thread(studio, cid) == original
        from_postgres = export_conversation(studio, cid, tmp_path / "from-pg.zip")
        # A refusal on PostgreSQL changes nothing either.
        before, files = _counts(studio), sorted(paths.assets_dir().rglob("*"))
        with pytest.raises(BundleInvalidError, match="already exists"):
            import_bundle(studio, from_postgres)
        assert _counts(studio) == before and sorted(paths.assets_dir().rglob("*")) == files
    finally:
        studio.close()
    assert _manifest(from_postgres) == _manifest(from_sqlite)

    monkeypatch.delenv("CHATIMG_DATABASE_URL")
    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "sqlite-again"))
    studio = Studio.open()
    try:
        import_bundle(studio, from_postgres)
        assert _thread(studio, cid) == original
    finally:
        studio.close()
