"""``chatimg bench``: run a prompt set on several models and seeds, measure, store, and validate
model versions.

Every prompt x model x seed becomes a message in one "bench" conversation (so the history,
``chatimg show`` and ``chatimg models --stats`` see it), with the configured validators run after
each image. A model passes a run when none of its generations failed and none of its images
failed a non-typography check (blank, size, plugins); typography error rates are measured and
reported but do not gate, since models differ in how well they letter. A passing run marks the
model's current version validated.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg.errors import ChatImgError, InvalidRequestError
from chatimg.ids import new_id
from chatimg.resources import package_file
from chatimg.store.tables import utcnow

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from chatimg import domain
    from chatimg.studio import Studio

#: A checks stage of its own: a finished generation in, its verdicts out.
Scorer = Callable[["domain.Generation"], "Awaitable[list[domain.ValidationResult]]"]

DEFAULT_PROMPTS = "default"
#: What a person may name a run (it is the run row's primary key).
RUN_ID = re.compile(r"[A-Za-z0-9._-]{1,26}")


@dataclass(frozen=True)
class PromptSet:
    """Prompts to bench, with a name and a content hash (to tell sets apart)."""

    name: str
    sha256: str
    prompts: tuple[str, ...]


def load_prompts(spec: str) -> PromptSet:
    """Read a prompt set: ``default`` (the shipped golden set), a text file (one prompt per
    line, ``#`` comments) or a ``.jsonl`` file (objects with a ``prompt`` key).

    Raises:
        InvalidRequestError: the file cannot be read or holds no prompts.
    """
    import json

    path = package_file("data", "prompts", "golden.txt") if spec == DEFAULT_PROMPTS else Path(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequestError(
            f"{spec}: cannot read prompts: {exc.strerror or exc}",
            "give a text file (one prompt per line) or `default`",
        ) from None
    except UnicodeDecodeError:
        raise InvalidRequestError(f"{spec}: cannot read prompts: not UTF-8 text") from None
    prompts: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if path.suffix == ".jsonl":
            try:
                value = json.loads(line)
                prompt = value["prompt"] if isinstance(value, dict) else None
            except (ValueError, KeyError):
                prompt = None
            if not isinstance(prompt, str):
                raise InvalidRequestError(f"{spec}: line {number}: expected {{\"prompt\": ...}}")
            line = prompt
        prompts.append(line)
    if not prompts:
        raise InvalidRequestError(f"{spec}: no prompts in the file")
    digest = hashlib.sha256("\n".join(prompts).encode()).hexdigest()
    name = "golden" if spec == DEFAULT_PROMPTS else str(spec)
    return PromptSet(name, digest, tuple(prompts))


@dataclass(frozen=True)
class BenchItem:
    """One prompt x model x seed, once it ran."""

    model: str
    prompt_index: int
    prompt: str
    seed: int
    generation_id: str | None
    status: str
    error: str | None
    model_version: str | None
    latency_ms: float | None
    cost_usd: float | None
    cer: float | None
    """Typography character error rate (None when the prompt has no quoted text)."""
    checks_passed: bool | None
    """Whether every non-typography check passed (None when nothing was checked)."""
    images: tuple[str, ...] = ()
    """Paths of the stored images."""


@dataclass(frozen=True)
class ModelSummary:
    """Per-model figures of one run."""

    model: str
    version: str | None
    runs: int
    images: int
    failures: int
    failure_rate: float
    median_latency_ms: float | None
    latencies_ms: list[float]
    typography_cer: float | None
    typography_checks: int
    cost_per_asset: float | None
    passed: bool


@dataclass(frozen=True)
class BenchReport:
    """A finished run."""

    run_id: str
    prompt_set: PromptSet
    models: tuple[str, ...]
    seeds: tuple[int, ...]
    conversation_id: str
    created_at: datetime
    items: tuple[BenchItem, ...]
    summaries: tuple[ModelSummary, ...]
    validated: dict[str, str] = field(default_factory=dict)
    """model → version marked validated by this run."""
    planned: int = 0
    """Generations the run plans (prompts x models x seeds)."""
    resumed: int = 0
    """Results found stored when this invocation started (a resumed run)."""
    spent_usd: float = 0.0
    """Cost of every result of the run (stored ones included)."""
    stopped: str | None = None
    """Why the run stopped before its end (``max-cost``), or None."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON ``chatimg bench --json`` prints."""
        return {
            "run_id": self.run_id,
            "prompts": {"name": self.prompt_set.name, "sha256": self.prompt_set.sha256,
                        "count": len(self.prompt_set.prompts)},
            "models": list(self.models),
            "seeds": list(self.seeds),
            "conversation_id": self.conversation_id,
            "created_at": self.created_at.isoformat(),
            "summary": [asdict(s) for s in self.summaries],
            "results": [{**asdict(i), "images": list(i.images)} for i in self.items],
            "validated": dict(self.validated),
            "planned": self.planned,
            "resumed": self.resumed,
            "spent_usd": self.spent_usd,
            "stopped": self.stopped,
            "complete": len(self.items) == self.planned,
        }


ProgressFn = Callable[[int, int, "BenchItem"], None]


def _item_from(model: str, index: int, prompt: str, seed: int,
               generation: domain.Generation | None, error: str | None) -> BenchItem:
    if generation is None:
        return BenchItem(model, index, prompt, seed, None, "failed", error, None, None, None,
                         None, None)
    cers = [v.details.get("cer") for v in generation.validations if v.name == "typography"]
    cer_values = [float(c) for c in cers if isinstance(c, int | float)]
    others = [v.passed for v in generation.validations if v.name != "typography"]
    return BenchItem(
        model=model, prompt_index=index, prompt=prompt, seed=seed,
        generation_id=generation.id, status=generation.status, error=generation.error,
        model_version=generation.model_version, latency_ms=generation.latency_ms,
        cost_usd=generation.cost_usd,
        cer=round(statistics.fmean(cer_values), 4) if cer_values else None,
        checks_passed=all(others) if others else None,
        images=tuple(a.path for a in generation.assets),
    )


def summarise(model: str, items: Sequence[BenchItem], version: str | None) -> ModelSummary:
    """Per-model figures from its items."""
    runs = len(items)
    failed = [i for i in items if i.status != "succeeded"]
    ok = [i for i in items if i.status == "succeeded"]
    images = sum(len(i.images) for i in ok)
    latencies = sorted(round(i.latency_ms, 3) for i in ok if i.latency_ms is not None)
    cers = [i.cer for i in ok if i.cer is not None]
    costs = [i.cost_usd for i in ok if i.cost_usd is not None]
    return ModelSummary(
        model=model, version=version, runs=runs, images=images, failures=len(failed),
        failure_rate=round(len(failed) / runs, 4) if runs else 0.0,
        median_latency_ms=round(statistics.median(latencies), 3) if latencies else None,
        latencies_ms=latencies,
        typography_cer=round(statistics.fmean(cers), 4) if cers else None,
        typography_checks=len(cers),
        cost_per_asset=round(sum(costs) / images, 6) if images and costs else None,
        passed=bool(runs) and not failed and all(i.checks_passed is not False for i in ok),
    )


@dataclass(frozen=True)
class BenchJob:
    """One prompt x model x seed to run; its key is what a resumed run skips."""

    model: str
    prompt_index: int
    prompt: str
    seed: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.model, self.prompt_index, self.seed)


