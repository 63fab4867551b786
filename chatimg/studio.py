"""The domain service the TUI and CLI share: conversations, messages, generations, search.

``Studio`` returns domain records (``chatimg.domain``), never ORM rows. Generation is async:
local engines run in worker threads, remote engines on the caller's event loop, and every step
is persisted (the message first, then queued generations, then files, then rows).
"""

from __future__ import annotations

import asyncio
import io
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg import __version__, domain, paths
from chatimg.config import Settings, load_settings
from chatimg.engines.base import (
    CancelToken,
    EngineContext,
    GeneratedImage,
    GenerationRequest,
    GenerationResult,
    Progress,
)
from chatimg.engines.catalog import Catalog
from chatimg.errors import (
    CancelledError,
    ChatImgError,
    EngineRequestError,
    InvalidRequestError,
    NotFoundError,
)
from chatimg.pngmeta import embed_parameters
from chatimg.store.assets import AssetStore, StoredFile, describe_image
from chatimg.store.database import Database
from chatimg.store.repository import Repository
from chatimg.store.tables import utcnow

if TYPE_CHECKING:
    from chatimg.engines.base import Engine
    from chatimg.routing import Router


@dataclass(frozen=True)
class GenerationParams:
    """What a person asks for besides the prompt. ``None`` means "the model's default"."""

    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    width: int | None = None
    height: int | None = None
    count: int = 1
    negative_prompt: str | None = None
    strength: float | None = None
    source: str | None = None
    """An asset sha256 (or unique prefix) or an image file path, for img2img/inpaint/upscale."""
    mask: str | None = None
    """An image file path or asset sha256 for inpainting."""
    upscale: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "seed": self.seed, "steps": self.steps, "guidance": self.guidance,
            "scheduler": self.scheduler, "width": self.width, "height": self.height,
            "count": self.count, "negative_prompt": self.negative_prompt,
            "strength": self.strength, "source": self.source, "mask": self.mask,
            "upscale": self.upscale,
        }
        if self.extra:
            values["extra"] = dict(self.extra)
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParams:
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)


@dataclass(frozen=True)
class GenerationEvent:
    """Reported while a message's generations run (possibly from a worker thread).

    ``kind`` is ``queued``, ``started``, ``progress``, ``finished`` or ``validated``.
    """

    kind: str
    generation_id: str
    model: str
    progress: Progress | None = None
    generation: domain.Generation | None = None


EventCallback = Callable[[GenerationEvent], None]


@dataclass(frozen=True)
class GenerateOutcome:
    """A sent message and its generations, as stored."""

    message: domain.Message
    generations: tuple[domain.Generation, ...]

    @property
    def any_succeeded(self) -> bool:
        return any(g.status == "succeeded" for g in self.generations)


def _environment() -> dict[str, Any]:
    return {
        "chatimg": __version__,
        "python": platform.python_version(),
        "platform": sys.platform,
        "machine": platform.machine(),
    }


