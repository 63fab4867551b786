"""Reads and writes of the chatimg tables, returning domain records."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from chatimg import domain
from chatimg.errors import InvalidRequestError, NotFoundError
from chatimg.ids import new_id
from chatimg.store import listing, runs
from chatimg.store.assets import StoredFile
from chatimg.store.bench import BenchStore
from chatimg.store.bundle_rows import BundleRows
from chatimg.store.database import Database
from chatimg.store.owner import current_owner
from chatimg.store.sharing import Sharing
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

_WORD = re.compile(r"\w+", re.UNICODE)

#: What ``Repository.resolve_id`` can look up: kind -> (table, hint when nothing matches).
_ID_KINDS: dict[str, tuple[Any, str | None]] = {
    "conversation": (ConversationRow, "list them with: chatimg ls"),
    "message": (MessageRow, None),
    "generation": (GenerationRow, None),
}


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _conversation(row: ConversationRow, count: int = 0) -> domain.Conversation:
    return domain.Conversation(
        id=row.id,
        title=row.title,
        created_at=_aware(row.created_at),  # type: ignore[arg-type]
        updated_at=_aware(row.updated_at),  # type: ignore[arg-type]
        default_model=row.default_model,
        message_count=count,
        owner=row.owner,
        visibility=row.visibility or "private",
    )


def _generation(
    row: GenerationRow,
    assets: Sequence[domain.AssetRef] = (),
    validations: Sequence[domain.ValidationResult] = (),
) -> domain.Generation:
    return domain.Generation(
        id=row.id,
        message_id=row.message_id,
        requested_model=row.requested_model,
        resolved_model=row.resolved_model,
        engine_kind=row.engine_kind,
        model_id=row.model_id,
        model_version=row.model_version,
        asked=dict(row.params or {}),
        status=row.status,
        error=row.error,
        route_reason=row.route_reason,
        fallback_of=row.fallback_of,
        queued_at=_aware(row.queued_at),  # type: ignore[arg-type]
        started_at=_aware(row.started_at),
        finished_at=_aware(row.finished_at),
        latency_ms=row.latency_ms,
        cost_usd=row.cost_usd,
        cost_estimated=row.cost_estimated,
        receipt_data=dict(row.receipt or {}),
        assets=tuple(assets),
        validations=tuple(validations),
        author=row.author,
    )


def _message(row: MessageRow, generations: Sequence[domain.Generation] = ()) -> domain.Message:
    return domain.Message(
        id=row.id,
        conversation_id=row.conversation_id,
        parent_id=row.parent_id,
        role=row.role,
        text=row.text,
        model=row.model,
        params=dict(row.params or {}),
        created_at=_aware(row.created_at),  # type: ignore[arg-type]
        generations=tuple(generations),
        author=row.author,
    )


def _pick(row: PickRow) -> domain.Pick:
    return domain.Pick(
        id=row.id,
        conversation_id=row.conversation_id,
        generation_ids=tuple(row.generation_ids or ()),
        winner_id=row.winner_id,
        picked_by=row.picked_by,
        created_at=_aware(row.created_at),  # type: ignore[arg-type]
        winner_image=row.winner_image or 0,
        images=tuple(row.images or ()),
    )


def _validation(row: ValidationRow) -> domain.ValidationResult:
    return domain.ValidationResult(
        asset_sha256=row.asset_sha256,
        name=row.check_name,
        version=row.check_version,
        passed=row.passed,
        score=row.score,
        details=dict(row.details or {}),
        generation_id=row.generation_id,
    )


def _ordered_before(message: MessageRow) -> Any:
    """Messages that come before ``message`` in thread order (time, then id)."""
    return sa.or_(
        col(MessageRow.created_at) < message.created_at,
        sa.and_(col(MessageRow.created_at) == message.created_at,
                col(MessageRow.id) < message.id),
    )


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Repository:
    """Every query chatimg makes, in one place.

    Args:
        database: The database to use.
        asset_root: The asset store's root, to turn stored relative paths into absolute ones.
    """

    def __init__(self, database: Database, asset_root: Path) -> None:
        self.db = database
        self.asset_root = asset_root
        self.bundles = BundleRows(database)
        """Whole conversations in and out, in the bundle manifest's shape."""
        self.bench = BenchStore(database)
        """Bench runs, model versions and the leaderboard."""
        self.sharing = Sharing(database)
        """Team databases: visibility of conversations, branching a teammate's thread."""

    # -- conversations ----------------------------------------------------------------------

    def create_conversation(
        self, title: str = "", default_model: str | None = None, *, id: str | None = None,
        created_at: datetime | None = None,
    ) -> domain.Conversation:
        now = created_at or utcnow()
        row = ConversationRow(
            id=id or new_id(), title=title, default_model=default_model,
            created_at=now, updated_at=now, owner=self.db.user,
        )
        with self.db.write() as session:
            session.add(row)
        return _conversation(row)

    def _conversation_row(self, session: Session, conversation_id: str) -> ConversationRow:
        row = session.get(ConversationRow, conversation_id)
        if row is None:
            raise NotFoundError(
                f"no conversation with id {conversation_id!r}", "list them with: chatimg ls"
            )
        return row

    def get_conversation(self, conversation_id: str) -> domain.Conversation:
        with self.db.read() as session:
            row = self._conversation_row(session, conversation_id)
            count = session.exec(
                select(sa.func.count()).select_from(MessageRow).where(
                    MessageRow.conversation_id == conversation_id
                )
            ).one()
            return _conversation(row, int(count))

    def conversation_exists(self, conversation_id: str) -> bool:
        with self.db.read() as session:
            return session.get(ConversationRow, conversation_id) is not None

    def list_conversations(
        self, limit: int | None = None, offset: int = 0, ids: Sequence[str] | None = None
    ) -> list[domain.Conversation]:
        """Newest activity first, with message counts (``listing.LIST_CONVERSATIONS``)."""
        if ids is not None and not ids:
            return []
        statement = sa.text(listing.list_statement(ids=ids is not None))
        values: dict[str, Any] = {"offset": offset,
                                  "limit": limit if limit is not None
                                  else (-1 if self.db.is_sqlite else None)}
        if ids is not None:
            statement = statement.bindparams(sa.bindparam("ids", expanding=True))
            values["ids"] = list(ids)
        with self.db.read() as session:
            rows = session.connection().execute(statement, values).all()
        return [listing.conversation_from_row(row) for row in rows]

    def rename_conversation(self, conversation_id: str, title: str) -> domain.Conversation:
        with self.db.write() as session:
            row = self._conversation_row(session, conversation_id)
            row.title = title
            row.updated_at = utcnow()
            session.add(row)
        return self.get_conversation(conversation_id)

    def set_default_model(self, conversation_id: str, model: str) -> None:
        with self.db.write() as session:
            row = self._conversation_row(session, conversation_id)
            row.default_model = model
            session.add(row)

    def delete_conversation(self, conversation_id: str) -> None:
        with self.db.write() as session:
            row = self._conversation_row(session, conversation_id)
            session.delete(row)

    # -- ids ------------------------------------------------------------------------------------

    def resolve_id(self, kind: str, text: str) -> str:
        """The full id of a ``kind`` row from the id itself or any unique prefix (as git does).

        Args:
            kind: ``conversation``, ``message`` or ``generation``.
            text: A full id or its first characters (any case).

        Returns:
            The full id.

        Raises:
            NotFoundError: nothing starts with ``text``.
            InvalidRequestError: ``text`` is empty or more than one id starts with it.
        """
        table, hint = _ID_KINDS[kind]
        wanted = text.strip()
        if not wanted:
            raise InvalidRequestError(f"a {kind} id is empty", hint)
        column = col(table.id)
        with self.db.read() as session:
            if session.get(table, wanted) is not None:
                return wanted
            prefixes = {wanted, wanted.upper()}
            rows = session.exec(
                select(column).where(sa.or_(*(column.startswith(p, autoescape=True)
                                              for p in prefixes)))
                .order_by(column).limit(3)
            ).all()
        found = list(dict.fromkeys(rows))
        if not found:
            raise NotFoundError(f"no {kind} with id {wanted!r}", hint)
        if len(found) > 1:
            shown = ", ".join(found[:2]) + (", ..." if len(found) > 2 else "")
            raise InvalidRequestError(
                f"{kind} id prefix {wanted!r} is ambiguous: {shown}", "type more characters"
            )
        return str(found[0])

    # -- messages -----------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: str,
        text: str,
        *,
        role: str = "user",
        parent_id: str | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        id: str | None = None,
        created_at: datetime | None = None,
    ) -> domain.Message:
        now = created_at or utcnow()
        with self.db.write() as session:
            conversation = self._conversation_row(session, conversation_id)
            self.sharing.check_owner(conversation)
            if parent_id is not None:
                parent = session.get(MessageRow, parent_id)
                if parent is None or parent.conversation_id != conversation_id:
                    raise NotFoundError(f"no message {parent_id!r} in this conversation")
            row = MessageRow(
                id=id or new_id(), conversation_id=conversation_id, parent_id=parent_id,
                role=role, text=text, model=model, params=dict(params or {}), created_at=now,
                author=self.db.user,
            )
            session.add(row)
            conversation.updated_at = max(_aware(conversation.updated_at) or now, now)
            session.add(conversation)
        return _message(row)

    def recent_prompts(self, limit: int = 1000) -> list[str]:
        """The text of the newest user messages of every conversation, newest first, each text
        once (at most ``limit``).

        Ids sort by creation time to the millisecond, so the primary key picks the candidates
        without a scan; their timestamps order them within a millisecond."""
        query = (select(MessageRow.text, MessageRow.created_at).where(MessageRow.role == "user")
                 .order_by(col(MessageRow.id).desc()).limit(limit * 4))
        with self.db.read() as session:
            rows = session.exec(query).all()
        rows = sorted(rows, key=lambda row: _aware(row[1]) or row[1], reverse=True)
        return list(dict.fromkeys(text for text, _ in rows if text.strip()))[:limit]

    def get_message(self, message_id: str) -> domain.Message:
        with self.db.read() as session:
            row = session.get(MessageRow, message_id)
            if row is None:
                raise NotFoundError(f"no message with id {message_id!r}")
            return _message(row)

    # -- generations ---------------------------------------------------------------------------

    def create_generation(
        self,
        message_id: str,
        requested_model: str,
        params: dict[str, Any],
        *,
        resolved_model: str | None = None,
        engine_kind: str | None = None,
        model_id: str | None = None,
        model_version: str | None = None,
        route_reason: str | None = None,
        fallback_of: str | None = None,
        status: str = "queued",
        error: str | None = None,
        cost_usd: float | None = None,
    ) -> domain.Generation:
        """A new generation row (created ``running``: it started as it was queued)."""
        row = GenerationRow(
            id=new_id(), message_id=message_id, requested_model=requested_model,
            resolved_model=resolved_model, engine_kind=engine_kind, model_id=model_id,
            model_version=model_version, params=params, status=status, error=error,
            route_reason=route_reason, fallback_of=fallback_of, queued_at=utcnow(),
            cost_usd=cost_usd, receipt={}, author=self.db.user,
        )
        owner = current_owner()
        row.owner_host, row.owner_pid, row.owner_start = owner.host, owner.pid, owner.start
        if status in ("failed", "cancelled"):
            row.finished_at = row.queued_at
        elif status == "running":
            row.started_at = row.queued_at
        with self.db.write() as session:
            if session.get(MessageRow, message_id) is None:
                raise NotFoundError(f"no message with id {message_id!r}")
            session.add(row)
        return _generation(row)

    def update_generation(self, generation_id: str, **fields: Any) -> None:
        """Set columns of a generation (one UPDATE, no read)."""
        with self.db.write() as session:
            result = session.execute(
                sa.update(GenerationRow).where(col(GenerationRow.id) == generation_id)
                .values(**fields)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise NotFoundError(f"no generation with id {generation_id!r}")

    def end_generation(self, generation_id: str, **fields: Any) -> domain.Generation:
        """Set a generation's final columns (failed, cancelled, ...); return it as written."""
        with self.db.write() as session:
            row = session.get(GenerationRow, generation_id)
            if row is None:
                raise NotFoundError(f"no generation with id {generation_id!r}")
            for name, value in fields.items():
                setattr(row, name, value)
            session.add(row)
        return _generation(row)

    def finish_generation(
        self,
        generation_id: str,
        files: Sequence[tuple[StoredFile, int | None, str | None]],
        **fields: Any,
    ) -> domain.Generation:
        """Record a finished generation: asset rows, links and the final columns, atomically.

        Args:
            generation_id: The generation.
            files: (stored file, seed used, revised prompt) per image, in order.
            **fields: Columns to set (status, finished_at, latency_ms, receipt, ...).

        Returns:
            The generation as written (nothing is read back).
        """
        refs: list[domain.AssetRef] = []
        with self.db.write() as session:
            row = session.get(GenerationRow, generation_id)
            if row is None:
                raise NotFoundError(f"no generation with id {generation_id!r}")
            for index, (stored, seed, revised) in enumerate(files):
                self._ensure_asset(session, stored)
                link = GenerationAssetRow(
                    generation_id=generation_id, index=index, asset_sha256=stored.sha256,
                    seed=seed, revised_prompt=revised,
                )
                session.add(link)
                refs.append(domain.AssetRef(
                    sha256=stored.sha256, path=str(self.asset_root / stored.path),
                    mime=stored.mime, width=stored.width, height=stored.height,
                    bytes=stored.bytes, index=index, seed=seed, revised_prompt=revised,
                ))
            for name, value in fields.items():
                setattr(row, name, value)
            session.add(row)
        return _generation(row, refs)

    @staticmethod
    def _ensure_asset(session: Session, stored: StoredFile) -> None:
        """Insert the asset row unless present; safe when other processes insert it too."""
        insert_asset(
            session, sha256=stored.sha256, mime=stored.mime, width=stored.width,
            height=stored.height, bytes=stored.bytes, path=stored.path, created_at=utcnow(),
        )

    def record_asset(self, stored: StoredFile) -> None:
        """Make sure an asset row exists for a stored file."""
        with self.db.write() as session:
            self._ensure_asset(session, stored)

    def get_asset(self, sha256: str) -> domain.AssetRef:
        with self.db.read() as session:
            row = session.get(AssetRow, sha256)
            if row is None:
                raise NotFoundError(f"no asset with sha256 {sha256!r}")
            return self._asset_ref(row)

    def find_assets(self, prefix: str) -> list[domain.AssetRef]:
        with self.db.read() as session:
            rows = session.exec(
                select(AssetRow).where(col(AssetRow.sha256).startswith(prefix.lower())).limit(3)
            ).all()
            return [self._asset_ref(row) for row in rows]

    def _asset_ref(
        self, row: AssetRow, link: GenerationAssetRow | None = None
    ) -> domain.AssetRef:
        return domain.AssetRef(
            sha256=row.sha256, path=str(self.asset_root / row.path), mime=row.mime,
            width=row.width, height=row.height, bytes=row.bytes,
            index=link.index if link else 0, seed=link.seed if link else None,
            revised_prompt=link.revised_prompt if link else None,
        )

    def delete_generation(self, generation_id: str) -> None:
        """Delete one generation with its image links and checks (files stay: shared by hash)."""
        with self.db.write() as session:
            row = session.get(GenerationRow, generation_id)
            if row is None:
                raise NotFoundError(f"no generation with id {generation_id!r}")
            session.execute(
                sa.update(GenerationRow)
                .where(col(GenerationRow.fallback_of) == generation_id)
                .values(fallback_of=None)
            )
            session.execute(
                sa.delete(GenerationAssetRow).where(
                    col(GenerationAssetRow.generation_id) == generation_id
                )
            )
            session.execute(
                sa.delete(ValidationRow).where(col(ValidationRow.generation_id) == generation_id)
            )
            session.execute(sa.delete(PickRow).where(col(PickRow.winner_id) == generation_id))
            session.delete(row)

    def stuck_generations(self) -> list[str]:
        """Ids of queued or running generations whose process is gone (``store.runs``)."""
        return runs.stuck_generations(self.db)

    def mark_interrupted(self) -> int:
        """Mark generations whose process died as ``interrupted`` (``store.runs``)."""
        return runs.mark_interrupted(self.db)

    def get_generations(self, generation_ids: Sequence[str]) -> list[domain.Generation]:
        """Generations by id, in the order given, with assets and validations."""
        with self.db.read() as session:
            rows = session.exec(
                select(GenerationRow).where(col(GenerationRow.id).in_(list(generation_ids)))
            ).all()
            by_id = {row.id: row for row in rows}
            missing = [gid for gid in generation_ids if gid not in by_id]
            if missing:
                raise NotFoundError(f"no generation with id {missing[0]!r}")
            built = self._build_generations(session, [by_id[gid] for gid in generation_ids])
            return [built[gid] for gid in generation_ids]

    def get_generation(self, generation_id: str) -> domain.Generation:
        return self.get_generations([generation_id])[0]

    def conversation_of_generation(self, generation_id: str) -> str:
        with self.db.read() as session:
            found = session.exec(
                select(MessageRow.conversation_id)
                .join(GenerationRow, col(GenerationRow.message_id) == col(MessageRow.id))
                .where(GenerationRow.id == generation_id)
            ).first()
            if found is None:
                raise NotFoundError(f"no generation with id {generation_id!r}")
            return found

    def _build_generations(
        self, session: Session, rows: Sequence[GenerationRow]
    ) -> dict[str, domain.Generation]:
        ids = [row.id for row in rows]
        assets: dict[str, list[domain.AssetRef]] = defaultdict(list)
        validations: dict[str, list[domain.ValidationResult]] = defaultdict(list)
        for chunk in _chunks(ids):
            links = session.exec(
                select(GenerationAssetRow, AssetRow)
                .join(AssetRow, col(AssetRow.sha256) == col(GenerationAssetRow.asset_sha256))
                .where(col(GenerationAssetRow.generation_id).in_(list(chunk)))
                .order_by(col(GenerationAssetRow.generation_id), col(GenerationAssetRow.index))
            ).all()
            for link, asset in links:
                assets[link.generation_id].append(self._asset_ref(asset, link))
            checks = session.exec(
                select(ValidationRow)
                .where(col(ValidationRow.generation_id).in_(list(chunk)))
                .order_by(col(ValidationRow.id))
            ).all()
            for check in checks:
                validations[check.generation_id or ""].append(_validation(check))
        return {
            row.id: _generation(row, assets.get(row.id, ()), validations.get(row.id, ()))
            for row in rows
        }

    # -- validations and picks -------------------------------------------------------------------

    def add_validations(
        self, results: Sequence[domain.ValidationResult], *, completes: str | None = None
    ) -> None:
        """Store check results; ``completes`` names a generation whose checks are now done
        (recorded in the same transaction, so a crash never leaves half a set marked done)."""
        with self.db.write() as session:
            if completes is not None:
                session.execute(
                    sa.update(GenerationRow).where(col(GenerationRow.id) == completes)
                    .values(checks_state="done")
                )
            for result in results:
                session.add(
                    ValidationRow(
                        asset_sha256=result.asset_sha256, generation_id=result.generation_id,
                        check_name=result.name, check_version=result.version,
                        passed=result.passed, score=result.score, details=result.details,
                        created_at=utcnow(),
                    )
                )

    def add_pick(
        self, conversation_id: str, generation_ids: Sequence[str], winner_id: str,
        picked_by: str | None = None, *, id: str | None = None,
        created_at: datetime | None = None, winner_image: int = 0,
        images: Sequence[int] | None = None,
    ) -> domain.Pick:
        """Store a comparison's winner; first images only are stored as NULLs (as before)."""
        shown = list(images) if images is not None and any(images) else None
        row = PickRow(
            id=id or new_id(), conversation_id=conversation_id,
            generation_ids=list(generation_ids), winner_id=winner_id, picked_by=picked_by,
            created_at=created_at or utcnow(), winner_image=winner_image or None, images=shown,
        )
        with self.db.write() as session:
            self._conversation_row(session, conversation_id)
            session.add(row)
        return _pick(row)

    # -- threads ---------------------------------------------------------------------------------

    def load_thread(self, conversation_id: str, *, last: int | None = None,
                    before: str | None = None) -> domain.Thread:
        """A conversation with its messages, generations, assets, validations and picks.

        Args:
            conversation_id: The conversation.
            last: Only the newest ``last`` messages (a window of a long thread: the work does
                not grow with the thread); ``Thread.earlier`` says how many come before them.
            before: With ``last``, the window ends just before this message (the previous
                window of one already shown).
        """
        with self.db.read() as session:
            conversation = self._conversation_row(session, conversation_id)
            in_conversation = col(MessageRow.conversation_id) == conversation_id
            if last is None:
                messages = list(session.exec(
                    select(MessageRow).where(in_conversation)
                    .order_by(col(MessageRow.created_at), col(MessageRow.id))
                ).all())
                total, earlier = len(messages), 0
            else:
                query = select(MessageRow).where(in_conversation)
                if before is not None:
                    anchor = session.get(MessageRow, before)
                    if anchor is None or anchor.conversation_id != conversation_id:
                        raise NotFoundError(f"no message with id {before!r} in this conversation")
                    query = query.where(_ordered_before(anchor))
                messages = list(session.exec(
                    query.order_by(col(MessageRow.created_at).desc(), col(MessageRow.id).desc())
                    .limit(max(0, last))
                ).all())
                messages.reverse()
                if before is None and len(messages) < max(0, last):
                    total, earlier = len(messages), 0  # the whole conversation fitted
                elif messages:
                    total, earlier = self._message_counts(session, in_conversation,
                                                          _ordered_before(messages[0]))
                else:
                    total, earlier = self._count_messages(session, in_conversation), 0
            message_ids = [m.id for m in messages]
            generation_rows: list[GenerationRow] = []
            for chunk in _chunks(message_ids):
                generation_rows.extend(
                    session.exec(
                        select(GenerationRow)
                        .where(col(GenerationRow.message_id).in_(list(chunk)))
                        .order_by(col(GenerationRow.queued_at), col(GenerationRow.id))
                    ).all()
                )
            built = self._build_generations(session, generation_rows)
            per_message: dict[str, list[domain.Generation]] = defaultdict(list)
            for row in generation_rows:
                per_message[row.message_id].append(built[row.id])
            picks = session.exec(
                select(PickRow)
                .where(PickRow.conversation_id == conversation_id)
                .order_by(col(PickRow.created_at))
            ).all()
            loaded = set(message_ids)
            parents: dict[str, tuple[int, str]] = {}
            for parent_id in {m.parent_id for m in messages} - loaded - {None}:
                parent = session.get(MessageRow, parent_id)
                if parent is not None and parent.conversation_id == conversation_id:
                    number = self._count_messages(session, in_conversation,
                                                  _ordered_before(parent)) + 1
                    parents[parent.id] = (number, parent.text)
            return domain.Thread(
                conversation=_conversation(conversation, total),
                messages=tuple(_message(m, per_message.get(m.id, ())) for m in messages),
                picks=tuple(_pick(p) for p in picks),
                earlier=earlier,
                parents=parents,
            )

    @staticmethod
    def _message_counts(session: Session, where: Any, before: Any) -> tuple[int, int]:
        """How many messages match ``where``, and how many of them match ``before`` too
        (one query)."""
        total, earlier = session.exec(
            select(sa.func.count(), sa.func.coalesce(
                sa.func.sum(sa.case((before, 1), else_=0)), 0))
            .select_from(MessageRow).where(where)
        ).one()
        return int(total), int(earlier)

    @staticmethod
    def _count_messages(session: Session, *where: Any) -> int:
        return int(session.exec(
            select(sa.func.count()).select_from(MessageRow).where(*where)
        ).one())

    # -- search ----------------------------------------------------------------------------------

    def search(self, text: str, limit: int = 50) -> list[domain.SearchHit]:
        """Messages whose text matches every word of ``text`` (the last as a prefix), plus
        conversations whose title contains ``text``; newest first."""
        words = _WORD.findall(text.lower())
        hits: list[domain.SearchHit] = []
        if not words:
            return hits
        with self.db.read() as session:
            if self.db.backend == "sqlite":
                match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
                # Newest rows first straight from the index (rowids grow with inserts), so a
                # common word stops after `limit` hits instead of sorting every match.
                query = sa.text(
                    "WITH hits AS (SELECT rowid FROM message_fts WHERE message_fts MATCH :match "
                    "ORDER BY rowid DESC LIMIT :limit) "
                    "SELECT m.id, m.conversation_id, m.text, m.created_at, c.title "
                    "FROM hits JOIN message m ON m.rowid = hits.rowid "
                    "JOIN conversation c ON c.id = m.conversation_id "
                    "ORDER BY m.created_at DESC"
                ).bindparams(match=match.strip(), limit=limit)
            else:
                tsquery = " & ".join([*words[:-1], f"{words[-1]}:*"])
                query = sa.text(
                    "SELECT m.id, m.conversation_id, m.text, m.created_at, c.title "
                    "FROM message m JOIN conversation c ON c.id = m.conversation_id "
                    "WHERE to_tsvector('simple', m.text) @@ to_tsquery('simple', :q) "
                    "ORDER BY m.created_at DESC LIMIT :limit"
                ).bindparams(q=tsquery, limit=limit)
            for message_id, conversation_id, body, created, title in session.execute(query):
                created_at = created if isinstance(created, datetime) else (
                    datetime.fromisoformat(str(created))
                )
                hits.append(
                    domain.SearchHit(
                        conversation_id=conversation_id, conversation_title=title,
                        message_id=message_id, snippet=_snippet(body, words),
                        created_at=_aware(created_at),  # type: ignore[arg-type]
                    )
                )
            pattern = f"%{text.strip().lower()}%"
            titles = session.exec(
                select(ConversationRow)
                .where(sa.func.lower(ConversationRow.title).like(pattern))
                .order_by(col(ConversationRow.updated_at).desc())
                .limit(limit)
            ).all()
            for row in titles:
                hits.append(
                    domain.SearchHit(
                        conversation_id=row.id, conversation_title=row.title, message_id=None,
                        snippet=row.title, created_at=_aware(row.updated_at),  # type: ignore[arg-type]
                    )
                )
        return hits

    def conversation_ids_matching(self, text: str, limit: int = 500) -> list[str]:
        """Conversation ids whose title or any prompt matches, newest activity first."""
        seen: dict[str, None] = {}
        for hit in self.search(text, limit=limit):
            seen.setdefault(hit.conversation_id, None)
        return list(seen)


def _snippet(text: str, words: Sequence[str], width: int = 80) -> str:
    flat = " ".join(text.split())
    lowered = flat.lower()
    position = min((lowered.find(w) for w in words if w in lowered), default=0)
    start = max(0, position - width // 3)
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")
