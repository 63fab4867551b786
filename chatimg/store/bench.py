"""Queries for bench runs, model versions and the model leaderboard (``chatimg models --stats``)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from chatimg.store.database import Database
from chatimg.store.tables import (
    BenchResultRow,
    BenchRunRow,
    GenerationAssetRow,
    GenerationRow,
    MessageRow,
    ModelVersionRow,
    PickRow,
    ValidationRow,
    utcnow,
)

#: Version states shown by ``chatimg models``.
VALIDATED, UNVALIDATED, NOT_BENCHED = "validated", "unvalidated", "not benched"


@dataclass(frozen=True)
class VersionState:
    """Whether a model's current version passed a bench run."""

    model: str
    version: str | None
    state: str
    """``validated``; ``unvalidated`` (the version changed since one was seen or validated);
    ``not benched`` (only this version was ever seen, and no bench run passed it)."""
    validated_at: datetime | None = None
    validated_by: str | None = None
    """The bench run id that validated it."""


@dataclass(frozen=True)
class StoredRun:
    """A bench run as stored (to resume it)."""

    run_id: str
    prompts_sha256: str
    models: tuple[str, ...]
    seeds: int
    conversation_id: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class ModelStats:
    """One row of the leaderboard."""

    model: str
    runs: int
    images: int
    failures: int
    failure_rate: float | None
    median_latency_ms: float | None
    typography_cer: float | None
    """Mean character error rate over typography checks (lower is better)."""
    typography_checks: int
    cost_per_asset: float | None
    compare_wins: int
    compare_appearances: int