def encode_png(image: Any) -> bytes:
    """Encode a PIL image as PNG (deterministic: no timestamps).

    zlib level 1: half the encode time of level 4 for a 512x512 diffusion-like image
    (24 vs 48 ms here) for files about 12% larger; encoding is most of what storing an
    image costs on a GPU machine.
    """
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class Studio:
    """Everything a person can do, for the TUI and the CLI alike.

    Args:
        settings: Loaded settings.
        database: An open database (migrated).
        assets: The asset store.
        context: Shared engine context (HTTP client, caches).
    """

    def __init__(
        self,
        settings: Settings,
        database: Database,
        assets: AssetStore,
        context: EngineContext | None = None,
    ) -> None:
        self.settings = settings
        self.db = database
        self.assets = assets
        self.repo = Repository(database, assets.root)
        self.context = context or EngineContext(settings)
        self._catalog: Catalog | None = None
        self._router: Router | None = None

    @classmethod
    def open(
        cls, settings: Settings | None = None, *, migrate: bool = True, tidy: bool = True
    ) -> Studio:
        """Build a Studio from settings (default: the config file and environment).

        Upgrades the database to the newest schema, marks generations a previous process left
        running as ``interrupted`` and removes half-written asset files (unless ``tidy`` is
        False: ``chatimg doctor`` reports those instead).
        """
        settings = settings or load_settings()
        database = Database(settings.database_url)
        if migrate:
            database.ensure_current()
        studio = cls(settings, database, AssetStore(paths.assets_dir()))
        if migrate and tidy and database.writable:
            studio.tidy_after_crashes()
        return studio

    def tidy_after_crashes(self) -> None:
        """Mark generations whose process died as ``interrupted`` and remove old temp files of
        dead writers. Live processes' work is left alone; a failure here (a full disk) never
        stops a start."""
        from chatimg.errors import StoreError

        try:
            self.repo.mark_interrupted()
        except StoreError:
            pass
        self.assets.sweep_partials()

    def close(self) -> None:
        self.db.dispose()

    async def close_engines(self) -> None:
        """Release engines and the shared HTTP client (the database stays open)."""
        if self._catalog is not None:
            await self._catalog.aclose()

    async def aclose(self) -> None:
        await self.close_engines()
        self.close()

    # -- catalog --------------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog.from_settings(self.context)
        return self._catalog

    @property
    def router(self) -> Router:
        if self._router is None:
            from chatimg.routing import Router

            self._router = Router(self.settings, self.catalog)
        return self._router

    def engine(self, model: str) -> Engine:
        return self.catalog.engine(model)

    async def describe(self, reference: str, model: str) -> str:
        """A prompt describing an image (asset sha256 prefix or file path), from ``model``.

        Raises:
            InvalidRequestError: bad reference, or the model cannot describe images.
            EngineRequestError: the provider failed.
        """
        data, _ = self.resolve_image(reference)
        engine = self.engine(model)
        if not engine.info.capabilities.describe:
            raise InvalidRequestError(f"{model} cannot describe images",
                                      "pick a model that can, e.g. ideogram-v2")
        try:
            return self.scrub(await engine.describe(data))
        except ChatImgError as exc:
            exc.message = self.scrub(exc.message)
            raise

    # -- conversations --------------------------------------------------------------------------

    def create_conversation(self, title: str = "", model: str | None = None) -> domain.Conversation:
        return self.repo.create_conversation(title.strip(), model or self.settings.default_model)

    def list_conversations(
        self, limit: int | None = None, offset: int = 0, query: str | None = None
    ) -> list[domain.Conversation]:
        """Conversations, newest activity first; ``query`` filters by title and prompt text."""
        if query and query.strip():
            ids = self.repo.conversation_ids_matching(query)
            found = {c.id: c for c in self.repo.list_conversations(ids=ids)}
            ordered = [found[i] for i in ids if i in found]
            return ordered[offset : offset + limit if limit else None]
        return self.repo.list_conversations(limit=limit, offset=offset)

    def get_conversation(self, conversation_id: str) -> domain.Conversation:
        return self.repo.get_conversation(conversation_id)

    def rename_conversation(self, conversation_id: str, title: str) -> domain.Conversation:
        title = " ".join(title.split())
        if not title:
            raise InvalidRequestError("a title cannot be empty")
        return self.repo.rename_conversation(conversation_id, title)

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation and its rows (asset files stay: other threads may share them)."""
        self.repo.delete_conversation(conversation_id)

    def add_message(
        self, conversation_id: str, text: str, *, role: str = "user",
        parent_id: str | None = None, model: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> domain.Message:
        return self.repo.add_message(
            conversation_id, text, role=role, parent_id=parent_id, model=model, params=params
        )

    def load_thread(self, conversation_id: str) -> domain.Thread:
        """A conversation's messages and generations; images marked ``missing`` or ``damaged``
        (wrong size) when their file is so."""
        from chatimg.doctor import with_file_states

        return with_file_states(self.repo.load_thread(conversation_id))

    def search(self, text: str, limit: int = 50) -> list[domain.SearchHit]:
        return self.repo.search(text, limit)

    def get_generation(self, generation_id: str) -> domain.Generation:
        return self.repo.get_generation(generation_id)

    def get_generations(self, generation_ids: Sequence[str]) -> list[domain.Generation]:
        return self.repo.get_generations(generation_ids)

    def delete_generation(self, generation_id: str) -> None:
        """Delete one generation (its image files stay: other generations may share them)."""
        self.repo.delete_generation(generation_id)

    def add_pick(
        self, generation_ids: Sequence[str], winner_id: str, picked_by: str | None = None
    ) -> domain.Pick:
        """Store a comparison's winner."""
        if winner_id not in generation_ids:
            raise InvalidRequestError("the winner must be one of the compared generations")
        conversations = {self.repo.conversation_of_generation(g) for g in generation_ids}
        if len(conversations) != 1:
            raise InvalidRequestError("compared generations must come from one conversation")
        return self.repo.add_pick(conversations.pop(), generation_ids, winner_id, picked_by)

    # -- assets ---------------------------------------------------------------------------------

    def store_image_bytes(self, data: bytes) -> StoredFile:
        """Store encoded image bytes and their asset row."""
        stored = self.assets.put(data)
        self.repo.record_asset(stored)
        return stored

    def resolve_image(self, reference: str) -> tuple[bytes, StoredFile]:
        """An asset sha256 (or unique prefix of 8+ hex chars) or an image file path → bytes.

        Files are stored as assets, so the lineage survives. Raises ``InvalidRequestError``.
        """
        candidate = Path(reference).expanduser()
        if candidate.is_file():
            try:
                data = candidate.read_bytes()
            except OSError as exc:
                raise InvalidRequestError(f"{reference}: cannot read: {exc.strerror}") from None
            try:
                describe_image(data)
            except InvalidRequestError:
                raise InvalidRequestError(f"{reference} is not an image") from None
            return data, self.store_image_bytes(data)
        text = reference.strip().lower()
        if len(text) >= 8 and all(c in "0123456789abcdef" for c in text):
            matches = self.repo.find_assets(text)
            if len(matches) == 1:
                asset = matches[0]
                try:
                    data = Path(asset.path).read_bytes()
                except OSError:
                    raise InvalidRequestError(
                        f"asset {asset.sha256[:12]} file is missing"
                    ) from None
                return data, self.assets.put(data)
            if len(matches) > 1:
                raise InvalidRequestError(f"asset prefix {reference!r} is ambiguous")
        raise InvalidRequestError(f"{reference!r} is neither an image file nor a stored asset")

    # -- generation -----------------------------------------------------------------------------

    def build_request(
        self, prompt: str, params: GenerationParams
    ) -> tuple[GenerationRequest, dict[str, Any]]:
        """Turn a prompt and params into an engine request; resolve source and mask images.

        Returns the request and the params to store (asset hashes instead of paths).
        """
        stored: dict[str, Any] = params.as_dict()
        source_bytes = mask_bytes = None
        if params.source:
            source_bytes, source_file = self.resolve_image(params.source)
            stored["source_asset"] = source_file.sha256
            stored.pop("source", None)
        if params.mask:
            if not params.source:
                raise InvalidRequestError("a mask needs a source image (--from)")
            mask_bytes, mask_file = self.resolve_image(params.mask)
            stored["mask_asset"] = mask_file.sha256
            stored.pop("mask", None)
        if params.upscale is not None and not params.source:
            raise InvalidRequestError("upscaling needs a source image (--from)")
        request = GenerationRequest(
            prompt=prompt, negative_prompt=params.negative_prompt, seed=params.seed,
            steps=params.steps, guidance=params.guidance, scheduler=params.scheduler,
            width=params.width, height=params.height, count=params.count,
            strength=params.strength, source_image=source_bytes, mask=mask_bytes,
            upscale=params.upscale, extra=dict(params.extra),
        )
        return request, stored

    async def generate(
        self,
        prompt: str,
        models: Sequence[str],
        params: GenerationParams | None = None,
        *,
        conversation_id: str | None = None,
        title: str | None = None,
        parent_id: str | None = None,
        on_event: EventCallback | None = None,
        cancel: CancelToken | None = None,
        validate: bool = True,
    ) -> GenerateOutcome:
        """Send a message: save it, then run it on every model in ``models`` concurrently.

        A bad request is stored as a failed generation with its reason (the message is kept).
        """
        params = params or GenerationParams()
        models = list(models) or [self.settings.default_model]
        cancel = cancel or CancelToken()
        emit = on_event or (lambda event: None)
        if not prompt.strip() and not params.source:
            raise InvalidRequestError("the prompt is empty")
        if conversation_id is None:
            conversation = self.create_conversation(title or _title_from(prompt), models[0])
            conversation_id = conversation.id
        else:
            self.repo.get_conversation(conversation_id)
        message = self.repo.add_message(
            conversation_id, prompt, parent_id=parent_id, model=models[0],
            params={**params.as_dict(), "models": models},
        )
        try:
            request, stored_params = self.build_request(prompt, params)
        except ChatImgError as exc:
            failed = [
                self.repo.create_generation(
                    message.id, model, params.as_dict(), status="failed", error=exc.one_line()
                )
                for model in models
            ]
            for generation in failed:
                emit(GenerationEvent("finished", generation.id, generation.requested_model,
                                     generation=generation))
            return GenerateOutcome(message, tuple(failed))
        tasks = [
            self._run_model(message.id, model, request, stored_params, emit, cancel, validate)
            for model in models
        ]
        ids = await asyncio.gather(*tasks)
        generations = self.repo.get_generations([gid for chain in ids for gid in chain])
        return GenerateOutcome(message, tuple(generations))

    async def _run_model(
        self, message_id: str, requested: str, request: GenerationRequest,
        stored_params: dict[str, Any], emit: EventCallback, cancel: CancelToken, validate: bool,
    ) -> list[str]:
        """Route ``requested`` and run the chain until one succeeds; return generation ids."""
        try:
            plan = self.router.plan(requested, request)
        except ChatImgError as exc:
            generation = self.repo.create_generation(
                message_id, requested, stored_params, status="failed", error=exc.one_line()
            )
            emit(GenerationEvent("finished", generation.id, requested, generation=generation))
            return [generation.id]
        ids: list[str] = []
        previous: str | None = None
        why_previous = ""
        for position, model in enumerate(plan.chain):
            reason = plan.reason if position == 0 else plan.fallback_reasons.get(model)
            if position and reason:
                reason = f"{reason}: {plan.chain[position - 1]} {why_previous}"
            generation_id, outcome = await self._run_one(
                message_id, requested, model, request, stored_params, emit, cancel,
                route_reason=reason, fallback_of=previous,
            )
            ids.append(generation_id)
            if outcome == "succeeded" and not validate:
                self.repo.update_generation(generation_id, checks_state=None)
            if outcome == "succeeded" and validate:
                passed = await self._validate(generation_id, request, emit, model)
                if not passed and plan.fallback_on_validation and position + 1 < len(plan.chain):
                    previous, why_previous = generation_id, "failed validation"
                    continue
            if outcome in ("succeeded", "cancelled", "invalid"):
                break
            previous = generation_id
            error = self.repo.get_generation(generation_id).error or outcome
            why_previous = f"failed ({error[:160]})"
        return ids

    async def _run_one(
        self, message_id: str, requested: str, model: str, request: GenerationRequest,
        stored_params: dict[str, Any], emit: EventCallback, cancel: CancelToken,
        *, route_reason: str | None = None, fallback_of: str | None = None,
    ) -> tuple[str, str]:
        """Run one model once. Returns (generation id, outcome) where outcome is
        ``succeeded``, ``failed`` (a fallback may help), ``invalid`` or ``cancelled``."""
        try:
            engine = self.engine(model)
            info = engine.info
        except ChatImgError as exc:
            generation = self.repo.create_generation(
                message_id, requested, stored_params, resolved_model=model, status="failed",
                error=exc.one_line(), route_reason=route_reason, fallback_of=fallback_of,
            )
            emit(GenerationEvent("finished", generation.id, model, generation=generation))
            return generation.id, "failed"
        generation = self.repo.create_generation(
            message_id, requested, stored_params, resolved_model=model, engine_kind=info.engine,
            model_id=info.model_id, model_version=info.version, route_reason=route_reason,
            fallback_of=fallback_of,
        )
        gid = generation.id
        emit(GenerationEvent("queued", gid, model))
        try:
            availability = engine.availability()
            if not availability.available:
                raise EngineRequestError(
                    f"{model} is unavailable: {availability.reason}", reason="unavailable",
                    retryable=True,
                )
            checked = engine.validate_request(request)
            if info.capabilities.seed and checked.seed is None:
                checked = replace(checked, seed=random.SystemRandom().randrange(2**32))
        except ChatImgError as exc:
            outcome = "invalid" if isinstance(exc, InvalidRequestError) else "failed"
            if outcome == "invalid":
                from chatimg.routing import missing_capability

                if missing_capability(info, request):  # another model in the chain may do it
                    outcome = "failed"
            self._fail(gid, exc, emit, model, status="failed")
            return gid, outcome
        resolved = _resolved_params(checked, stored_params)
        started = utcnow()
        self.repo.update_generation(gid, status="running", started_at=started, params=resolved)
        emit(GenerationEvent("started", gid, model))

        def on_progress(report: Progress) -> None:
            emit(GenerationEvent("progress", gid, model, progress=report))

        clock = time.perf_counter()
        try:
            if cancel.cancelled:
                raise CancelledError("cancelled before it started")
            result = await engine.generate(checked, on_progress, cancel)
        except CancelledError as exc:
            self._fail(gid, exc, emit, model, status="cancelled")
            return gid, "cancelled"
        except ChatImgError as exc:
            self._fail(gid, exc, emit, model, status="failed")
            return gid, "failed"
        except Exception as exc:  # an engine bug must not take the app down
            self._fail(gid, EngineRequestError(f"{type(exc).__name__}: {exc}"), emit, model,
                       status="failed")
            return gid, "failed"
        latency_ms = (time.perf_counter() - clock) * 1000
        try:
            await asyncio.to_thread(
                self._store_result, gid, model, info, checked, resolved, result, latency_ms
            )
        except ChatImgError as exc:
            self._fail(gid, exc, emit, model, status="failed")
            return gid, "failed"
        finished = self.repo.get_generation(gid)
        emit(GenerationEvent("finished", gid, model, generation=finished))
        return gid, finished.status if finished.status == "succeeded" else "failed"

    def _fail(
        self, generation_id: str, exc: ChatImgError, emit: EventCallback, model: str, *,
        status: str,
    ) -> None:
        self.repo.update_generation(
            generation_id, status=status, error=self.scrub(exc.one_line()),
            finished_at=utcnow(),
        )
        generation = self.repo.get_generation(generation_id)
        emit(GenerationEvent("finished", generation_id, model, generation=generation))

    def scrub(self, text: str) -> str:
        """Remove any known API key from ``text``."""
        for secret in self.settings.secret_values():
            if secret:
                text = text.replace(secret, "***")
        return text

    def _store_result(
        self, generation_id: str, model: str, info: Any, request: GenerationRequest,
        resolved: dict[str, Any], result: GenerationResult, latency_ms: float,
    ) -> None:
        """Encode and store images (files first), then the rows, in one transaction."""
        files: list[tuple[StoredFile, int | None, str | None]] = []
        filtered = 0
        image_info: list[dict[str, Any]] = []
        for image in result.images:
            if image.safety_filtered:
                filtered += 1
                image_info.append({"safety_filtered": True, "seed": image.seed, **image.info})
                continue
            data = _image_bytes(image)
            embedded = embed_parameters(data, _png_parameters(model, info, request, image))
            stored = self.assets.put(embedded)
            files.append((stored, image.seed, image.revised_prompt))
            image_info.append({"sha256": stored.sha256, "seed": image.seed, **image.info})
        count = len(result.images)
        if result.cost_usd is not None:
            cost, estimated = result.cost_usd, False
        elif info.cost_per_image is not None:
            cost, estimated = round(info.cost_per_image * count, 6), True
        else:
            cost, estimated = None, True
        receipt = {
            "model": {"name": model, "engine": info.engine, "model_id": info.model_id,
                      "version": result.model_version or info.version},
            "request": resolved,
            "engine": result.receipt,
            "images": image_info,
            "deterministic": info.capabilities.deterministic and info.capabilities.seed,
            "environment": {**_environment(), **result.receipt.get("environment", {})},
        }
        if not receipt["deterministic"]:
            receipt["note"] = "non-deterministic provider"
        status, error = "succeeded", None
        if not files:
            status = "failed"
            error = (
                f"safety filter: the provider withheld all {filtered} image(s)"
                if filtered else "the engine returned no images"
            )
        checks = "pending" if status == "succeeded" and self.settings.validation.enabled else None
        self.repo.finish_generation(
            generation_id, files, status=status, error=error, finished_at=utcnow(),
            checks_state=checks,
            latency_ms=round(latency_ms, 3), cost_usd=cost, cost_estimated=estimated,
            receipt=receipt, model_version=result.model_version or info.version,
        )

    async def _validate(
        self, generation_id: str, request: GenerationRequest, emit: EventCallback, model: str
    ) -> bool:
        """Run the configured validators on a finished generation; return whether all passed."""
        enabled = self.settings.validation.enabled
        if not enabled:
            return True
        try:
            from chatimg.validate import validate_generation
        except ImportError:
            return True
        generation = self.repo.get_generation(generation_id)
        results = await asyncio.to_thread(
            validate_generation, generation, request, self.settings
        )
        self.repo.add_validations(results, completes=generation_id)
        if results:
            emit(GenerationEvent("validated", generation_id, model,
                                 generation=self.repo.get_generation(generation_id)))
        return all(result.passed for result in results)

    def estimate_cost(
        self, models: Sequence[str], params: GenerationParams | None = None, prompt: str = ""
    ) -> float | None:
        """The expected cost in USD of sending a message to ``models`` (fan-out included).

        Each requested name is routed as it would be (``auto`` and policies too) and its first
        choice priced at ``cost_per_image x count``. None when any price is unknown or a route
        cannot be planned; no image is read and nothing is stored.
        """
        params = params or GenerationParams()
        request = GenerationRequest(
            prompt=prompt, count=max(1, params.count), width=params.width, height=params.height,
            source_image=b"" if params.source else None, mask=b"" if params.mask else None,
            upscale=params.upscale, extra=dict(params.extra),
        )
        total = 0.0
        for requested in list(models) or [self.settings.default_model]:
            try:
                chosen = self.router.plan(requested, request).chain[0]
                price = self.engine(chosen).info.cost_per_image
            except ChatImgError:
                return None
            if price is None:
                return None
            total += price * request.count
        return round(total, 6)

    # -- receipts -------------------------------------------------------------------------------

    def request_from_receipt(self, generation: domain.Generation) -> tuple[str, GenerationRequest]:
        """The model and exact request a stored generation ran with (for replay and re-run)."""
        receipt = generation.receipt
        stored = receipt.get("request") or generation.params
        if not stored:
            raise NotFoundError(f"generation {generation.id} has no receipt to replay")
        source = mask = None
        if stored.get("source_asset"):
            source = self._asset_bytes(stored["source_asset"])
        if stored.get("mask_asset"):
            mask = self._asset_bytes(stored["mask_asset"])
        # Engines may record settings replay needs (e.g. diffusers' torch thread count).
        replay_hints = (receipt.get("engine") or {}).get("replay") or {}
        request = GenerationRequest(
            prompt=stored.get("prompt", ""), negative_prompt=stored.get("negative_prompt"),
            seed=stored.get("seed"), steps=stored.get("steps"), guidance=stored.get("guidance"),
            scheduler=stored.get("scheduler"), width=stored.get("width"),
            height=stored.get("height"), count=stored.get("count", 1),
            strength=stored.get("strength"), source_image=source, mask=mask,
            upscale=stored.get("upscale"),
            extra={**replay_hints, **dict(stored.get("extra") or {})},
        )
        model = (receipt.get("model") or {}).get("name") or generation.resolved_model
        return model or generation.requested_model, request

    def _asset_bytes(self, sha256: str) -> bytes:
        asset = self.repo.get_asset(sha256)
        try:
            return Path(asset.path).read_bytes()
        except OSError:
            raise NotFoundError(f"asset {sha256[:12]} file is missing") from None

    async def regenerate(
        self, generation_id: str, *, model: str | None = None,
        on_event: EventCallback | None = None, cancel: CancelToken | None = None,
    ) -> tuple[str, GenerationResult]:
        """Run a stored generation's exact request again without storing anything.

        Returns the model used and the engine result (images as engine output).
        """
        generation = self.repo.get_generation(generation_id)
        stored_model, request = self.request_from_receipt(generation)
        name = model or stored_model
        engine = self.engine(name)
        checked = engine.validate_request(request)
        emit = on_event or (lambda event: None)

        def on_progress(report: Progress) -> None:
            emit(GenerationEvent("progress", generation_id, name, progress=report))

        result = await engine.generate(checked, on_progress, cancel or CancelToken())
        return name, result

    def encoded_images(self, model: str, request: GenerationRequest,
                       result: GenerationResult) -> list[bytes | None]:
        """The bytes chatimg would store for each image of ``result`` (None when filtered)."""
        info = self.engine(model).info
        out: list[bytes | None] = []
        for image in result.images:
            if image.safety_filtered:
                out.append(None)
                continue
            out.append(embed_parameters(_image_bytes(image),
                                        _png_parameters(model, info, request, image)))
        return out