def _result_row(item: BenchItem) -> dict[str, Any]:
    return {"model": item.model, "model_version": item.model_version,
            "prompt_index": item.prompt_index, "seed": item.seed,
            "generation_id": item.generation_id, "status": item.status[:20],
            "latency_ms": item.latency_ms, "cost_usd": item.cost_usd, "cer": item.cer,
            "checks_passed": item.checks_passed}


def _check_run_id(run_id: str) -> str:
    if not RUN_ID.fullmatch(run_id):
        raise InvalidRequestError(f"bad run id {run_id!r}",
                                  "use 1 to 26 letters, digits, '.', '_' or '-'")
    return run_id


async def run_bench(
    studio: Studio, prompt_set: PromptSet, models: Sequence[str], seeds: int = 1, *,
    concurrency: int = 2, on_progress: ProgressFn | None = None, run_id: str | None = None,
    resume: bool = False, max_cost: float | None = None, score: Scorer | None = None,
) -> BenchReport:
    """Run every prompt x model x seed, storing each result as it lands, and validate passing
    model versions once the run is complete.

    Args:
        studio: The studio (generations are stored in the run's "bench" conversation).
        prompt_set: The prompts.
        models: Concrete model names (routes are not benched).
        seeds: Seeds per prompt (0, 1, ..., seeds - 1: the same for every model).
        concurrency: Generations in flight at once (blocking local engines run one at a time).
        on_progress: Called after each item with (done, total, item); ``done`` counts the
            results a resumed run found stored.
        run_id: The run's id (default: a new ULID).
        resume: Continue the stored run ``run_id``: its stored results (and images stored
            without a result) are kept, the rest run.
        max_cost: Stop starting generations once the next one could take the run's spending
            (stored results included) above this many USD.
        score: Checks each finished generation as a stage of its own (``--executor ray``:
            Ray tasks) instead of inline; a generation slot is free while its checks run.

    Raises:
        InvalidRequestError: no models, an unknown model, seeds < 1, a bad or taken run id,
            a run to resume that is missing or was started with other prompts, models or seeds,
            or ``max_cost`` with a model whose price is unknown.
    """
    from chatimg.spec import GenerationSpec

    if not models:
        raise InvalidRequestError("name at least one model with -m")
    if seeds < 1:
        raise InvalidRequestError("--seeds must be at least 1")
    versions: dict[str, str | None] = {}
    gates: dict[str, asyncio.Semaphore] = {}
    prices: dict[str, float] = {}
    for model in dict.fromkeys(models):
        engine = studio.engine(model)
        versions[model] = engine.info.version
        gates[model] = asyncio.Semaphore(1 if engine.blocking else max(1, concurrency))
        price = engine.info.cost_per_image
        if max_cost is not None and price is None:
            raise InvalidRequestError(f"--max-cost needs a price for {model}",
                                      f"set cost_per_image in [models.{model}]")
        prices[model] = price or 0.0
    store = studio.repo.bench
    run_id, conversation_id, created = _open_run(studio, prompt_set, list(versions), seeds,
                                                 run_id, resume)
    jobs = [BenchJob(m, i, p, s) for m in versions for i, p in enumerate(prompt_set.prompts)
            for s in range(seeds)]
    items: dict[tuple[str, int, int], BenchItem] = {}
    stored = {(r["model"], r["prompt_index"], r["seed"]): r for r in store.results(run_id)}
    kept = {key: row for key, row in stored.items() if row["status"] == "succeeded"}
    items.update(_stored_items(studio, jobs, kept))
    for item in _adopt_unlinked(studio, run_id, conversation_id, jobs, items):
        store.add_result(run_id, _result_row(item))
        items[(item.model, item.prompt_index, item.seed)] = item
    resumed = len(items)
    spent = sum(i.cost_usd or 0.0 for i in items.values())
    reserved = 0.0
    stopped: str | None = None
    overall = asyncio.Semaphore(max(1, concurrency))

    async def one(job: BenchJob) -> None:
        nonlocal spent, reserved, stopped
        async with overall, gates[job.model]:
            estimate = prices[job.model]
            if stopped or (max_cost is not None
                           and spent + reserved + estimate > max_cost + 1e-9):
                stopped = stopped or "max-cost"
                return
            reserved += estimate
            generation: domain.Generation | None = None
            error: str | None = None
            try:
                outcome = await studio.generate(job.prompt, [job.model],
                                                GenerationSpec(seed=job.seed),
                                                conversation_id=conversation_id,
                                                validate=score is None)
                generation = outcome.generations[-1]
            except ChatImgError as exc:
                error = exc.one_line()
            finally:
                reserved -= estimate
            cost = generation.cost_usd if generation is not None else None
            spent += cost if cost is not None else estimate
        if score is not None and generation is not None and generation.status == "succeeded":
            generation, error = await _scored(studio, generation, score)
        item = _item_from(job.model, job.prompt_index, job.prompt, job.seed, generation, error)
        if error is not None and generation is not None:
            item = replace(item, status="failed", error=error)
        store.add_result(run_id, _result_row(item))
        items[job.key] = item
        if on_progress is not None:
            on_progress(len(items), len(jobs), item)

    await asyncio.gather(*(one(job) for job in jobs if job.key not in items))
    ordered = tuple(items[job.key] for job in jobs if job.key in items)
    per_model: dict[str, list[BenchItem]] = defaultdict(list)
    for item in ordered:
        per_model[item.model].append(item)
    summaries = []
    for model in versions:
        ran = [i.model_version for i in per_model[model] if i.model_version]
        summaries.append(summarise(model, per_model[model], ran[-1] if ran else versions[model]))
    complete = len(ordered) == len(jobs)
    store.finish_run(run_id, {s.model: {k: v for k, v in asdict(s).items()
                                        if k != "latencies_ms"} for s in summaries},
                     finished=complete)
    validated: dict[str, str] = {}
    for summary in summaries if complete else ():
        if summary.passed and summary.version:
            store.mark_validated(summary.model, summary.version, run_id)
            validated[summary.model] = summary.version
    return BenchReport(run_id, prompt_set, tuple(versions), tuple(range(seeds)),
                       conversation_id, created, ordered, tuple(summaries), validated,
                       planned=len(jobs), resumed=resumed, spent_usd=round(spent, 6),
                       stopped=stopped)


