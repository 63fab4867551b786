"""Acceptance 3 (property): a mutated manifest is refused cleanly or imported completely.

Hypothesis mutates a real manifest (replaces values with arbitrary JSON, deletes keys, drops or
duplicates list items, points references at other ids) and imports the result. Either the
import raises a one-line ``ChatImgError`` and the database and asset store are unchanged, or
the whole thread is there: every message, generation, image file, check and pick.
"""

from __future__ import annotations

import copy
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatimg.errors import ChatImgError
from tests.bundle.conftest import snapshot

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=6,
)


def _ids(manifest: dict[str, Any]) -> list[str]:
    found = [manifest["conversation"]["id"]]
    for key in ("messages", "generations", "picks"):
        found.extend(item["id"] for item in manifest[key])
    return found


@st.composite
def mutated(draw: st.DrawFn, manifest: dict[str, Any]) -> dict[str, Any]:
    value = copy.deepcopy(manifest)
    ids = _ids(manifest)
    for _ in range(draw(st.integers(1, 3))):
        parent: Any = None
        key: Any = None
        node: Any = value
        while isinstance(node, dict | list) and node and (parent is None or draw(st.booleans())):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            key = draw(st.sampled_from(keys))
            parent, node = node, node[key]
        if parent is None:
            continue
        operation = draw(st.sampled_from(["replace", "delete", "other-id", "duplicate", "same"]))
        if operation == "replace":
            parent[key] = draw(_JSON)
        elif operation == "other-id":
            parent[key] = draw(st.sampled_from(ids))
        elif operation == "delete":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif operation == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return value


def _write(entries: dict[str, bytes], manifest: dict[str, Any], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, data in entries.items():
            if name != "manifest.json":
                archive.writestr(name, data)
    return path


def _complete(studio: Any, report: Any, manifest: dict[str, Any]) -> None:
    thread = studio.load_thread(report.conversation_id)
    generations = [g for m in thread.messages for g in m.generations]
    assert thread.conversation.title == manifest["conversation"]["title"]
    assert len(thread.messages) == len(manifest["messages"])
    assert sorted(m.text for m in thread.messages) == sorted(m["text"] for m in manifest["messages"])
    assert len(generations) == len(manifest["generations"])
    assert sum(len(g.assets) for g in generations) == sum(
        len(g["images"]) for g in manifest["generations"])
    assert sum(len(g.validations) for g in generations) == len(
        [v for v in manifest["validations"] if v["generation_id"] is not None])
    assert len(thread.picks) == len(manifest["picks"])
    for generation in generations:
        for asset in generation.assets:
            data = Path(asset.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == asset.sha256


@pytest.mark.slow
def test_mutated_manifests_are_refused_cleanly_or_imported_completely(
    made_thread: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatimg.bundle import import_bundle
    from chatimg.studio import Studio

    _, good = made_thread
    with zipfile.ZipFile(good) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    original = json.loads(entries["manifest.json"])
    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "fuzz-home"))
    studio = Studio.open()
    outcomes: dict[str, int] = {"imported": 0, "refused": 0}
    counter = iter(range(10**6))

    @settings(max_examples=80, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(manifest=mutated(original), as_copy=st.booleans())
    def check(manifest: dict[str, Any], as_copy: bool) -> None:
        bundle = _write(entries, manifest, tmp_path / f"fuzz-{next(counter)}.zip")
        before = snapshot()
        try:
            report = import_bundle(studio, bundle, as_copy=as_copy)
        except ChatImgError as exc:
            assert "\n" not in exc.one_line()
            assert snapshot() == before
            outcomes["refused"] += 1
            return
        _complete(studio, report, manifest)
        outcomes["imported"] += 1

    try:
        check()
        # The unmutated manifest imports completely too (the fuzz home started empty).
        _complete(studio, import_bundle(studio, good, as_copy=True), original)
    finally:
        studio.close()
    assert outcomes["refused"] > 0
