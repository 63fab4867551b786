"""The forward-only generation run: route a message's spec, run each model, store, validate.

One ``GenerationRun`` serves one message. Every step writes once and moves on: the generation row
is created queued, marked running (with the seed that will run), then finished with its images
and receipt in one transaction; the record the repository wrote is what events carry, so nothing
is read back. Each image is decoded (or encoded) once, and the validators get the decoded pixels.

An image reaches the UI before it is stored: an ``image`` event carries the engine's decoded
picture at once, and its PNG encoding, hashing and fsynced write run in a small thread pool (for
a batch, while the engine makes the next image). ``finished`` still means stored: files first,
then the rows. A process killed between the two leaves the generation ``running`` (marked
``interrupted`` on the next start, with the seed it ran) and at most an unreferenced file.
"""

from __future__ import annotations

import asyncio
import enum
import platform
import random
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chatimg import __version__, domain
from chatimg.engines.base import CancelToken, GeneratedImage, GenerationResult, Progress
from chatimg.errors import (
    CancelledError,
    ChatImgError,
    EngineRequestError,
    InvalidRequestError,
)
from chatimg.imaging import PreparedImage, decode, prepare
from chatimg.spec import GenerationSpec, Receipt, ReceiptImage, ReceiptModel, RouteHints
from chatimg.store.tables import utcnow

if TYPE_CHECKING:
    from PIL.Image import Image

    from chatimg.config import Settings
    from chatimg.engines.base import Engine, EngineRequest, ModelInfo
    from chatimg.routing import Router
    from chatimg.store.assets import AssetStore, StoredFile
    from chatimg.store.repository import Repository


class Outcome(enum.Enum):
    """How one model's run ended, for the fallback chain."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """The model failed; the next one in the chain may succeed."""
    INVALID = "invalid"
    """The request itself is wrong; no other model will do better."""
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class GenerationEvent:
    """Reported while a message's generations run (possibly from a worker thread).

    ``kind`` is ``queued``, ``started``, ``progress``, ``image``, ``finished`` or
    ``validated``; ``image`` carries a decoded image before it is stored (``index`` in the
    batch of ``count``); ``finished`` and ``validated`` carry the generation as stored.
    """

    kind: str
    generation_id: str
    model: str
    progress: Progress | None = None
    generation: domain.Generation | None = None
    image: Image | None = None
    index: int = 0
    count: int = 1
    """The images the request asked for (``image`` events): a card lays out its grid once."""


EventCallback = Callable[[GenerationEvent], None]

#: Stored image: what ``prepare`` made of it, and the file it went to.
Encoded = tuple[PreparedImage, "StoredFile"]
_POOL_LOCK = threading.Lock()
_POOL: list[ThreadPoolExecutor] = []


def encoders() -> ThreadPoolExecutor:
    """The process's pool for PNG encoding, hashing and fsynced writes (two threads)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="chatimg-store"))
        return _POOL[0]


@dataclass(frozen=True)
class GenerateOutcome:
    """A sent message and its generations, as stored."""

    message: domain.Message
    generations: tuple[domain.Generation, ...]

    @property
    def any_succeeded(self) -> bool:
        return any(g.status == "succeeded" for g in self.generations)


@dataclass(frozen=True)
class Ask:
    """One message's request: the spec, what travels beside it, and its decoded inputs."""

    spec: GenerationSpec
    hints: RouteHints = field(default_factory=RouteHints)
    """For routing only."""
    expected_text: tuple[str, ...] | None = None
    """For the typography check only (default: the prompt's quoted text)."""
    source_image: bytes | None = None
    mask: bytes | None = None
    options: dict[str, Any] | None = None
    """Engine option overrides for this run (a receipt's, on replay)."""


def environment() -> dict[str, Any]:
    """Where a run happened, for its receipt."""
    return {"chatimg": __version__, "python": platform.python_version(),
            "platform": sys.platform, "machine": platform.machine()}


#: Spec fields a PNG leaves out: they describe the request, not how this one image was made.
_NOT_IN_PNG = ("count", "upscale", "source_asset", "mask_asset")


def png_parameters(model: str, info: ModelInfo, spec: GenerationSpec,
                   seed: int | None, version: str | None = None) -> dict[str, Any]:
    """What a stored PNG says about how it was made (the spec that ran, this image's seed).

    The key set is part of the stored bytes: a field that is unset adds nothing, so images of
    earlier versions are made again byte for byte.
    """
    values = {**spec.stored(), "model": model, "model_id": info.model_id,
              "version": version or info.version, "seed": seed}
    for key in _NOT_IN_PNG:
        values.pop(key, None)
    return {key: value for key, value in values.items() if value is not None}


