"""The bundle manifest: build it from a thread, parse and check one read from a bundle.

``manifest.json`` describes a whole conversation (messages with their branches, generations with
their receipts, assets, validations and picks). Its JSON Schema ships next to this module as
``manifest.schema.json``; ``chatimg.bundle.model`` is the same contract as typed Python objects.
Every check here raises ``BundleInvalidError`` with one line.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from chatimg.errors import BundleInvalidError
from chatimg.ids import is_valid_id
from chatimg.redaction import may_name_credentials, redact_json
from chatimg.store.assets import MIME_EXTENSIONS
from chatimg.store.bundle_rows import FIELDS, JSON_MEMBERS
from chatimg.store.bundle_values import RawJSON

FORMAT = "chatimg.bundle"
#: The newest bundle version this chatimg reads and the one it writes.
VERSION = 1
MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.html"
SCHEMA_FILE = Path(__file__).with_name("manifest.schema.json")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The manifest's JSON Schema (shipped in the package)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def asset_entry_name(sha256: str, mime: str) -> str:
    """Where an asset lives inside the zip: ``assets/<sha256>.<ext>``."""
    return f"assets/{sha256}.{MIME_EXTENSIONS.get(mime, 'bin')}"


def _with_raw_receipts(manifest: dict[str, Any]) -> tuple[dict[str, Any], Callable[[str], str]]:
    """Receipts kept as JSON text (``RawJSON``) swapped for placeholders, and a function that
    puts the texts back into the serialized manifest.

    The placeholders are one random string serialized in the order of ``generations``, so the
    texts go back by splitting the serialized manifest at it, in that order.
    """
    raws: list[str] = []
    placeholder = f"@raw-{os.urandom(8).hex()}@"
    generations = []
    for g in manifest.get("generations", ()):
        receipt = g.get("receipt")
        if isinstance(receipt, RawJSON):
            raws.append(receipt)
            g = {**g, "receipt": placeholder}
        generations.append(g)
    if not raws:
        return manifest, lambda text: text

    def splice(text: str) -> str:
        pieces = text.split(f'"{placeholder}"')
        joined = [pieces[0]]
        for raw, piece in zip(raws, pieces[1:], strict=True):
            joined += (raw, piece)
        return "".join(joined)

    return {**manifest, "generations": generations}, splice


#: An asset's members after ``sha256`` (``path`` goes between).
_ASSET_REST = tuple(key for key in FIELDS["asset"] if key != "sha256")


def _asset_entries(assets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entries = []
    for asset in assets:
        sha = asset["sha256"]
        entry = {"sha256": sha, "path": asset_entry_name(sha, asset["mime"])}
        for key in _ASSET_REST:
            entry[key] = asset[key]
        entries.append(entry)
    return entries


def _may_name_credentials(manifest: dict[str, Any]) -> bool:
    """``may_name_credentials`` of the manifest's JSON text, from the parts that hold its
    member names: the names of the manifest and of its rows (checked as they are), and the
    JSON documents of the rows (``JSON_MEMBERS``: params, receipts, check details), which
    are the only members holding objects. Scanning these instead of the whole text finds the
    same names in about a third of the text (the rows' values are most of it)."""
    rows = {
        "conversation": [manifest["conversation"]], "message": manifest["messages"],
        "generation": manifest["generations"],
        "image": [image for g in manifest["generations"] for image in g["images"]],
        "asset": manifest["assets"], "validation": manifest["validations"],
        "pick": manifest["picks"],
    }
    names = set(manifest)
    documents: list[Any] = []
    for kind, items in rows.items():
        names.update(*items)
        for key in JSON_MEMBERS[kind]:
            documents += [item[key] for item in items if key in item]
    raw = [document for document in documents if isinstance(document, RawJSON)]
    parsed = [document for document in documents if not isinstance(document, RawJSON)]
    return may_name_credentials("\n".join([
        json.dumps(dict.fromkeys(names, 0), ensure_ascii=False),
        json.dumps(parsed, ensure_ascii=False, check_circular=False), *raw]))


def build_manifest(
    dump: dict[str, Any],
    *,
    app_version: str,
    exported_at: datetime,
    secrets: Iterable[str] = (),
) -> tuple[dict[str, Any], str]:
    """The manifest of a conversation, as a dict and as JSON text, with secrets hidden.

    Args:
        dump: The conversation's rows, from ``Repository.bundles.dump``.
        app_version: chatimg's version.
        exported_at: When the export ran.
        secrets: Key values to hide wherever they might appear (receipts, errors, params);
            credential-named members are hidden too (``chatimg.redaction``).

    Returns:
        A JSON-ready dict that validates against ``schema()``, and its JSON text. Receipts
        may stay ``RawJSON`` text in the dict when nothing in the manifest had to be hidden.
    """
    aware = exported_at if exported_at.tzinfo else exported_at.replace(tzinfo=UTC)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "app_version": app_version,
        "exported_at": aware.isoformat(),
        "conversation": dump["conversation"],
        "messages": dump["messages"],
        "generations": dump["generations"],
        "assets": _asset_entries(dump["assets"]),
        "validations": dump["validations"],
        "picks": dump["picks"],
    }
    placeheld, splice = _with_raw_receipts(manifest)
    value, text = redact_json(placeheld, secrets, splice=splice,
                              named=_may_name_credentials(manifest))
    return (manifest if value is placeheld else value), text


