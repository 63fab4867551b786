"""The manifest looks for credential-like member names only where names come from data, and
finds exactly what a scan of its whole text finds."""

from __future__ import annotations

import copy
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chatimg.bundle.manifest import _may_name_credentials, build_manifest
from chatimg.redaction import may_name_credentials
from chatimg.store.bundle_values import RawJSON

DATA = Path(__file__).resolve().parent / "data" / "v1"
WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _dump(kind: str) -> dict[str, Any]:
    """A fixture bundle's manifest in the shape ``Repository.bundles.dump`` returns."""
    with zipfile.ZipFile(DATA / f"{kind}.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    for g in manifest["generations"]:
        g["receipt"] = RawJSON(json.dumps(g["receipt"]))
    for asset in manifest["assets"]:
        asset["store_path"] = asset.pop("path")
    return {key: manifest[key] for key in ("conversation", "messages", "generations", "assets",
                                          "validations", "picks")}


def _places(dump: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """``dump`` with a member called ``name`` put in each place a name can come from data."""
    out = []
    for where in ("message params", "generation params", "receipt", "check details"):
        changed = copy.deepcopy(dump)
        if where == "message params":
            changed["messages"][-1]["params"] = {"extra": [{name: "v-123"}]}
        elif where == "generation params":
            changed["generations"][0]["params"] = {**changed["generations"][0]["params"],
                                                   name: "v-123"}
        elif where == "receipt":
            receipt = json.loads(changed["generations"][-1]["receipt"])
            receipt["engine"] = {"headers": {name: "v-123"}}
            changed["generations"][-1]["receipt"] = RawJSON(json.dumps(receipt))
        else:
            changed["validations"][0]["details"] = {"nested": {name: "v-123"}}
        out.append(changed)
    return out


@pytest.mark.parametrize("kind", ["layout", "ideogram", "comfyui"])
@pytest.mark.parametrize("name", ["api_key", "X-Goog-Api-Key", "Pass Phrase", "monkey",
                                  "seed", "café"])
def test_names_are_found_where_a_whole_text_scan_finds_them(kind: str, name: str) -> None:
    credential = name in ("api_key", "X-Goog-Api-Key", "Pass Phrase")
    for dump in [_dump(kind), *_places(_dump(kind), name)]:
        manifest, text = build_manifest(dump, app_version="9", exported_at=WHEN)
        assert _may_name_credentials(manifest) == may_name_credentials(text)
        placed = "v-123" in json.dumps(dump)
        assert ("v-123" in text) == (placed and not credential)

def test_a_credential_name_in_every_place_is_hidden() -> None:
    for dump in _places(_dump("layout"), "client_secret"):
        _, text = build_manifest(dump, app_version="9", exported_at=WHEN)
        assert "v-123" not in text and '"client_secret": "***"' in text
