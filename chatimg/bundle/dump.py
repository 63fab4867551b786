"""Read one conversation's rows for export, in one read transaction, as plain dicts.

Export needs every column of every row of a thread but none of the ORM machinery, so this reads
the tables with Core selects (several times faster than building domain records for a
thousand-image thread). The result already has the manifest's shape, except that receipts (the
largest JSON values) stay as the JSON text the database holds (``RawJSON``), to be spliced into
the manifest text without decoding and encoding them again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from chatimg.bundle.manifest import asset_entry_name
from chatimg.errors import NotFoundError
from chatimg.store.tables import (
    AssetRow,
    ConversationRow,
    GenerationAssetRow,
    GenerationRow,
    MessageRow,
    PickRow,
    ValidationRow,
)

if TYPE_CHECKING:
    from chatimg.store.database import Database

_CHUNK = 500


class RawJSON(str):
    """A JSON document kept as text (valid JSON, as the database stored it)."""

    def parsed(self) -> Any:
        return json.loads(self)


def iso(value: datetime | str | None) -> str | None:
    """A stored time as ISO 8601 with its UTC offset (stored times are UTC).

    Accepts the driver's raw value too (SQLite hands back ``YYYY-MM-DD HH:MM:SS.ffffff``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return f"{value[:10]}T{value[11:]}+00:00"  # SQLite's own layout, stored in UTC
        value = datetime.fromisoformat(value)
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat()


def _undecoded(table: sa.Table, names: tuple[str, ...]) -> list[Any]:
    """The named columns, with times and JSON left as the driver returns them: decoding them
    here (``iso``, ``_json``) skips SQLAlchemy's per-value processing, the bulk of the cost."""
    columns: list[Any] = []
    for name in names:
        column = table.c[name]
        if isinstance(column.type, sa.DateTime | sa.JSON):
            columns.append(sa.type_coerce(column, sa.String).label(column.name))
        else:
            columns.append(column)
    return columns


def _json(value: Any) -> Any:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def dump_conversation(database: Database, conversation_id: str) -> dict[str, Any]:
    """Every row of a conversation: conversation, messages, generations (with their images),
    asset rows (outputs, then source and mask images), validations and picks.

    Raises:
        NotFoundError: No such conversation.
    """
    conv_t = ConversationRow.__table__  # type: ignore[attr-defined]
    msg_t = MessageRow.__table__  # type: ignore[attr-defined]
    gen_t = GenerationRow.__table__  # type: ignore[attr-defined]
    link_t = GenerationAssetRow.__table__  # type: ignore[attr-defined]
    asset_t = AssetRow.__table__  # type: ignore[attr-defined]
    check_t = ValidationRow.__table__  # type: ignore[attr-defined]
    pick_t = PickRow.__table__  # type: ignore[attr-defined]
    with database.read() as session:
        conv = session.execute(sa.select(conv_t).where(conv_t.c.id == conversation_id)).first()
        if conv is None:
            raise NotFoundError(
                f"no conversation with id {conversation_id!r}", "list them with: chatimg ls"
            )
        messages = session.execute(
            sa.select(*_undecoded(msg_t, MESSAGE_FIELDS))
            .where(msg_t.c.conversation_id == conversation_id)
            .order_by(msg_t.c.created_at, msg_t.c.id)
        ).all()
        position = {m.id: n for n, m in enumerate(messages)}
        in_thread = msg_t.c.conversation_id == conversation_id
        generations = list(session.execute(
            sa.select(*_undecoded(gen_t, GENERATION_FIELDS))
            .join(msg_t, msg_t.c.id == gen_t.c.message_id).where(in_thread)
        ).all())
        generations.sort(key=lambda g: (position[g.message_id], g.queued_at, g.id))
        images: dict[str, list[dict[str, Any]]] = defaultdict(list)
        found: dict[str, dict[str, Any]] = {}
        links = session.execute(
            sa.select(link_t, asset_t.c.mime, asset_t.c.width, asset_t.c.height,
                      asset_t.c.bytes, asset_t.c.path)
            .join(asset_t, asset_t.c.sha256 == link_t.c.asset_sha256)
            .join(gen_t, gen_t.c.id == link_t.c.generation_id)
            .join(msg_t, msg_t.c.id == gen_t.c.message_id)
            .where(in_thread)
        ).all()
        for row in links:
            images[row.generation_id].append({
                "index": row.index, "sha256": row.asset_sha256, "seed": row.seed,
                "revised_prompt": row.revised_prompt,
            })
            if row.asset_sha256 not in found:
                found[row.asset_sha256] = _asset(row, row.asset_sha256)
        checks = session.execute(
            sa.select(check_t).join(gen_t, gen_t.c.id == check_t.c.generation_id)
            .join(msg_t, msg_t.c.id == gen_t.c.message_id)
            .where(in_thread).order_by(check_t.c.id)
        ).all()
        picks = session.execute(
            sa.select(pick_t).where(pick_t.c.conversation_id == conversation_id)
            .order_by(pick_t.c.created_at)
        ).all()
        message_dicts = [_message(m) for m in messages]
        generation_dicts = [_generation(g, images.get(g.id, [])) for g in generations]
        assets = {image["sha256"]: found[image["sha256"]]  # thread order
                  for g in generation_dicts for image in g["images"]}
        wanted = [sha for sha in _referenced(message_dicts, generation_dicts) if sha not in assets]
        for chunk in _chunks(wanted):
            for row in session.execute(sa.select(asset_t).where(asset_t.c.sha256.in_(chunk))):
                assets[row.sha256] = _asset(row, row.sha256)
        missing = [sha for sha in wanted if sha not in assets]
        if missing:
            raise NotFoundError(
                f"asset {missing[0][:12]} that the thread refers to is not in the store",
                "the bundle would be incomplete; nothing was written",
            )
    return {
        "conversation": {
            "id": conv.id, "title": conv.title, "default_model": conv.default_model,
            "created_at": iso(conv.created_at), "updated_at": iso(conv.updated_at),
        },
        "messages": message_dicts,
        "generations": generation_dicts,
        "assets": list(assets.values()),
        "validations": [
            {"asset_sha256": c.asset_sha256, "generation_id": c.generation_id,
             "name": c.check_name, "version": c.check_version, "passed": c.passed,
             "score": c.score, "details": c.details or {}}
            for c in checks
        ],
        "picks": [
            {"id": p.id, "conversation_id": p.conversation_id,
             "generation_ids": list(p.generation_ids or []), "winner_id": p.winner_id,
             "picked_by": p.picked_by, "created_at": iso(p.created_at)}
            for p in picks
        ],
    }