# -- reading ---------------------------------------------------------------------------------


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_manifest(data: bytes) -> dict[str, Any]:
    """Decode ``manifest.json`` and check format, version, schema and every reference.

    Raises:
        BundleInvalidError: With one line saying what is wrong.
    """
    try:
        text = data.decode("utf-8")
        value = json.loads(text, parse_float=_finite_float, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise BundleInvalidError(f"manifest.json is not valid JSON: {reason}") from None
    if not isinstance(value, dict):
        raise BundleInvalidError("manifest.json is not a JSON object")
    if value.get("format") != FORMAT:
        raise BundleInvalidError(
            "manifest.json does not describe a chatimg bundle (format is not 'chatimg.bundle')"
        )
    version = value.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise BundleInvalidError(
            f"this bundle needs chatimg that reads bundle version {version}"
            f" (this chatimg reads version {VERSION})",
            "upgrade chatimg, then import it again",
        )
    check_schema(value)
    check_text(value)
    check_references(value)
    return value


def check_schema(manifest: dict[str, Any]) -> None:
    """Validate against the shipped JSON Schema; raise with the most relevant error."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(manifest))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        reason = " ".join(error.message.split())
        if len(reason) > 160:
            reason = reason[:157] + "..."
        raise BundleInvalidError(f"manifest.json fails the bundle schema at {where}: {reason}")


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_text(manifest: dict[str, Any]) -> None:
    """Refuse text a database cannot store (NUL characters, unpaired surrogates)."""
    for text in _strings(manifest):
        if "\x00" in text:
            raise BundleInvalidError("manifest.json contains a NUL character in a string")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BundleInvalidError("manifest.json contains invalid unicode text") from None


def parse_time(text: str, where: str) -> datetime:
    """An ISO timestamp from the manifest, timezone-aware."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        reason = f"manifest.json: {where} is not a valid time: {text[:40]}"
        raise BundleInvalidError(reason) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _refuse(reason: str) -> NoReturn:
    raise BundleInvalidError(f"manifest.json: {reason}")


def _acyclic(parents: dict[str, str | None], what: str) -> list[str]:
    """Ids ordered so every parent comes before its children; refuse cycles."""
    order: list[str] = []
    state: dict[str, int] = {}
    for start in parents:
        path: list[str] = []
        node: str | None = start
        while node is not None and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parents.get(node)
        if node is not None and state.get(node) == 1:
            _refuse(f"{what} references form a cycle at {node}")
        for item in reversed(path):
            state[item] = 2
            order.append(item)
    return order


def check_references(manifest: dict[str, Any]) -> None:
    """Every id well-formed and unique, every reference pointing inside the bundle."""
    conv = manifest["conversation"]
    conversation_id = conv["id"]
    if not is_valid_id(conversation_id):
        _refuse(f"bad conversation id {conversation_id!r}")
    for key in ("created_at", "updated_at"):
        parse_time(conv[key], f"conversation {key}")
    parse_time(manifest["exported_at"], "exported_at")

    def unique(ids: list[str], what: str) -> set[str]:
        seen: set[str] = set()
        for item in ids:
            if not is_valid_id(item):
                _refuse(f"bad {what} id {item!r}")
            if item in seen:
                _refuse(f"duplicate {what} id {item}")
            seen.add(item)
        return seen

    messages = manifest["messages"]
    message_ids = unique([m["id"] for m in messages], "message")
    for m in messages:
        if m["conversation_id"] != conversation_id:
            _refuse(f"message {m['id']} belongs to another conversation")
        if m["parent_id"] is not None and m["parent_id"] not in message_ids:
            _refuse(f"message {m['id']} has an unknown parent")
        parse_time(m["created_at"], f"message {m['id']} created_at")
    _acyclic({m["id"]: m["parent_id"] for m in messages}, "message parent")

    assets = manifest["assets"]
    hashes: set[str] = set()
    for asset in assets:
        sha = asset["sha256"]
        if sha in hashes:
            _refuse(f"asset {sha[:12]} is listed twice")
        hashes.add(sha)
        if asset["path"] != asset_entry_name(sha, asset["mime"]):
            _refuse(f"asset {sha[:12]} has path {asset['path']!r}")

    generations = manifest["generations"]
    generation_ids = unique([g["id"] for g in generations], "generation")
    for g in generations:
        gid = g["id"]
        if g["message_id"] not in message_ids:
            _refuse(f"generation {gid} has an unknown message")
        if g["fallback_of"] is not None and g["fallback_of"] not in generation_ids:
            _refuse(f"generation {gid} is a fallback of an unknown generation")
        for key in ("queued_at", "started_at", "finished_at"):
            if g[key] is not None:
                parse_time(g[key], f"generation {gid} {key}")
        indexes = [image["index"] for image in g["images"]]
        if len(set(indexes)) != len(indexes):
            _refuse(f"generation {gid} repeats an image index")
        for image in g["images"]:
            if image["sha256"] not in hashes:
                _refuse(f"generation {gid} uses an asset that is not in the bundle")
        for holder in (g["params"], g["receipt"].get("request")):
            if not isinstance(holder, dict):
                continue
            for key in ("source_asset", "mask_asset"):
                ref = holder.get(key)
                if ref is not None and ref not in hashes:
                    _refuse(f"generation {gid} {key} is not in the bundle")
    _acyclic({g["id"]: g["fallback_of"] for g in generations}, "generation fallback")

    for check in manifest["validations"]:
        if check["asset_sha256"] not in hashes:
            _refuse("a validation refers to an asset that is not in the bundle")
        if check["generation_id"] is not None and check["generation_id"] not in generation_ids:
            _refuse("a validation refers to an unknown generation")

    picks = manifest["picks"]
    unique([p["id"] for p in picks], "pick")
    for p in picks:
        if p["conversation_id"] != conversation_id:
            _refuse(f"pick {p['id']} belongs to another conversation")
        if any(gid not in generation_ids for gid in p["generation_ids"]):
            _refuse(f"pick {p['id']} compares an unknown generation")
        if p["winner_id"] not in p["generation_ids"]:
            _refuse(f"pick {p['id']} winner is not one of its generations")
        images = p.get("images")
        if images is not None and len(images) != len(p["generation_ids"]):
            _refuse(f"pick {p['id']} gives {len(images)} image indexes for "
                    f"{len(p['generation_ids'])} generations")
        shown = images if images is not None else [0] * len(p["generation_ids"])
        if (p["winner_id"], p.get("winner_image") or 0) not in zip(p["generation_ids"], shown,
                                                                   strict=True):
            _refuse(f"pick {p['id']} winner is not one of its images")
        parse_time(p["created_at"], f"pick {p['id']} created_at")


def message_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages with every parent before its children (safe insertion order)."""
    by_id = {m["id"]: m for m in manifest["messages"]}
    order = _acyclic({m["id"]: m["parent_id"] for m in by_id.values()}, "message parent")
    return [by_id[i] for i in order]


def generation_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Generations with every failed attempt before its fallback."""
    by_id = {g["id"]: g for g in manifest["generations"]}
    order = _acyclic({g["id"]: g["fallback_of"] for g in by_id.values()}, "generation fallback")
    return [by_id[i] for i in order]