class BenchStore:
    """Bench runs, model versions and per-model statistics.

    Args:
        database: An open, migrated database.
    """

    def __init__(self, database: Database) -> None:
        self.db = database

    # -- bench runs -------------------------------------------------------------------------

    def save_run(
        self, run_id: str, *, prompts_name: str, prompts_sha256: str, prompt_count: int,
        models: Sequence[str], seeds: int, conversation_id: str | None,
        summary: dict[str, Any], results: Iterable[dict[str, Any]], created_at: datetime,
    ) -> None:
        """Store a finished bench run and its results in one transaction."""
        with self.db.write() as session:
            session.add(BenchRunRow(
                id=run_id, prompts_name=prompts_name[:500], prompts_sha256=prompts_sha256,
                prompt_count=prompt_count, models=list(models), seeds=seeds,
                conversation_id=conversation_id, summary=summary, created_at=created_at,
                finished_at=utcnow(),
            ))
            session.flush()
            for item in results:
                session.add(BenchResultRow(run_id=run_id, **item))

    def start_run(
        self, run_id: str, *, prompts_name: str, prompts_sha256: str, prompt_count: int,
        models: Sequence[str], seeds: int, conversation_id: str, created_at: datetime,
    ) -> None:
        """Store a run before its first result, so results land as they finish (resumable)."""
        with self.db.write() as session:
            session.add(BenchRunRow(
                id=run_id, prompts_name=prompts_name[:500], prompts_sha256=prompts_sha256,
                prompt_count=prompt_count, models=list(models), seeds=seeds,
                conversation_id=conversation_id, summary={}, created_at=created_at,
            ))

    def get_run(self, run_id: str) -> StoredRun | None:
        """A run's facts, or None when no run has that id."""
        with self.db.read() as session:
            row = session.get(BenchRunRow, run_id)
            if row is None:
                return None
            return StoredRun(row.id, row.prompts_sha256, tuple(row.models), row.seeds,
                             row.conversation_id, row.created_at, row.finished_at)

    def add_result(self, run_id: str, result: dict[str, Any]) -> None:
        """Store one result in its own transaction, replacing an earlier one for its key
        (a failed attempt that a resumed run tried again)."""
        with self.db.write() as session:
            session.execute(sa.delete(BenchResultRow).where(
                col(BenchResultRow.run_id) == run_id,
                col(BenchResultRow.model) == result["model"],
                col(BenchResultRow.prompt_index) == result["prompt_index"],
                col(BenchResultRow.seed) == result["seed"],
            ))
            session.add(BenchResultRow(run_id=run_id, **result))

    def results(self, run_id: str) -> list[dict[str, Any]]:
        """Every stored result of a run, in prompt, model and seed order."""
        with self.db.read() as session:
            rows = session.exec(
                select(BenchResultRow).where(BenchResultRow.run_id == run_id)
                .order_by(col(BenchResultRow.prompt_index), col(BenchResultRow.model),
                          col(BenchResultRow.seed))
            ).all()
            return [row.model_dump(exclude={"id", "run_id"}) for row in rows]

    def unlinked_generations(self, run_id: str, conversation_id: str
                             ) -> list[tuple[str, str, str, Any]]:
        """Succeeded generations of a run's conversation that no result points at (a run
        killed between storing an image and its result): ``(id, model, prompt, seed)``."""
        linked = select(BenchResultRow.generation_id).where(
            BenchResultRow.run_id == run_id,
            col(BenchResultRow.generation_id).is_not(None))
        with self.db.read() as session:
            rows = session.execute(
                sa.select(col(GenerationRow.id), col(GenerationRow.resolved_model),
                          col(MessageRow.text), col(GenerationRow.params))
                .join(MessageRow, col(MessageRow.id) == col(GenerationRow.message_id))
                .where(col(MessageRow.conversation_id) == conversation_id,
                       col(GenerationRow.status) == "succeeded",
                       col(GenerationRow.id).not_in(linked))
                .order_by(col(GenerationRow.id))
            ).all()
        return [(gid, model or "", text, (params or {}).get("seed"))
                for gid, model, text, params in rows]

    def finish_run(self, run_id: str, summary: dict[str, Any], *, finished: bool) -> None:
        """Store a run's summary; ``finished`` marks it complete."""
        with self.db.write() as session:
            row = session.get(BenchRunRow, run_id)
            if row is None:
                return
            row.summary = summary
            row.finished_at = utcnow() if finished else None
            session.add(row)

    def run_summary(self, run_id: str) -> dict[str, Any] | None:
        with self.db.read() as session:
            row = session.get(BenchRunRow, run_id)
            return dict(row.summary) if row is not None else None

    # -- model versions -----------------------------------------------------------------------

    def record_versions(self, versions: dict[str, str | None]) -> None:
        """Remember that each model was seen at its version (first sighting wins)."""
        known = {(m, v) for m, v in versions.items() if v}
        if not known:
            return
        with self.db.write() as session:
            existing = set(session.exec(
                select(ModelVersionRow.model, ModelVersionRow.version).where(
                    col(ModelVersionRow.model).in_([m for m, _ in known])
                )
            ).all())
            for model, version in sorted(known - existing):
                session.add(ModelVersionRow(model=model, version=version, first_seen=utcnow()))

    def mark_validated(self, model: str, version: str, run_id: str) -> None:
        """A bench run passed ``model`` at ``version``."""
        self.record_versions({model: version})
        with self.db.write() as session:
            row = session.exec(select(ModelVersionRow).where(
                ModelVersionRow.model == model, ModelVersionRow.version == version
            )).one()
            row.validated_at = utcnow()
            row.validated_by = run_id
            session.add(row)

    def version_states(self, versions: dict[str, str | None]) -> dict[str, VersionState]:
        """The validation state of each model's current version (records the sighting)."""
        self.record_versions(versions)
        with self.db.read() as session:
            rows = session.exec(
                select(ModelVersionRow).where(col(ModelVersionRow.model).in_(list(versions)))
            ).all()
            history = session.exec(
                select(GenerationRow.resolved_model, GenerationRow.model_version)
                .where(col(GenerationRow.resolved_model).in_(list(versions)))
                .where(col(GenerationRow.model_version).is_not(None))
                .distinct()
            ).all()
        seen: dict[str, set[str]] = defaultdict(set)
        current: dict[str, ModelVersionRow] = {}
        for row in rows:
            seen[row.model].add(row.version)
            if row.version == versions.get(row.model):
                current[row.model] = row
        for model, version in history:
            if model and version:
                seen[model].add(version)
        states: dict[str, VersionState] = {}
        for model, version in versions.items():
            found = current.get(model)
            if found is not None and found.validated_at is not None:
                states[model] = VersionState(model, version, VALIDATED, found.validated_at,
                                             found.validated_by)
            elif version and seen[model] - {version}:
                states[model] = VersionState(model, version, UNVALIDATED)
            else:
                states[model] = VersionState(model, version, NOT_BENCHED)
        return states

    def last_used(self, models: Iterable[str]) -> dict[str, datetime]:
        """When each model last made (or tried to make) an image here."""
        names = list(models)
        with self.db.read() as session:
            rows = session.exec(
                select(GenerationRow.resolved_model, sa.func.max(GenerationRow.queued_at))
                .where(col(GenerationRow.resolved_model).in_(names))
                .group_by(col(GenerationRow.resolved_model))
            ).all()
        return {model: when for model, when in rows if model and when}

    # -- leaderboard ----------------------------------------------------------------------------

    def model_stats(self) -> list[ModelStats]:
        """Per model, from every stored generation (bench runs store theirs too) and pick."""
        with self.db.read() as session:
            generations = session.execute(sa.select(
                col(GenerationRow.id), col(GenerationRow.requested_model),
                col(GenerationRow.resolved_model), col(GenerationRow.status),
                col(GenerationRow.latency_ms), col(GenerationRow.cost_usd),
            )).all()
            image_counts = dict(session.exec(
                select(GenerationAssetRow.generation_id, sa.func.count())
                .group_by(col(GenerationAssetRow.generation_id))
            ).all())
            typography = session.exec(
                select(ValidationRow.generation_id, ValidationRow.details)
                .where(ValidationRow.check_name == "typography")
            ).all()
            picks = session.exec(select(PickRow.generation_ids, PickRow.winner_id)).all()
        model_of = {gid: (resolved or requested) for gid, requested, resolved, *_ in generations}
        runs: dict[str, int] = defaultdict(int)
        failures: dict[str, int] = defaultdict(int)
        images: dict[str, int] = defaultdict(int)
        latencies: dict[str, list[float]] = defaultdict(list)
        costs: dict[str, float] = defaultdict(float)
        priced: dict[str, bool] = defaultdict(bool)
        for gid, _requested, _resolved, status, latency, cost in generations:
            model = model_of[gid]
            if status not in ("succeeded", "failed"):
                continue
            runs[model] += 1
            if status == "failed":
                failures[model] += 1
                continue
            images[model] += int(image_counts.get(gid, 0))
            if latency is not None:
                latencies[model].append(float(latency))
            if cost is not None:
                costs[model] += float(cost)
                priced[model] = True
        cers: dict[str, list[float]] = defaultdict(list)
        for gid, details in typography:
            cer = (details or {}).get("cer")
            if gid in model_of and isinstance(cer, int | float):
                cers[model_of[gid]].append(float(cer))
        wins: dict[str, int] = defaultdict(int)
        appearances: dict[str, int] = defaultdict(int)
        for generation_ids, winner in picks:
            for gid in set(generation_ids or ()):
                if gid in model_of:
                    appearances[model_of[gid]] += 1
            if winner in model_of:
                wins[model_of[winner]] += 1
        names = sorted(set(runs) | set(appearances))
        return [
            ModelStats(
                model=name, runs=runs[name], images=images[name], failures=failures[name],
                failure_rate=round(failures[name] / runs[name], 4) if runs[name] else None,
                median_latency_ms=(
                    round(statistics.median(latencies[name]), 3) if latencies[name] else None
                ),
                typography_cer=(
                    round(statistics.fmean(cers[name]), 4) if cers[name] else None
                ),
                typography_checks=len(cers[name]),
                cost_per_asset=(
                    round(costs[name] / images[name], 6)
                    if images[name] and priced[name] else None
                ),
                compare_wins=wins[name], compare_appearances=appearances[name],
            )
            for name in names
        ]
