"""The domain service the TUI and CLI share: conversations, messages, generations, search.

``Studio`` returns domain records (``chatimg.domain``), never ORM rows. Generation is async:
local engines run in worker threads, remote engines on the caller's event loop, and every step
is persisted (the message first, then queued generations, then files, then rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg import domain, paths
from chatimg.config import Settings, load_settings
from chatimg.engines.base import CancelToken, EngineContext, Progress
from chatimg.engines.catalog import Catalog
from chatimg.errors import ChatImgError, ConfigError, InvalidRequestError, NotFoundError
from chatimg.generation import Ask, EventCallback, GenerationEvent, GenerationRun, reproduce
from chatimg.redaction import install_log_redaction, redact
from chatimg.spec import GenerationSpec, RouteHints
from chatimg.store.assets import AssetStore, StoredFile, describe_image
from chatimg.store.database import Database
from chatimg.store.repository import Repository

if TYPE_CHECKING:
    from chatimg.engines.base import Engine
    from chatimg.routing import Router

__all__ = ["GenerateOutcome", "GenerationEvent", "GenerationSpec", "RouteHints", "Studio"]


@dataclass(frozen=True)
class GenerateOutcome:
    """A sent message and its generations, as stored."""

    message: domain.Message
    generations: tuple[domain.Generation, ...]

    @property
    def any_succeeded(self) -> bool:
        return any(g.status == "succeeded" for g in self.generations)


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
        False: ``chatimg doctor`` reports those instead). From then on, log records hide the
        settings' keys (``chatimg.redaction.install_log_redaction``).
        """
        settings = settings or load_settings()
        install_log_redaction(settings.secret_values)
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

    def resolve_id(self, kind: str, text: str) -> str:
        """The full ``conversation``/``message``/``generation`` id for an id or unique prefix."""
        return self.repo.resolve_id(kind, text)

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

    def resolve_spec(self, spec: GenerationSpec) -> tuple[GenerationSpec, Ask]:
        """Turn ``spec``'s image references (files, sha256 prefixes) into stored assets.

        Returns:
            The spec with full sha256 references, and an ``Ask`` holding the decoded inputs.

        Raises:
            InvalidRequestError: a reference is neither a stored asset nor an image file.
        """
        changes: dict[str, Any] = {}
        source = mask = None
        if spec.source_asset:
            source, stored = self.resolve_image(spec.source_asset)
            changes["source_asset"] = stored.sha256
        if spec.mask_asset:
            mask, stored = self.resolve_image(spec.mask_asset)
            changes["mask_asset"] = stored.sha256
        spec = spec.model_copy(update=changes) if changes else spec
        return spec, Ask(spec, source_image=source, mask=mask)

    async def generate(
        self,
        prompt: str,
        models: Sequence[str],
        spec: GenerationSpec | None = None,
        *,
        hints: RouteHints | None = None,
        expected_text: Sequence[str] | None = None,
        options: dict[str, Any] | None = None,
        conversation_id: str | None = None,
        title: str | None = None,
        parent_id: str | None = None,
        on_event: EventCallback | None = None,
        cancel: CancelToken | None = None,
        validate: bool = True,
    ) -> GenerateOutcome:
        """Send a message: save it, then run ``spec`` on every model in ``models`` at once.

        Args:
            prompt: The message text (the spec's prompt).
            models: Model names, ``auto`` or route policies; several fan the message out.
            spec: Everything else that is asked (default: the models' defaults).
            hints: For routing (preset, budget).
            expected_text: For the typography check (default: the prompt's quoted text).
            options: Engine options for this message (over the model's table).

        Raises:
            InvalidRequestError: an empty prompt, a bad value or image reference (nothing is
                stored then). A model that cannot run the spec is stored as a failed generation
                with its reason (the message is kept).
        """
        spec = (spec or GenerationSpec()).model_copy(update={"prompt": prompt})
        spec = GenerationSpec.build(**spec.stored())  # the prompt is validated too
        if not prompt.strip() and not spec.source_asset:
            raise InvalidRequestError("the prompt is empty")
        limit = self.settings.limits.max_prompt_chars
        if len(prompt) > limit:
            raise InvalidRequestError(
                f"the prompt has {len(prompt):,} characters; the limit is {limit:,}",
                "raise [limits] max_prompt_chars in the config if you need more")
        hints = hints or RouteHints()
        spec, ask = self.resolve_spec(spec)
        ask = replace(ask, hints=hints, options=options,
                      expected_text=tuple(expected_text) if expected_text else None)
        models = list(models) or [self.settings.default_model]
        self._check_model_tables(models)
        if conversation_id is None:
            conversation_id = self.create_conversation(title or _title_from(prompt),
                                                       models[0]).id
        else:
            self.repo.get_conversation(conversation_id)
        message = self.repo.add_message(
            conversation_id, prompt, parent_id=parent_id, model=models[0],
            params={**spec.stored(), **hints.stored(), "models": models},
        )
        run = GenerationRun(self.settings, self.repo, self.assets, self.engine, self.router,
                            self.scrub, on_event or (lambda event: None),
                            cancel or CancelToken())
        generations = await run.run(message.id, models, ask, validate)
        return GenerateOutcome(message, tuple(generations))

    def _check_model_tables(self, models: Sequence[str]) -> None:
        """A model whose config table is wrong stops the send before anything is stored."""
        for model in models:
            if model in self.catalog.entries:
                try:
                    self.engine(model)
                except ConfigError:
                    raise
                except ChatImgError:  # stored as that model's failed generation
                    pass

    def scrub(self, text: str) -> str:
        """Remove any known API key from ``text`` (``chatimg.redaction.redact``)."""
        return redact(text, self.settings.secret_values())

    def estimate_cost(
        self, models: Sequence[str], spec: GenerationSpec | None = None,
        hints: RouteHints | None = None,
    ) -> float | None:
        """The expected cost in USD of sending ``spec`` to ``models`` (fan-out included).

        Each requested name is routed as it would be (``auto`` and policies too) and the first
        model of its route that is available here priced at ``cost_per_image x count``; names
        with no available model cost nothing. None when any price is unknown, a route cannot
        be planned or no model can run; no image is read and nothing is stored.
        """
        spec = spec or GenerationSpec()
        total, priced = 0.0, False
        for requested in list(models) or [self.settings.default_model]:
            try:  # the first model of the route that can run here (unavailable ones cost 0)
                chain = self.router.plan(requested, spec, hints).chain
                chosen = next((m for m in chain if self.catalog.listing(m).available), None)
                price = self.engine(chosen).info.cost_per_image if chosen else 0.0
            except ChatImgError:
                return None
            if price is None:
                return None
            total, priced = total + price * spec.count, priced or chosen is not None
        return round(total, 6) if priced else None

    # -- actions on a stored image (the TUI's card actions and the CLI's commands) ---------------

    def image_of(self, generation_id: str, image: int = 0
                 ) -> tuple[domain.Generation, domain.Message, domain.AssetRef]:
        """A generation, its message and its ``image``-th image (one-line errors otherwise)."""
        generation = self.repo.get_generation(generation_id)
        if not generation.assets:
            raise InvalidRequestError(f"generation {generation_id[:12]} has no image")
        if not 0 <= image < len(generation.assets):
            raise InvalidRequestError(
                f"generation {generation_id[:12]} has {len(generation.assets)} image(s); "
                f"there is no image {image + 1}"
            )
        return generation, self.repo.get_message(generation.message_id), generation.assets[image]

    async def _from_image(self, generation_id: str, image: int, model: str | None,
                          prompt: str | None, on_event: EventCallback | None,
                          cancel: CancelToken | None, **changes: Any) -> GenerateOutcome:
        generation, message, asset = self.image_of(generation_id, image)
        spec = GenerationSpec.build(source_asset=asset.sha256, **changes)
        return await self.generate(
            prompt or message.text, [model or generation.model], spec,
            conversation_id=message.conversation_id, parent_id=message.id,
            on_event=on_event, cancel=cancel,
        )

    async def vary(self, generation_id: str, *, image: int = 0, strength: float = 0.6,
                   model: str | None = None, on_event: EventCallback | None = None,
                   cancel: CancelToken | None = None) -> GenerateOutcome:
        """A variation (img2img) of one image of a generation, as a new message in its thread.

        Raises:
            InvalidRequestError: no such image, or a bad strength.
        """
        if not 0.0 < strength <= 1.0:
            raise InvalidRequestError(f"strength must be in (0, 1], not {strength}")
        return await self._from_image(generation_id, image, model, None, on_event, cancel,
                                      strength=strength)

    async def upscale(self, generation_id: str, *, image: int = 0, factor: float = 2.0,
                      model: str | None = None, on_event: EventCallback | None = None,
                      cancel: CancelToken | None = None) -> GenerateOutcome:
        """An upscale of one image of a generation, as a new message in its thread."""
        if not 1.0 < factor <= 8.0:
            raise InvalidRequestError(f"the upscale factor must be in (1, 8], not {factor}")
        return await self._from_image(generation_id, image, model, None, on_event, cancel,
                                      upscale=factor)

    async def edit(self, generation_id: str, mask: str, *, image: int = 0,
                   prompt: str | None = None, model: str | None = None,
                   on_event: EventCallback | None = None,
                   cancel: CancelToken | None = None) -> GenerateOutcome:
        """Inpaint one image of a generation with ``mask`` (a file path or asset sha256; white =
        repaint), as a new message in its thread (``prompt`` replaces the message's text)."""
        return await self._from_image(generation_id, image, model, prompt, on_event, cancel,
                                      mask_asset=mask)

    async def rerun(self, generation_id: str, *, new_seed: bool = False,
                    model: str | None = None, on_event: EventCallback | None = None,
                    cancel: CancelToken | None = None) -> GenerateOutcome:
        """Send a generation's message again with the spec that ran (same seed unless
        ``new_seed``), on ``model`` or its own model, as a reply to its message (like vary,
        upscale and edit, so a retry stays linked to what it retries: the app's retry key)."""
        generation = self.repo.get_generation(generation_id)
        message = self.repo.get_message(generation.message_id)
        spec = generation.ran
        if new_seed:
            spec = spec.model_copy(update={"seed": None})
        return await self.generate(
            message.text, [model or generation.model], spec,
            conversation_id=message.conversation_id, parent_id=message.id,
            on_event=on_event, cancel=cancel,
        )

    async def describe_image(self, generation_id: str, model: str, *, image: int = 0) -> str:
        """A prompt describing one image of a generation, from ``model``."""
        _, _, asset = self.image_of(generation_id, image)
        return await self.describe(asset.sha256, model)


    async def regenerate(self, generation_id: str, *, model: str | None = None,
                         on_event: EventCallback | None = None,
                         cancel: CancelToken | None = None) -> tuple[str, list[bytes | None]]:
        """Run a stored generation's receipt again, storing nothing.

        Returns:
            The model used and the bytes chatimg would store for each image.

        Raises:
            NotFoundError: the generation has no receipt (it never finished).
        """
        generation = self.repo.get_generation(generation_id)
        receipt = generation.receipt
        if receipt is None:
            raise NotFoundError(f"generation {generation_id} has no receipt to replay")
        _, ask = self.resolve_spec(receipt.run_spec)
        name = model or receipt.model.name
        emit = on_event or (lambda event: None)

        def on_progress(report: Progress) -> None:
            emit(GenerationEvent("progress", generation_id, name, progress=report))

        images = await reproduce(self.engine(name), name, receipt, ask, on_progress,
                                 cancel or CancelToken())
        return name, images

    # -- text repair ----------------------------------------------------------------------------

    async def fix_text(
        self, generation_id: str, image_index: int = 0, *,
        on_event: EventCallback | None = None, cancel: CancelToken | None = None,
    ) -> GenerateOutcome:
        """Repair the misspelled text of one image of a generation, as a new generation.

        The new generation (model ``fixtext``) sits in a new message answering the source's,
        with ``source_asset`` = the original image and a route reason saying what was
        rewritten; its receipt holds the patches, and the checks run on it as on any image.
        Nothing is stored when there is nothing to repair.

        Raises:
            InvalidRequestError: no such image, no quoted text to repair against, no text found,
                or the text already reads right.
            EngineUnavailableError: OCR is not installed.
        """
        import asyncio
        import time

        from chatimg.generation import environment
        from chatimg.imaging import encode_png
        from chatimg.pngmeta import embed_parameters
        from chatimg.prompts import quoted_text
        from chatimg.repair import VERSION as REPAIR_VERSION
        from chatimg.repair import repair_text
        from chatimg.spec import Receipt, ReceiptImage, ReceiptModel
        from chatimg.store.tables import utcnow
        from chatimg.validate import load_image, validate_images

        source, message, asset = self.image_of(generation_id, image_index)
        checked = next((v for v in source.validations if v.name == "typography"
                        and v.asset_sha256 == asset.sha256), None)
        expected = str((checked.details.get("expected") if checked else None)
                       or " ".join(quoted_text(source.ran.prompt or message.text)))
        if not expected.strip():
            raise InvalidRequestError(f"generation {generation_id[:12]} asked for no quoted text",
                                      "text repair writes the prompt's quoted text")
        started, clock = utcnow(), time.perf_counter()
        original = load_image(self.resolve_image(asset.sha256)[0])
        repaired = await asyncio.to_thread(repair_text, original, expected,
                                           cancel=cancel or CancelToken())
        latency_ms = (time.perf_counter() - clock) * 1000
        spec = GenerationSpec.build(prompt=message.text, source_asset=asset.sha256,
                                    width=original.width, height=original.height,
                                    seed=asset.seed)
        what = "; ".join(f"{p.read!r} -> {p.written!r}" for p in repaired.patches)
        version = f"fixtext-{REPAIR_VERSION}"
        reply = self.repo.add_message(
            message.conversation_id, message.text, parent_id=message.id, model="fixtext",
            params={**spec.stored(), "fixtext_of": generation_id, "image_index": image_index,
                    "models": ["fixtext"]},
        )
        generation = self.repo.create_generation(
            reply.id, "fixtext", spec.stored(), resolved_model="fixtext", engine_kind="repair",
            model_id="builtin/fixtext", model_version=version, status="running",
            route_reason=f"text repair of {generation_id} image {image_index}: {what}",
        )
        data = embed_parameters(encode_png(repaired.image), {
            "model": "fixtext", "version": version, "prompt": message.text,
            "source_asset": asset.sha256, "repair": what})
        stored = await asyncio.to_thread(self.assets.put, data)
        receipt = Receipt(
            model=ReceiptModel(name="fixtext", engine="repair", model_id="builtin/fixtext",
                               version=version),
            run_spec=spec,
            engine={"repair_of": generation_id, "image_index": image_index,
                    "expected_text": expected,
                    "patches": [patch.as_dict() for patch in repaired.patches]},
            images=(ReceiptImage(sha256=stored.sha256, seed=asset.seed),),
            environment=environment(), deterministic=False,
            note=f"text repair of {generation_id}",
        )
        finished = self.repo.finish_generation(
            generation.id, [(stored, asset.seed, None)], status="succeeded", started_at=started,
            finished_at=utcnow(), latency_ms=round(latency_ms, 3), cost_usd=0.0,
            cost_estimated=False, receipt=receipt.stored(), model_version=version,
            checks_state="pending" if self.settings.validation.enabled else None,
        )
        emit = on_event or (lambda event: None)
        emit(GenerationEvent("finished", generation.id, "fixtext", generation=finished))
        results = await asyncio.to_thread(validate_images, finished, [repaired.image],
                                          (expected,), self.settings)
        self.repo.add_validations(results, completes=generation.id)
        result = self.repo.get_generation(generation.id)
        emit(GenerationEvent("validated", generation.id, "fixtext", generation=result))
        return GenerateOutcome(reply, (result,))

def _title_from(prompt: str) -> str:
    words = " ".join(prompt.split())
    return words[:60] + ("…" if len(words) > 60 else "")