async def _scored(studio: Studio, generation: domain.Generation, score: Scorer
                  ) -> tuple[domain.Generation, str | None]:
    """``generation`` with the verdicts of the checks stage stored, or its one-line failure."""
    try:
        results = await score(generation)
    except ChatImgError as exc:
        return generation, exc.one_line()
    await asyncio.to_thread(studio.repo.add_validations, results, completes=generation.id)
    return replace(generation, validations=tuple(results)), None


def _open_run(studio: Studio, prompt_set: PromptSet, models: list[str], seeds: int,
              run_id: str | None, resume: bool) -> tuple[str, str, datetime]:
    """The run's id, conversation and start time: stored (resume) or new."""
    store = studio.repo.bench
    if resume:
        if not run_id:
            raise InvalidRequestError("--resume needs --run-id", "name the run to continue")
        run = store.get_run(_check_run_id(run_id))
        if run is None:
            raise InvalidRequestError(f"no bench run {run_id} to resume",
                                      "start it without --resume")
        if (run.prompts_sha256, sorted(run.models), run.seeds) != (
                prompt_set.sha256, sorted(models), seeds):
            raise InvalidRequestError(
                f"bench run {run_id} was started with other prompts, models or seeds",
                "resume it with the same prompts file, -m models and --seeds")
        if run.conversation_id is None:
            raise InvalidRequestError(f"bench run {run_id} lost its conversation",
                                      "start a new run")
        return run.run_id, run.conversation_id, run.created_at
    run_id = _check_run_id(run_id) if run_id else new_id()
    if store.get_run(run_id) is not None:
        raise InvalidRequestError(f"bench run {run_id} exists", "add --resume to continue it")
    created = utcnow()
    conversation = studio.create_conversation(
        f"bench {prompt_set.name} {created:%Y-%m-%d %H:%M}", models[0])
    store.start_run(run_id, prompts_name=prompt_set.name, prompts_sha256=prompt_set.sha256,
                    prompt_count=len(prompt_set.prompts), models=models, seeds=seeds,
                    conversation_id=conversation.id, created_at=created)
    return run_id, conversation.id, created