def _asset(row: Any, sha256: str) -> dict[str, Any]:
    """An asset's manifest entry plus ``store_path`` (relative to the asset root, not exported)."""
    return {"sha256": sha256, "path": asset_entry_name(sha256, row.mime), "mime": row.mime,
            "width": row.width, "height": row.height, "bytes": row.bytes,
            "store_path": row.path}


#: Manifest fields of a message and of a generation: exactly their tables' columns.
MESSAGE_FIELDS = ("id", "conversation_id", "parent_id", "role", "text", "model", "params",
                  "created_at")
GENERATION_FIELDS = ("id", "message_id", "requested_model", "resolved_model", "engine_kind",
                     "model_id", "model_version", "params", "status", "error", "route_reason",
                     "fallback_of", "queued_at", "started_at", "finished_at", "latency_ms",
                     "cost_usd", "cost_estimated", "receipt")


def _message(m: Any) -> dict[str, Any]:
    item = dict(zip(m._fields, m, strict=True))
    item["params"] = _json(item["params"])
    item["created_at"] = iso(item["created_at"])
    return item


def _generation(g: Any, images: list[dict[str, Any]]) -> dict[str, Any]:
    item = dict(zip(g._fields, g, strict=True))
    item["params"] = _json(item["params"])
    for key in ("queued_at", "started_at", "finished_at"):
        item[key] = iso(item[key])
    item["cost_estimated"] = bool(item["cost_estimated"])
    item["receipt"] = _raw(item["receipt"])
    item["images"] = sorted(images, key=lambda image: image["index"])
    return item


def _raw(value: Any) -> RawJSON:
    if value is None:
        return RawJSON("{}")
    if isinstance(value, str):  # SQLite hands back the stored text
        return RawJSON(value)
    return RawJSON(json.dumps(value))  # drivers that parse JSON themselves


def receipt_request(receipt: Any) -> Any:
    """The ``request`` of a receipt, parsing a raw one only when it can hold asset hashes."""
    if isinstance(receipt, RawJSON):
        if "source_asset" not in receipt and "mask_asset" not in receipt:
            return None
        receipt = receipt.parsed()
    return receipt.get("request") if isinstance(receipt, dict) else None


def _referenced(messages: list[dict[str, Any]], generations: list[dict[str, Any]]) -> list[str]:
    """Source and mask images that messages and generations point at, in order, once each."""
    found: dict[str, None] = {}
    holders = [m["params"] for m in messages]
    for g in generations:
        holders.extend([g["params"], receipt_request(g["receipt"])])
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        for key in ("source_asset", "mask_asset"):
            value = holder.get(key)
            if isinstance(value, str):
                found.setdefault(value, None)
    return list(found)
