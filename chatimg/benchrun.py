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
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg.errors import ChatImgError, InvalidRequestError
from chatimg.ids import new_id
from chatimg.resources import package_file
from chatimg.store.tables import utcnow

if TYPE_CHECKING:
    from chatimg import domain
    from chatimg.studio import Studio

DEFAULT_PROMPTS = "default"


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


async def run_bench(
    studio: Studio, prompt_set: PromptSet, models: Sequence[str], seeds: int = 1, *,
    concurrency: int = 2, on_progress: ProgressFn | None = None,
) -> BenchReport:
    """Run every prompt x model x seed, store the run, and validate passing model versions.

    Args:
        studio: The studio (generations are stored in a new "bench" conversation).
        prompt_set: The prompts.
        models: Concrete model names (routes are not benched).
        seeds: Seeds per prompt (0, 1, ..., seeds - 1: the same for every model).
        concurrency: Generations in flight at once (blocking local engines run one at a time).
        on_progress: Called after each item with (done, total, item).

    Raises:
        InvalidRequestError: no models, an unknown model, or seeds < 1.
    """
    from chatimg.spec import GenerationSpec

    if not models:
        raise InvalidRequestError("name at least one model with -m")
    if seeds < 1:
        raise InvalidRequestError("--seeds must be at least 1")
    versions: dict[str, str | None] = {}
    gates: dict[str, asyncio.Semaphore] = {}
    for model in dict.fromkeys(models):
        engine = studio.engine(model)
        versions[model] = engine.info.version
        gates[model] = asyncio.Semaphore(1 if engine.blocking else max(1, concurrency))
    created = utcnow()
    conversation = studio.create_conversation(
        f"bench {prompt_set.name} {created:%Y-%m-%d %H:%M}", models[0]
    )
    jobs = [(m, i, p, s) for m in versions for i, p in enumerate(prompt_set.prompts)
            for s in range(seeds)]
    overall = asyncio.Semaphore(max(1, concurrency))
    done = 0

    async def one(model: str, index: int, prompt: str, seed: int) -> BenchItem:
        nonlocal done
        async with overall, gates[model]:
            try:
                outcome = await studio.generate(
                    prompt, [model], GenerationSpec(seed=seed),
                    conversation_id=conversation.id,
                )
                item = _item_from(model, index, prompt, seed, outcome.generations[-1], None)
            except ChatImgError as exc:
                item = _item_from(model, index, prompt, seed, None, exc.one_line())
        done += 1
        if on_progress is not None:
            on_progress(done, len(jobs), item)
        return item

    items = await asyncio.gather(*(one(*job) for job in jobs))
    per_model: dict[str, list[BenchItem]] = defaultdict(list)
    for item in items:
        per_model[item.model].append(item)
    summaries = []
    for model in versions:
        ran = [i.model_version for i in per_model[model] if i.model_version]
        summaries.append(summarise(model, per_model[model], ran[-1] if ran else versions[model]))
    run_id = new_id()
    store = studio.repo.bench
    store.save_run(
        run_id, prompts_name=prompt_set.name, prompts_sha256=prompt_set.sha256,
        prompt_count=len(prompt_set.prompts), models=list(versions), seeds=seeds,
        conversation_id=conversation.id,
        summary={s.model: {k: v for k, v in asdict(s).items() if k != "latencies_ms"}
                 for s in summaries},
        results=[
            {"model": i.model, "model_version": i.model_version, "prompt_index": i.prompt_index,
             "seed": i.seed, "generation_id": i.generation_id, "status": i.status[:20],
             "latency_ms": i.latency_ms, "cost_usd": i.cost_usd, "cer": i.cer,
             "checks_passed": i.checks_passed}
            for i in items
        ],
        created_at=created,
    )
    validated: dict[str, str] = {}
    for summary in summaries:
        if summary.passed and summary.version:
            store.mark_validated(summary.model, summary.version, run_id)
            validated[summary.model] = summary.version
    return BenchReport(run_id, prompt_set, tuple(versions), tuple(range(seeds)),
                       conversation.id, created, tuple(items), tuple(summaries), validated)