def _stored_items(studio: Studio, jobs: Sequence[BenchJob], kept: dict[tuple[str, int, int],
                  dict[str, Any]]) -> dict[tuple[str, int, int], BenchItem]:
    """Items for results a resumed run keeps, rebuilt from their generations."""
    ids = [row["generation_id"] for row in kept.values() if row["generation_id"]]
    generations = {g.id: g for g in studio.get_generations(ids)} if ids else {}
    found: dict[tuple[str, int, int], BenchItem] = {}
    for job in jobs:
        row = kept.get(job.key)
        generation = generations.get(row["generation_id"]) if row else None
        if generation is not None:
            found[job.key] = _item_from(job.model, job.prompt_index, job.prompt, job.seed,
                                        generation, None)
    return found


def _adopt_unlinked(studio: Studio, run_id: str, conversation_id: str,
                    jobs: Sequence[BenchJob], items: dict[tuple[str, int, int], BenchItem]
                    ) -> list[BenchItem]:
    """Items for images a killed run stored without their result (so they are not redone)."""
    waiting: dict[tuple[str, str, Any], list[BenchJob]] = defaultdict(list)
    for job in jobs:
        if job.key not in items:
            waiting[(job.model, job.prompt, job.seed)].append(job)
    adopted: list[tuple[BenchJob, str]] = []
    for gid, model, prompt, seed in studio.repo.bench.unlinked_generations(run_id,
                                                                          conversation_id):
        matching = waiting.get((model, prompt, seed))
        if matching:
            adopted.append((matching.pop(0), gid))
    if not adopted:
        return []
    generations = {g.id: g for g in studio.get_generations([gid for _, gid in adopted])}
    return [_item_from(job.model, job.prompt_index, job.prompt, job.seed, generations[gid], None)
            for job, gid in adopted if gid in generations]
