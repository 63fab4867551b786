"""The typed manifest model, the shipped JSON Schema and the store's field list say the same."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest

from chatimg.bundle.manifest import schema
from chatimg.bundle.model import PARTS, Manifest
from chatimg.store.bundle_rows import FIELDS, OPTIONAL_MEMBERS

DATA = Path(__file__).resolve().parent / "data" / "v1"
#: Members the manifest derives from other rows (not columns of the object's own table).
DERIVED = {"generation": {"images"}, "asset": {"path"}}


def _schema_objects() -> dict[str, dict[str, Any]]:
    top = schema()["properties"]
    generation = top["generations"]["items"]
    return {
        "conversation": top["conversation"], "message": top["messages"]["items"],
        "generation": generation, "image": generation["properties"]["images"]["items"],
        "asset": top["assets"]["items"], "validation": top["validations"]["items"],
        "pick": top["picks"]["items"],
    }


@pytest.mark.parametrize("kind", sorted(PARTS))
def test_same_members_in_model_schema_and_store(kind: str) -> None:
    fields = set(PARTS[kind].model_fields)
    optional = OPTIONAL_MEMBERS.get(kind, frozenset())
    shipped = _schema_objects()[kind]
    assert set(shipped["properties"]) == fields
    assert set(shipped["required"]) == fields - optional
    assert {name for name, field in PARTS[kind].model_fields.items()
            if not field.is_required()} == optional
    assert set(FIELDS[kind]) == fields - DERIVED.get(kind, set())


def test_top_level_matches() -> None:
    top = schema()
    assert set(top["properties"]) == set(top["required"]) == set(Manifest.model_fields)


def _manifest(kind: str) -> dict[str, Any]:
    with zipfile.ZipFile(DATA / f"{kind}.zip") as archive:
        loaded: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return loaded


@pytest.mark.parametrize("kind", ["layout", "diffusers", "ideogram", "comfyui"])
def test_real_manifests_read_as_typed_objects(kind: str) -> None:
    manifest = Manifest.model_validate(_manifest(kind))
    assert manifest.version == 1
    assert manifest.picks[0].winner_id in manifest.picks[0].generation_ids
    assert {g.id for g in manifest.generations} >= set(manifest.picks[0].generation_ids)


#: Replacement values: each type, each limit of the schema and one step past it.
_SHA = "ab" * 32
_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 1.5, -0.5, 1e15, 1e16, -1e16, 2**63 - 1, 2**63, -(2**63),
    -(2**63) - 1, 65535, 65536, 100000, 100001, 2147483647, 2147483648, "", "x", "a" * 20,
    "a" * 21, "a" * 50, "a" * 51, "a" * 100, "a" * 101, "a" * 200, "a" * 201, "a" * 500,
    "a" * 501, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAU"[:25],
    "01arz3ndektsv4rrffq69g5fav", _SHA, _SHA.upper(), _SHA[:63], "2026-11-30T09:00:00+00:00",
    "2026-11-30T09:00:00.1234567Z", "2026-11-30 09:00:00", "2026-11-30T09:00:00Z",
    f"assets/{_SHA}.png", f"assets/{_SHA}.bmp", "image/png", "image/bmp", "succeeded",
    "done", "chatimg.bundle", [], [None], ["01ARZ3NDEKTSV4RRFFQ69G5FAV"], {}, {"a": 1}, "1",
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member and item path, not descending into free-form objects."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*prefix, key))
            if key not in ("params", "receipt", "details"):
                found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found.append((*prefix, index))
            found.extend(_paths(item, (*prefix, index)))
    return found


def _agree(validator: Any, manifest: dict[str, Any]) -> tuple[bool, bool]:
    by_schema = validator.is_valid(manifest)
    try:
        Manifest.model_validate(manifest)
        by_model = True
    except pydantic.ValidationError:
        by_model = False
    return by_schema, by_model


@pytest.mark.parametrize("kind", ["layout", "ideogram"])
def test_model_and_schema_agree_on_altered_manifests(kind: str) -> None:
    """Hundreds of one-member changes: the schema accepts exactly what the model accepts."""
    validator = jsonschema.Draft202012Validator(schema())
    base = _manifest(kind)
    assert _agree(validator, base) == (True, True)
    rng = random.Random(f"manifest-model-{kind}")
    paths = _paths(base)
    accepted = rejected = 0
    for _ in range(600):
        path = rng.choice(paths)
        manifest = json.loads(json.dumps(base))
        holder: Any = manifest
        for step in path[:-1]:
            holder = holder[step]
        action = rng.random()
        if action < 0.08 and isinstance(holder, dict):
            del holder[path[-1]]
        elif action < 0.12 and isinstance(holder, dict):
            holder["extra_member"] = rng.choice(_VALUES)
        else:
            holder[path[-1]] = rng.choice(_VALUES)
        by_schema, by_model = _agree(validator, manifest)
        assert by_schema == by_model, (path, holder.get(path[-1]) if isinstance(holder, dict)
                                       else holder[path[-1]])
        accepted += by_schema
        rejected += not by_schema
    assert accepted > 20 and rejected > 200  # both verdicts were exercised
