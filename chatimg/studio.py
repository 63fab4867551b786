"""The domain service the TUI and CLI share: conversations, messages, generations, search.

``Studio`` returns domain records (``chatimg.domain``), never ORM rows. Generation is async:
local engines run in worker threads, remote engines on the caller's event loop, and every step
is persisted (the message first, then queued generations, then files, then rows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg import domain
from chatimg.config import Settings, load_settings
from chatimg.engines.base import CancelToken, EngineContext
from chatimg.engines.catalog import Catalog
from chatimg.errors import ChatImgError, ConfigError, InvalidRequestError
from chatimg.generation import (
    Ask,
    EventCallback,
    GenerateOutcome,
    GenerationEvent,
    GenerationRun,
)
from chatimg.redaction import install_log_redaction, redact
from chatimg.spec import GenerationSpec, RouteHints
from chatimg.store.assets import AssetStore, StoredFile, describe_image, sha_of
from chatimg.store.database import Database
from chatimg.store.repository import Repository
from chatimg.studio_images import ImageActions
from chatimg.studio_team import TeamActions

if TYPE_CHECKING:
    from chatimg.engines.base import Engine
    from chatimg.routing import Router

__all__ = ["GenerateOutcome", "GenerationEvent", "GenerationSpec", "RouteHints", "Studio"]


class Studio(ImageActions, TeamActions):
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
        from chatimg.store.backends import open_asset_store

        studio = cls(settings, database, open_asset_store(settings.storage))
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
        data, _ = await asyncio.to_thread(self.resolve_image, reference)
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

    def get_message(self, message_id: str) -> domain.Message:
        return self.repo.get_message(message_id)

    def recent_prompts(self, limit: int = 1000) -> list[str]:
        """Prompts of every conversation, newest first, each once (the composer's history)."""
        return self.repo.recent_prompts(limit)

    def load_thread(self, conversation_id: str, *, last: int | None = None,
                    before: str | None = None) -> domain.Thread:
        """A conversation's messages and generations; images marked ``missing`` or ``damaged``
        (wrong size) when their file is so. ``last``/``before``: a window of a long thread
        (see ``Repository.load_thread``)."""
        from chatimg.doctor import with_file_states

        thread = self.repo.load_thread(conversation_id, last=last, before=before)
        problems = self._bring_local(
            [generation for message in thread.messages for generation in message.generations])
        return with_file_states(thread, problems=problems)

    def search(self, text: str, limit: int = 50) -> list[domain.SearchHit]:
        return self.repo.search(text, limit)

    def get_generation(self, generation_id: str) -> domain.Generation:
        generation = self.repo.get_generation(generation_id)
        self._bring_local([generation])
        return generation

    def get_generations(self, generation_ids: Sequence[str]) -> list[domain.Generation]:
        generations = self.repo.get_generations(generation_ids)
        self._bring_local(generations)
        return generations

    def _bring_local(self, generations: Sequence[domain.Generation]) -> dict[str, str]:
        """Cache the images of ``generations`` when they live in an object store (hashes
        checked; a blob that fails stays absent locally); return sha256 → problem."""
        if not self.assets.is_remote:
            return {}
        problems = self.assets.prefetch(
            AssetStore.relative_path(asset.sha256, asset.mime)
            for generation in generations for asset in generation.assets)
        return {sha_of(relative): problem for relative, problem in problems.items()}

    def delete_generation(self, generation_id: str) -> None:
        """Delete one generation (its image files stay: other generations may share them)."""
        self.repo.delete_generation(generation_id)

    def add_pick(
        self, generation_ids: Sequence[str], winner_id: str, picked_by: str | None = None, *,
        winner_image: int = 0, images: Sequence[int] | None = None,
    ) -> domain.Pick:
        """Store a comparison's winner: image ``winner_image`` of ``winner_id``, among image
        ``images[i]`` of each ``generation_ids[i]`` (default: first images)."""
        shown = list(images) if images is not None else [0] * len(generation_ids)
        if len(shown) != len(generation_ids):
            raise InvalidRequestError("give one image index per compared generation")
        if (winner_id, winner_image) not in zip(generation_ids, shown, strict=True):
            raise InvalidRequestError("the winner must be one of the compared images")
        conversations = {self.repo.conversation_of_generation(g) for g in generation_ids}
        if len(conversations) != 1:
            raise InvalidRequestError("compared generations must come from one conversation")
        return self.repo.add_pick(conversations.pop(), generation_ids, winner_id, picked_by,
                                  winner_image=winner_image, images=shown)

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
                data = self.assets.read(AssetStore.relative_path(asset.sha256, asset.mime))
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
        if spec.source_asset or spec.mask_asset:  # may read or write the asset store: a worker
            resolved = await asyncio.to_thread(self.resolve_spec, spec)
        else:
            resolved = self.resolve_spec(spec)
        spec, ask = resolved
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
        emit = on_event or (lambda event: None)
        token = cancel or CancelToken()

        def repair(message_id: str, failed: domain.Generation,
                   reason: str) -> Awaitable[domain.Generation | None]:
            return self.repair_step(message_id, failed, reason, on_event=emit, cancel=token)

        run = GenerationRun(self.settings, self.repo, self.assets, self.engine, self.router,
                            self.scrub, emit, token, repair=repair)
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

def _title_from(prompt: str) -> str:
    words = " ".join(prompt.split())
    return words[:60] + ("…" if len(words) > 60 else "")