def _title_from(prompt: str) -> str:
    words = " ".join(prompt.split())
    return words[:60] + ("…" if len(words) > 60 else "")


def _image_bytes(image: GeneratedImage) -> bytes:
    if image.data is not None:
        describe_image(image.data)
        return image.data
    if image.image is not None:
        return encode_png(image.image)
    raise EngineRequestError("the engine returned an empty image", reason="bad_response")


def _resolved_params(request: GenerationRequest, stored: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "prompt": request.prompt, "negative_prompt": request.negative_prompt,
        "seed": request.seed, "steps": request.steps, "guidance": request.guidance,
        "scheduler": request.scheduler, "width": request.width, "height": request.height,
        "count": request.count, "strength": request.strength, "upscale": request.upscale,
    }
    if request.extra:
        values["extra"] = dict(request.extra)
    for key in ("source_asset", "mask_asset"):
        if key in stored:
            values[key] = stored[key]
    return {key: value for key, value in values.items() if value is not None}


def _png_parameters(model: str, info: Any, request: GenerationRequest,
                    image: GeneratedImage) -> dict[str, Any]:
    values = {
        "model": model, "model_id": info.model_id, "version": info.version,
        "prompt": request.prompt, "negative_prompt": request.negative_prompt,
        "seed": image.seed, "steps": request.steps, "guidance": request.guidance,
        "scheduler": request.scheduler, "width": request.width, "height": request.height,
        "strength": request.strength,
    }
    return {key: value for key, value in values.items() if value is not None}
