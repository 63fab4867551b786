"""Acceptance 1: export → import into an empty home → the same thread, byte for byte.

Also: re-import is refused without duplicates, ``--as-copy`` makes a copy with new ids, and no
secret (env or config ``[keys]``) ever enters a bundle.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chatimg import paths
from chatimg.studio import Studio
from tests.bundle.conftest import CONFIG_SECRET, ENV_SECRET, build_thread, write_config

_ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")


def _normalised(show_json: str, assets_root: Path) -> Any:
    """``chatimg show --json`` with absolute asset paths made relative to the asset store."""
    text = show_json.replace(str(assets_root) + "/", "")
    return json.loads(text)


def _ids_renamed(value: Any) -> Any:
    """Every id replaced by its order of first appearance (to compare copies)."""
    seen: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"ID{len(seen)}")

    return json.loads(_ULID.sub(rename, json.dumps(value)))


def _asset_files(thread: Any) -> dict[str, bytes]:
    found = {}
    for message in thread["messages"]:
        for generation in message["generations"]:
            for asset in generation["assets"]:
                found[asset["sha256"]] = Path(asset["path"]).read_bytes()
    return found


@pytest.mark.slow
async def test_round_trip_into_an_empty_home(
    cli: Any, config_file: Path, tiny_sd_path: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_config(config_file, tiny_sd_path)
    monkeypatch.setenv("OPENAI_API_KEY", ENV_SECRET)
    studio = Studio.open()
    try:
        cid = await build_thread(studio, with_tiny=True)
    finally:
        await studio.aclose()
    original = cli("show", cid, "--json")
    assert original.code == 0, original.err
    before = json.loads(original.out)
    engines = {g["engine_kind"] for m in before["messages"] for g in m["generations"]}
    assert {"layout", "diffusers"} <= engines
    statuses = {g["status"] for m in before["messages"] for g in m["generations"]}
    assert {"succeeded", "failed"} <= statuses
    assert any(m["parent_id"] for m in before["messages"])
    assert before["picks"] and any(g["validations"] for m in before["messages"]
                                   for g in m["generations"])
    first_assets = paths.assets_dir()
    bundle = tmp_path / "thread.zip"
    exported = cli("export", cid, "-o", str(bundle))
    assert exported.code == 0, exported.err
    assert exported.out.strip() == str(bundle)

    # An empty second home: nothing there but what the bundle brings.
    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "second"))
    assert not paths.assets_dir().exists()
    imported = cli("import", str(bundle), "--json")
    assert imported.code == 0, imported.err
    report = json.loads(imported.out)
    assert report["conversation_id"] == cid and report["as_copy"] is False
    copy = cli("show", cid, "--json")
    assert copy.code == 0, copy.err
    assert _normalised(copy.out, paths.assets_dir()) == _normalised(original.out, first_assets)
    theirs, ours = _asset_files(before), _asset_files(json.loads(copy.out))
    assert theirs.keys() == ours.keys() and len(ours) >= 5
    assert all(theirs[sha] == ours[sha] for sha in ours)

    # The same bundle again: refused, nothing duplicated.
    again = cli("import", str(bundle))
    assert again.code == 1
    assert f"conversation {cid} already exists" in again.err
    assert len(again.err.strip().splitlines()) == 1
    listed = json.loads(cli("ls", "--json").out)
    assert [c["id"] for c in listed] == [cid]

    # --as-copy: new ids for everything, the same thread otherwise.
    copied = cli("import", str(bundle), "--as-copy", "--json")
    assert copied.code == 0, copied.err
    new_id = json.loads(copied.out)["conversation_id"]
    assert new_id != cid
    duplicate = json.loads(cli("show", new_id, "--json").out)
    old_ids = set(_ULID.findall(original.out))
    assert not old_ids & set(_ULID.findall(json.dumps(duplicate)))
    assert _ids_renamed(duplicate) == _ids_renamed(json.loads(copy.out))


async def test_no_secret_enters_a_bundle(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatimg.bundle import export_conversation

    write_config(config_file, None)
    monkeypatch.setenv("OPENAI_API_KEY", ENV_SECRET)
    studio = Studio.open()
    try:
        assert {ENV_SECRET, CONFIG_SECRET} <= set(studio.settings.secret_values())
        cid = await build_thread(studio)
        # A careless engine: keys in a receipt, an error text, and message params.
        generation = studio.load_thread(cid).messages[0].generations[0]
        studio.repo.update_generation(
            generation.id,
            receipt={**generation.receipt_data, "engine": {
                "url": f"https://api.example/v1?key={ENV_SECRET}",
                "headers": {"Authorization": f"Bearer {CONFIG_SECRET}", "Api-Key": "x1"},
            }},
            error=f"provider said: bad key {CONFIG_SECRET}",
        )
        studio.add_message(cid, f"note with {ENV_SECRET}", role="note",
                           params={"api_key": "plain-value-77"})
        bundle = export_conversation(studio, cid, tmp_path / "secret.zip")
    finally:
        studio.close()
    raw = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as archive:
        contents = [archive.read(name) for name in archive.namelist()]
    for blob in [raw, *contents]:
        for secret in (ENV_SECRET, CONFIG_SECRET, "plain-value-77"):
            assert secret.encode() not in blob
    manifest = json.loads(contents[0])
    assert "***" in json.dumps(manifest)


@pytest.mark.parametrize("name", ["Authorization", "api_key", "X-Goog-Api-Key", "x-api-key",
                                  "access_token", "Pass-Phrase", "pass word", "Set-Cookie",
                                  "client_secret", "bearer"])
def test_credential_named_members_are_hidden_anywhere(name: str) -> None:
    from chatimg.redaction import redact

    value: dict[str, Any] = {"id": "01M8KEY0000000000000000000", "receipt": {"engine": [{name: "v-123"}]},
             "keys": 3, "monkey": "banana", "text": "a key, a token"}
    hidden = redact(value, [])
    assert hidden["receipt"]["engine"][0][name] == "***"
    assert {k: hidden[k] for k in ("id", "keys", "monkey", "text")} == {
        k: value[k] for k in ("id", "keys", "monkey", "text")}