async def reproduce(engine: Engine, model: str, receipt: Receipt, ask: Ask,
                    progress: Callable[[Progress], None], cancel: CancelToken
                    ) -> list[bytes | None]:
    """Run a receipt's spec again (with its engine options on its own model) and return the
    bytes chatimg would store for each image (None where the provider withheld one)."""
    options = receipt.options if model == receipt.model.name else None
    if options:  # format-1 receipts may name options this engine never read: ignored then
        options = {k: v for k, v in options.items() if k in engine.Options.model_fields}
    request = engine.validate_request(engine.request(
        receipt.run_spec, source_image=ask.source_image, mask=ask.mask, options=options))
    info = engine.info
    version = info.version
    if model == receipt.model.name and receipt.model.version in info.kept_versions:
        version = receipt.model.version  # an earlier version this engine still runs
        request = replace(request, version=version)
    result = await engine.generate(request, progress, cancel)
    return [
        None if image.safety_filtered else prepare(
            image.data, image.image,
            png_parameters(model, info, request.spec, image.seed, version)).data
        for image in result.images
    ]


#: ``(message_id, failed generation, route reason) -> repaired generation or None``.
RepairStep = Callable[[str, domain.Generation, str], Awaitable[domain.Generation | None]]


class GenerationRun:
    """Runs one message on its models (concurrently), each through its routing chain.

    Args:
        settings: Validation settings and the secrets to redact.
        repo: Where rows go.
        assets: Where files go (before the rows that point at them).
        engine: Model name → engine.
        router: Plans ``auto`` and policies.
        redact: Removes secrets from text shown to people.
        emit: Receives events.
        cancel: Cancels every model of the message.
        repair: Repairs the text of a generation whose typography check failed, as a new
            generation in the same message (``fallback_of`` the failed one); None when there
            is nothing it can repair. Used by policies with ``repair_on_validation``.
    """

    def __init__(self, settings: Settings, repo: Repository, assets: AssetStore,
                 engine: Callable[[str], Engine], router: Router,
                 redact: Callable[[str], str], emit: EventCallback, cancel: CancelToken,
                 repair: RepairStep | None = None) -> None:
        self.settings = settings
        self.repo = repo
        self.assets = assets
        self.engine = engine
        self.router = router
        self.redact = redact
        self.emit = emit
        self.cancel = cancel
        self.repair = repair

    async def run(self, message_id: str, models: Sequence[str], ask: Ask,
                  validate: bool = True) -> list[domain.Generation]:
        """Every model at once; the generations in model order, fallbacks after their first."""
        chains = await asyncio.gather(
            *(self.run_chain(message_id, model, ask, validate) for model in models)
        )
        return [generation for chain in chains for generation in chain]

    async def run_chain(self, message_id: str, requested: str, ask: Ask,
                        validate: bool) -> list[domain.Generation]:
        """Route ``requested`` and run its chain until one model succeeds."""
        try:
            plan = self.router.plan(requested, ask.spec, ask.hints)
        except ChatImgError as exc:
            return [self.failed_row(message_id, requested, ask.spec, exc)]
        done: list[domain.Generation] = []
        previous: str | None = None
        why_previous = ""
        for position, model in enumerate(plan.chain):
            reason = plan.reason if position == 0 else plan.fallback_reasons.get(model)
            if position and reason:
                reason = f"{reason}: {plan.chain[position - 1]} {why_previous}"
            generation, outcome, images = await self.run_one(
                message_id, requested, model, ask, route_reason=reason, fallback_of=previous,
                validate=validate)
            if outcome is Outcome.SUCCEEDED and validate:
                generation = await self.validate(generation, ask, images)
                passed = all(check.passed for check in generation.validations)
                if not passed and plan.fallback_on_validation and position + 1 < len(plan.chain):
                    done.append(generation)
                    previous, why_previous = generation.id, "failed validation"
                    continue
            done.append(generation)
            if outcome is not Outcome.FAILED:
                break
            previous = generation.id
            why_previous = f"failed ({(generation.error or outcome.value)[:160]})"
        last = done[-1]
        if (plan.repair_on_validation and validate and self.repair is not None
                and last.status == "succeeded" and not self.cancel.cancelled
                and any(check.name == "typography" and not check.passed
                        for check in last.validations)):
            repaired = await self.repair(
                message_id, last,
                f"{requested}: repair: {last.resolved_model or last.requested_model} "
                f"failed the typography check")
            if repaired is not None:
                done.append(repaired)
        return done

    def failed_row(self, message_id: str, requested: str, spec: GenerationSpec,
                   exc: ChatImgError) -> domain.Generation:
        """A generation that failed before any model was chosen (stored, then announced)."""
        generation = self.repo.create_generation(
            message_id, requested, spec.stored(), status="failed",
            error=self.redact(exc.one_line()),
        )
        self.emit(GenerationEvent("finished", generation.id, requested, generation=generation))
        return generation

    async def run_one(
        self, message_id: str, requested: str, model: str, ask: Ask, *,
        route_reason: str | None = None, fallback_of: str | None = None, validate: bool = True,
    ) -> tuple[domain.Generation, Outcome, list[Image]]:
        """Run one model once: the stored generation, how it ended, and its decoded images.

        A success is stored with its checks ``pending`` when they will run (``validate`` and
        validators enabled), so ``chatimg doctor`` can finish checks a crash interrupted.
        """
        try:
            engine = self.engine(model)
            info = engine.info
        except ChatImgError as exc:
            generation = self.repo.create_generation(
                message_id, requested, ask.spec.stored(), resolved_model=model,
                status="failed", error=self.redact(exc.one_line()), route_reason=route_reason,
                fallback_of=fallback_of,
            )
            self.emit(GenerationEvent("finished", generation.id, model, generation=generation))
            return generation, Outcome.FAILED, []
        row: dict[str, Any] = {
            "resolved_model": model, "engine_kind": info.engine, "model_id": info.model_id,
            "model_version": info.version, "route_reason": route_reason,
            "fallback_of": fallback_of}
        try:
            request = self.checked_request(engine, info, ask)
        except ChatImgError as exc:
            queued = self.repo.create_generation(message_id, requested, ask.spec.stored(), **row)
            self.emit(GenerationEvent("queued", queued.id, model))
            outcome = Outcome.FAILED
            if isinstance(exc, InvalidRequestError):
                from chatimg.routing import missing_capability

                # another model in the chain may have what this one lacks
                outcome = Outcome.FAILED if missing_capability(info, ask.spec) else Outcome.INVALID
            return self.end(queued.id, model, exc, "failed"), outcome, []
        params = ask.spec.stored()
        if ask.spec.seed is None and request.spec.seed is not None:
            # the seed chosen for this run is kept now: an interrupted run can be made again
            params = {**params, "seed": request.spec.seed}
        # one row, written running (it was queued only while its request was checked)
        gid = self.repo.create_generation(message_id, requested, params, status="running",
                                          **row).id
        self.emit(GenerationEvent("queued", gid, model))
        self.emit(GenerationEvent("started", gid, model))
        early: dict[int, Future[Encoded]] = {}
        shown: list[int] = []

        def deliver(image: GeneratedImage) -> None:
            """Show a finished image now; encode and write it in the pool meanwhile."""
            if id(image) in early or image.safety_filtered or image.stored is not None:
                return  # (a Ray replica's image is in the shared store already)
            if image.image is not None:
                self.emit(GenerationEvent("image", gid, model, image=image.image,
                                          index=len(shown), count=request.spec.count))
                shown.append(id(image))
            early[id(image)] = encoders().submit(self.encode, model, info, request.spec, image)

        def on_progress(report: Progress) -> None:
            if report.image is not None:
                deliver(report.image)
                return
            self.emit(GenerationEvent("progress", gid, model, progress=report))

        clock = time.perf_counter()
        try:
            if self.cancel.cancelled:
                raise CancelledError("cancelled before it started")
            result = await engine.generate(request, on_progress, self.cancel)
        except CancelledError as exc:
            return self.end(gid, model, exc, "cancelled"), Outcome.CANCELLED, []
        except ChatImgError as exc:
            return self.end(gid, model, exc, "failed"), Outcome.FAILED, []
        except Exception as exc:  # an engine bug must not take the app down
            error = EngineRequestError(f"{type(exc).__name__}: {exc}")
            return self.end(gid, model, error, "failed"), Outcome.FAILED, []
        latency_ms = (time.perf_counter() - clock) * 1000
        for image in result.images:  # engines that hand over the whole batch at the end
            deliver(image)
        try:
            generation, images = await asyncio.to_thread(
                self.store, gid, model, info, request, result, latency_ms, validate, early)
        except ChatImgError as exc:
            return self.end(gid, model, exc, "failed"), Outcome.FAILED, []
        self.emit(GenerationEvent("finished", gid, model, generation=generation))
        outcome = {"succeeded": Outcome.SUCCEEDED, "cancelled": Outcome.CANCELLED}.get(
            generation.status, Outcome.FAILED)
        return generation, outcome, images

    def checked_request(self, engine: Engine, info: ModelInfo, ask: Ask) -> EngineRequest:
        """The engine request for ``ask``: available, valid, defaults filled, seed chosen."""
        availability = engine.availability()
        if not availability.available:
            raise EngineRequestError(f"{engine.name} is unavailable: {availability.reason}",
                                     reason="unavailable", retryable=True)
        request = engine.validate_request(engine.request(
            ask.spec, source_image=ask.source_image, mask=ask.mask, options=ask.options))
        if info.capabilities.seed and request.spec.seed is None:
            limit = 2**32 - request.spec.count
            seed = random.SystemRandom().randrange(limit)
            request = request.with_spec(request.spec.model_copy(update={"seed": seed}))
        return request

    def end(self, generation_id: str, model: str, exc: ChatImgError,
            status: str) -> domain.Generation:
        """Store a generation's end without images, announce it, return it as written."""
        generation = self.repo.end_generation(
            generation_id, status=status, error=self.redact(exc.one_line()),
            finished_at=utcnow(),
        )
        self.emit(GenerationEvent("finished", generation_id, model, generation=generation))
        return generation

    def encode(self, model: str, info: ModelInfo, spec: GenerationSpec,
               image: GeneratedImage) -> Encoded:
        """An engine image as stored: PNG with its parameters, hashed, written and fsynced."""
        prepared = prepare(image.data, image.image, png_parameters(model, info, spec, image.seed))
        width, height = prepared.size
        return prepared, self.assets.put(prepared.data, described=(prepared.mime, width, height))

    def store(self, generation_id: str, model: str, info: ModelInfo, request: EngineRequest,
              result: GenerationResult, latency_ms: float, validate: bool = True,
              early: dict[int, Future[Encoded]] | None = None,
              ) -> tuple[domain.Generation, list[Image]]:
        """Files first (each image prepared once), then the rows and receipt in one transaction.

        ``early`` holds the images already being written (by ``id`` of the engine's image);
        the rest are written here. ``validate`` False (a run asked not to check) stores no
        pending checks.
        """
        spec = request.spec
        files: list[tuple[StoredFile, int | None, str | None]] = []
        decoded: list[Image] = []
        receipt_images: list[ReceiptImage] = []
        filtered = 0
        for image in result.images:
            if image.safety_filtered:
                filtered += 1
                receipt_images.append(
                    ReceiptImage(safety_filtered=True, seed=image.seed, **image.info))
                continue
            if image.stored is not None:  # a Ray replica put it in the shared store
                stored = self.assets.adopt(image.stored)
                if validate and self.settings.validation.enabled:
                    decoded.append(decode(self.assets.read(stored.path))[0])
            else:
                pending = (early or {}).get(id(image))
                prepared, stored = (pending.result() if pending is not None
                                    else self.encode(model, info, spec, image))
                decoded.append(prepared.image)
            files.append((stored, image.seed, image.revised_prompt))
            receipt_images.append(ReceiptImage(sha256=stored.sha256, seed=image.seed,
                                               **image.info))
        if result.cost_usd is not None:
            cost, estimated = result.cost_usd, False
        elif info.cost_per_image is not None:
            cost, estimated = round(info.cost_per_image * len(result.images), 6), True
        else:
            cost, estimated = None, True
        caps = info.capabilities
        deterministic = caps.deterministic and caps.seed
        version = result.model_version or info.version
        receipt = Receipt(
            model=ReceiptModel(name=model, engine=info.engine, model_id=info.model_id,
                               version=version),
            run_spec=spec, options=dict(result.options),
            engine=dict(result.receipt),
            images=tuple(receipt_images),
            environment={**environment(), **result.receipt.get("environment", {})},
            deterministic=deterministic,
            note=None if deterministic else "non-deterministic provider",
        )
        status, error = "succeeded", None
        if result.cancelled and files:  # a cancel keeps what finished
            status, error = "cancelled", f"cancelled — {len(files)} of {spec.count}"
        elif not files:
            status = "failed"
            error = (f"safety filter: the provider withheld all {filtered} image(s)"
                     if filtered else "the engine returned no images")
        checks = ("pending" if status == "succeeded" and validate
                  and self.settings.validation.enabled else None)
        generation = self.repo.finish_generation(
            generation_id, files, status=status, error=error, finished_at=utcnow(),
            checks_state=checks, latency_ms=round(latency_ms, 3), cost_usd=cost,
            cost_estimated=estimated, receipt=receipt.stored(), model_version=version,
        )
        return generation, decoded

    async def validate(self, generation: domain.Generation, ask: Ask,
                       images: list[Image]) -> domain.Generation:
        """Run the enabled validators on the decoded images; store and announce the verdicts."""
        if not self.settings.validation.enabled or not images:
            return generation
        from chatimg.validate import validate_images

        results = await asyncio.to_thread(
            validate_images, generation, images, ask.expected_text, self.settings)
        # marks the checks done even when none applied, so doctor never re-runs them
        self.repo.add_validations(results, completes=generation.id)
        if not results:
            return generation
        checked = replace(generation, validations=tuple(results))
        self.emit(GenerationEvent("validated", generation.id, generation.model,
                                  generation=checked))
        return checked
