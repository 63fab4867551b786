"""A whole conversation's rows in and out of the database, in the bundle manifest's shape.

Bundles (``chatimg.bundle``) read a thread for export and write an imported one through these
functions (via ``Repository``), never with SQL of their own. ``FIELDS`` is the one definition
of which columns a bundle carries and under which names; the manifest model
(``chatimg.bundle.model``) and the shipped JSON Schema are checked against it by the tests.

Export reads every row with Core selects in one read transaction (several times faster than
building domain records for a thousand-image thread); times and JSON are decoded here, skipping
SQLAlchemy's per-value processing, and receipts (the largest JSON values) stay the JSON text
the database holds (``RawJSON``), to be spliced into the manifest text without decoding them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from chatimg.errors import NotFoundError, StoreError
from chatimg.store.bundle_values import COLUMN_DECODERS, RawJSON, each, iso, json_value, raw_json
from chatimg.store.tables import (
    AssetRow,
    ConversationRow,
    GenerationAssetRow,
    GenerationRow,
    MessageRow,
    PickRow,
    ValidationRow,
    insert_asset,
    utcnow,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from chatimg.store.database import Database

_CHUNK = 500


def _same(*names: str) -> dict[str, str]:
    return {name: name for name in names}


#: Per manifest object: member name -> column of its table. The one list of what a bundle holds.
FIELDS: dict[str, dict[str, str]] = {
    "conversation": _same("id", "title", "default_model", "created_at", "updated_at"),
    "message": _same("id", "conversation_id", "parent_id", "role", "text", "model", "params",
                     "created_at"),
    "generation": _same("id", "message_id", "requested_model", "resolved_model", "engine_kind",
                        "model_id", "model_version", "params", "status", "error",
                        "route_reason", "fallback_of", "queued_at", "started_at",
                        "finished_at", "latency_ms", "cost_usd", "cost_estimated", "receipt"),
    "image": {"index": "index", "sha256": "asset_sha256", "seed": "seed",
              "revised_prompt": "revised_prompt"},
    "asset": _same("sha256", "mime", "width", "height", "bytes"),
    "validation": {"asset_sha256": "asset_sha256", "generation_id": "generation_id",
                   "name": "check_name", "version": "check_version", "passed": "passed",
                   "score": "score", "details": "details"},
    "pick": _same("id", "conversation_id", "generation_ids", "winner_id", "picked_by",
                  "created_at", "winner_image", "images"),
}
#: Members added to version 1 later, left out when empty (first images), so a pick of first
#: images reads and exports exactly as before; bundles written before have none of them.
OPTIONAL_MEMBERS: dict[str, frozenset[str]] = {"pick": frozenset({"winner_image", "images"})}
#: The table behind each manifest object.
TABLES: dict[str, Any] = {
    "conversation": ConversationRow, "message": MessageRow, "generation": GenerationRow,
    "image": GenerationAssetRow, "asset": AssetRow, "validation": ValidationRow,
    "pick": PickRow,
}
#: Members kept as the JSON text the database holds (see ``RawJSON``).
RAW_MEMBERS = frozenset({"receipt"})


class RowsExistError(StoreError):
    """Rows with the ids being inserted are already stored."""

    def __init__(self, table: str, row_id: str) -> None:
        super().__init__(f"{table} {row_id} already exists")
        self.table = table
        self.row_id = row_id


def _table(kind: str) -> sa.Table:
    return TABLES[kind].__table__  # type: ignore[no-any-return]


def _json_members(kind: str) -> tuple[str, ...]:
    table = _table(kind)
    return tuple(key for key, column in FIELDS[kind].items()
                 if key in RAW_MEMBERS or isinstance(table.c[column].type, sa.JSON))


#: Per manifest object, the members whose column holds a JSON document (params, receipts,
#: check details, pick lists): the only members that hold objects or lists, and the only
#: place member names come from data rather than ``FIELDS``.
JSON_MEMBERS: dict[str, tuple[str, ...]] = {kind: _json_members(kind) for kind in FIELDS}


def _decoder(kind: str, key: str) -> Callable[[Any], Any] | None:
    column = _table(kind).c[FIELDS[kind][key]]
    if key in RAW_MEMBERS:
        return raw_json
    if isinstance(column.type, sa.DateTime):
        return iso
    if isinstance(column.type, sa.JSON):
        return json_value
    if isinstance(column.type, sa.Boolean):
        return bool
    return None


class _Reader:
    """Columns to select for one manifest object, and the function that makes its dict."""

    def __init__(self, kind: str) -> None:
        table = _table(kind)
        self.keys = tuple(FIELDS[kind])
        self.columns: list[Any] = []
        for key in self.keys:
            column = table.c[FIELDS[kind][key]]
            if isinstance(column.type, sa.DateTime | sa.JSON):  # decoded by ``item``
                self.columns.append(sa.type_coerce(column, sa.String).label(key))
            else:
                self.columns.append(column.label(key))
        self.decoders = [(n, f) for n, key in enumerate(self.keys)
                         if (f := _decoder(kind, key)) is not None]
        self.column_decoders = [(n, COLUMN_DECODERS.get(f) or each(f))
                                for n, f in self.decoders]

    def item(self, row: Sequence[Any]) -> dict[str, Any]:
        values = list(row[: len(self.keys)])
        for position, decode in self.decoders:
            values[position] = decode(values[position])
        return dict(zip(self.keys, values, strict=True))

    def items(self, columns: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """``item`` for many rows at once, given as columns (``list(zip(*rows))``, which may
        hold more columns after this object's): each decoder runs over a whole column."""
        if not columns:
            return []
        mine = list(columns[: len(self.keys)])
        for position, decode in self.column_decoders:
            mine[position] = decode(mine[position])
        # One dict per row, built without a Python-level loop: every column has one value
        # per row (they come from one query), so nothing is cut short.
        return list(map(dict, map(partial(zip, self.keys), zip(*mine))))  # noqa: B905


@lru_cache(maxsize=1)
def _readers() -> dict[str, _Reader]:
    """One reader per manifest object (their column expressions are immutable)."""
    return {kind: _Reader(kind) for kind in FIELDS}


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def receipt_request(receipt: Any) -> Any:
    """The ``request`` of a receipt, parsing a raw one only when it can hold asset hashes."""
    if isinstance(receipt, RawJSON):
        if "source_asset" not in receipt and "mask_asset" not in receipt:
            return None
        receipt = receipt.parsed()
    return receipt.get("request") if isinstance(receipt, dict) else None


def referenced_assets(messages: Iterable[dict[str, Any]],
                      generations: Iterable[dict[str, Any]]) -> list[str]:
    """Source and mask images that messages and generations point at, in order, once each."""
    found: dict[str, None] = {}
    holders: list[Any] = [m["params"] for m in messages]
    for g in generations:
        holders += (g["params"], receipt_request(g["receipt"]))
    for holder in holders:
        if not isinstance(holder, dict) or ("source_asset" not in holder
                                            and "mask_asset" not in holder):
            continue
        for key in ("source_asset", "mask_asset"):
            value = holder.get(key)
            if isinstance(value, str):
                found.setdefault(value, None)
    return list(found)


def dump_conversation(database: Database, conversation_id: str) -> dict[str, Any]:
    """Every row of a conversation, as manifest-shaped dicts (``FIELDS``).

    Returns:
        ``conversation``, ``messages``, ``generations`` (each with its ``images``),
        ``assets`` (outputs in thread order, then source and mask images; each with
        ``store_path``, its file relative to the asset root), ``validations`` and ``picks``.

    Raises:
        NotFoundError: No such conversation, or an image the thread refers to has no row.
    """
    conv_t, msg_t, gen_t = _table("conversation"), _table("message"), _table("generation")
    link_t, asset_t = _table("image"), _table("asset")
    check_t, pick_t = _table("validation"), _table("pick")
    readers = _readers()
    assets_columns = [*readers["asset"].columns, asset_t.c.path.label("store_path")]
    with database.read() as session:
        conv = session.execute(sa.select(*readers["conversation"].columns)
                               .where(conv_t.c.id == conversation_id)).first()
        if conv is None:
            raise NotFoundError(
                f"no conversation with id {conversation_id!r}", "list them with: chatimg ls"
            )
        in_thread = msg_t.c.conversation_id == conversation_id
        messages = readers["message"].items(_columns(session.execute(
            sa.select(*readers["message"].columns).where(in_thread)
            .order_by(msg_t.c.created_at, msg_t.c.id))))
        position = {m["id"]: n for n, m in enumerate(messages)}
        generations = readers["generation"].items(_columns(session.execute(
            sa.select(*readers["generation"].columns)
            .join(msg_t, msg_t.c.id == gen_t.c.message_id).where(in_thread))))
        generations.sort(key=lambda g: (position[g["message_id"]], g["queued_at"], g["id"]))
        images: dict[str, list[dict[str, Any]]] = defaultdict(list)
        found: dict[str, dict[str, Any]] = {}
        columns = _columns(session.execute(
            sa.select(*readers["image"].columns, link_t.c.generation_id, *assets_columns)
            .join(asset_t, asset_t.c.sha256 == link_t.c.asset_sha256)
            .join(gen_t, gen_t.c.id == link_t.c.generation_id)
            .join(msg_t, msg_t.c.id == gen_t.c.message_id).where(in_thread)))
        width = len(readers["image"].keys)  # then generation_id, the asset, store_path
        for image, generation_id, asset, store_path in zip(
            readers["image"].items(columns), columns[width] if columns else (),
            readers["asset"].items(columns[width + 1:]), columns[-1] if columns else (),
            strict=True,
        ):
            images[generation_id].append(image)
            if image["sha256"] not in found:
                asset["store_path"] = store_path
                found[image["sha256"]] = asset
        checks = [readers["validation"].item(c) for c in session.execute(
            sa.select(*readers["validation"].columns)
            .join(gen_t, gen_t.c.id == check_t.c.generation_id)
            .join(msg_t, msg_t.c.id == gen_t.c.message_id)
            .where(in_thread).order_by(check_t.c.id))]
        picks = [readers["pick"].item(p) for p in session.execute(
            sa.select(*readers["pick"].columns).where(pick_t.c.conversation_id == conversation_id)
            .order_by(pick_t.c.created_at))]
        for g in generations:
            g["images"] = listed = images.get(g["id"], [])
            if len(listed) > 1:
                listed.sort(key=lambda image: image["index"])
        assets = {image["sha256"]: found[image["sha256"]]  # thread order
                  for g in generations for image in g["images"]}
        wanted = [sha for sha in referenced_assets(messages, generations) if sha not in assets]
        for chunk in _chunks(wanted):
            for row in session.execute(sa.select(*assets_columns)
                                       .where(asset_t.c.sha256.in_(chunk))):
                item = _asset(readers["asset"], row)
                assets[item["sha256"]] = item
        missing = [sha for sha in wanted if sha not in assets]
        if missing:
            raise NotFoundError(
                f"asset {missing[0][:12]} that the thread refers to is not in the store",
                "the bundle would be incomplete; nothing was written",
            )
    for pick in picks:
        pick["generation_ids"] = list(pick["generation_ids"] or [])
        for key in OPTIONAL_MEMBERS["pick"]:
            if pick[key] is None or pick[key] == {}:  # NULL (JSON NULL reads as {})
                del pick[key]
    return {"conversation": readers["conversation"].item(conv), "messages": messages,
            "generations": generations, "assets": list(assets.values()),
            "validations": checks, "picks": picks}


def _columns(result: sa.Result[Any]) -> list[tuple[Any, ...]]:
    """A query's rows as columns (no columns at all when there are no rows)."""
    return list(zip(*result.all(), strict=True))  # rows all have the same columns


def _asset(reader: _Reader, row: Sequence[Any]) -> dict[str, Any]:
    item = reader.item(row)
    item["store_path"] = row[len(reader.keys)]
    return item


# -- writing -----------------------------------------------------------------------------------


def _time(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _row(kind: str, item: dict[str, Any], **extra: Any) -> Any:
    """A table row from a manifest-shaped dict (times parsed; receipts decoded)."""
    table = _table(kind)
    values: dict[str, Any] = {}
    optional = OPTIONAL_MEMBERS.get(kind, frozenset())
    for key, column in FIELDS[kind].items():
        value = item.get(key) if key in optional else item[key]
        if isinstance(table.c[column].type, sa.DateTime):
            value = _time(value)
        elif isinstance(value, RawJSON):
            value = value.parsed()
        values[column] = value
    return TABLES[kind](**values, **extra)


def first_clash(session: Session, thread: dict[str, Any]) -> RowsExistError | None:
    """The first conversation, message, generation or pick id of ``thread`` already stored."""
    conversation_id = thread["conversation"]["id"]
    if session.get(ConversationRow, conversation_id) is not None:
        return RowsExistError("conversation", conversation_id)
    for kind, items in (("message", thread["messages"]), ("generation", thread["generations"]),
                        ("pick", thread["picks"])):
        id_column = _table(kind).c.id
        for chunk in _chunks([item["id"] for item in items]):
            clash = session.execute(sa.select(id_column).where(id_column.in_(chunk))
                                    .limit(1)).scalar()
            if clash is not None:
                return RowsExistError(kind, clash)
    return None


def find_clash(database: Database, thread: dict[str, Any]) -> RowsExistError | None:
    """``first_clash`` in its own read transaction."""
    with database.read() as session:
        return first_clash(session, thread)


def insert_conversation(database: Database, thread: dict[str, Any]) -> None:
    """Store a whole conversation in one transaction (the shape ``dump_conversation`` returns).

    ``messages`` must list every parent before its children and ``generations`` every failed
    attempt before its fallback. Asset rows already stored are kept.

    Raises:
        RowsExistError: An id is already stored (checked inside the transaction); nothing
            was written.
    """
    with database.write() as session:
        clash = first_clash(session, thread)
        if clash is not None:
            raise clash
        insert_rows(session, thread)


def insert_rows(session: Session, thread: dict[str, Any]) -> None:
    """Add every row of ``thread`` in ``session`` (see ``insert_conversation``)."""
    session.add(_row("conversation", thread["conversation"]))
    session.flush()
    for message in thread["messages"]:
        session.add(_row("message", message))
    session.flush()
    now = utcnow()
    for asset in thread["assets"]:  # conflict-safe: another process may store the same image
        insert_asset(session, **{column: asset[key] for key, column in FIELDS["asset"].items()},
                     path=asset["store_path"], created_at=now)
    session.flush()
    for generation in thread["generations"]:
        session.add(_row("generation", generation))
    session.flush()
    for generation in thread["generations"]:
        for image in generation["images"]:
            session.add(_row("image", image, generation_id=generation["id"]))
    for check in thread["validations"]:
        session.add(_row("validation", check, created_at=now))
    for pick in thread["picks"]:
        session.add(_row("pick", {**pick, "generation_ids": list(pick["generation_ids"])}))
    session.flush()


class BundleRows:
    """Whole-conversation reads and writes for bundles (``Repository.bundles``).

    Args:
        database: An open, migrated database.
    """

    def __init__(self, database: Database) -> None:
        self.db = database

    def dump(self, conversation_id: str) -> dict[str, Any]:
        """See ``dump_conversation``."""
        return dump_conversation(self.db, conversation_id)

    def find_clash(self, thread: dict[str, Any]) -> RowsExistError | None:
        """See ``find_clash``."""
        return find_clash(self.db, thread)

    def insert(self, thread: dict[str, Any]) -> None:
        """See ``insert_conversation``."""
        insert_conversation(self.db, thread)
