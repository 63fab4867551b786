"""What Studio does with an image already stored: vary, upscale, edit, re-run, describe,
regenerate from its receipt, and repair its text. Each is one call for the TUI's card keys and
the CLI's commands alike; ``Studio`` mixes these in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatimg import domain
from chatimg.engines.base import CancelToken, Progress
from chatimg.errors import InvalidRequestError, NotFoundError
from chatimg.generation import EventCallback, GenerateOutcome, GenerationEvent, reproduce
from chatimg.spec import GenerationSpec

if TYPE_CHECKING:
    from chatimg.config import Settings
    from chatimg.engines.base import Engine
    from chatimg.generation import Ask
    from chatimg.repair import Repair
    from chatimg.spec import RouteHints
    from chatimg.store.assets import AssetStore, StoredFile
    from chatimg.store.repository import Repository


class ImageActions:
    """Actions on a stored image (mixed into ``chatimg.studio.Studio``)."""

    settings: Settings
    repo: Repository
    assets: AssetStore

    def engine(self, model: str) -> Engine:
        raise NotImplementedError

    def resolve_image(self, reference: str) -> tuple[bytes, StoredFile]:
        raise NotImplementedError

    def resolve_spec(self, spec: GenerationSpec) -> tuple[GenerationSpec, Ask]:
        raise NotImplementedError

    async def describe(self, reference: str, model: str) -> str:
        raise NotImplementedError

    async def generate(
        self, prompt: str, models: Sequence[str], spec: GenerationSpec | None = None, *,
        hints: RouteHints | None = None, expected_text: Sequence[str] | None = None,
        options: dict[str, Any] | None = None, conversation_id: str | None = None,
        title: str | None = None, parent_id: str | None = None,
        on_event: EventCallback | None = None, cancel: CancelToken | None = None,
        validate: bool = True,
    ) -> GenerateOutcome:
        raise NotImplementedError

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

    async def upscale(self, generation_id: str, *, image: int = 0, factor: float | None = None,
                      model: str | None = None, on_event: EventCallback | None = None,
                      cancel: CancelToken | None = None) -> GenerateOutcome:
        """An upscale of one image of a generation, as a new message in its thread, by
        ``factor`` or, when None, by what the model takes (2, or 4 on the x4 upscaler)."""
        if factor is None:
            name = model or self.repo.get_generation(generation_id).model
            factor = self.engine(name).info.capabilities.upscale_factor()
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
        if receipt.model.engine == "repair":  # a text repair runs again on its source image
            source = receipt.run_spec.source_asset
            if source is None:
                raise NotFoundError(f"generation {generation_id} names no source image")
            _, _, data = await self._repaired_png(
                source, str(receipt.engine.get("expected_text") or ""),
                receipt.run_spec.prompt or "", cancel or CancelToken())
            return receipt.model.name, [data]
        _, ask = await asyncio.to_thread(self.resolve_spec, receipt.run_spec)
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
        reply, generation = await self._repair(generation_id, image_index, on_event=on_event,
                                               cancel=cancel)
        return GenerateOutcome(reply, (generation,))

    async def repair_step(self, message_id: str, failed: domain.Generation, reason: str, *,
                          on_event: EventCallback | None = None,
                          cancel: CancelToken | None = None) -> domain.Generation | None:
        """A routing chain's last step: repair the first image of ``failed`` whose typography
        check failed, as a generation of the same message (``fallback_of`` = ``failed``).

        Returns None, storing nothing, when there is nothing it can repair (no text found, OCR
        missing, already right); the chain then ends on ``failed`` as it would without repair.
        """
        import logging

        from chatimg.errors import ChatImgError

        shas = [check.asset_sha256 for check in failed.validations
                if check.name == "typography" and not check.passed]
        index = next((i for i, asset in enumerate(failed.assets) if asset.sha256 in shas), 0)
        try:
            _, generation = await self._repair(failed.id, index, message_id=message_id,
                                               reason=reason, on_event=on_event, cancel=cancel)
        except ChatImgError as exc:
            logging.getLogger(__name__).info("no text repair for %s: %s", failed.id,
                                             exc.one_line())
            return None
        return generation

    async def _repair(
        self, generation_id: str, image_index: int, *, message_id: str | None = None,
        reason: str | None = None, on_event: EventCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[domain.Message, domain.Generation]:
        """Repair one image; the result goes into ``message_id`` (as a fallback of the source)
        or, without one, into a new message answering the source's."""
        import time

        from chatimg.generation import environment
        from chatimg.prompts import quoted_text
        from chatimg.repair import VERSION as REPAIR_VERSION
        from chatimg.spec import Receipt, ReceiptImage, ReceiptModel
        from chatimg.store.tables import utcnow
        from chatimg.validate import validate_images

        source, message, asset = self.image_of(generation_id, image_index)
        checked = next((v for v in source.validations if v.name == "typography"
                        and v.asset_sha256 == asset.sha256), None)
        expected = str((checked.details.get("expected") if checked else None)
                       or " ".join(quoted_text(source.ran.prompt or message.text)))
        if not expected.strip():
            raise InvalidRequestError(f"generation {generation_id[:12]} asked for no quoted text",
                                      "text repair writes the prompt's quoted text")
        started, clock = utcnow(), time.perf_counter()
        repaired, what, data = await self._repaired_png(asset.sha256, expected, message.text,
                                                        cancel or CancelToken())
        latency_ms = (time.perf_counter() - clock) * 1000
        spec = GenerationSpec.build(prompt=message.text, source_asset=asset.sha256,
                                    width=repaired.image.width, height=repaired.image.height,
                                    seed=asset.seed)
        version = f"fixtext-{REPAIR_VERSION}"
        if message_id is None:
            reply = self.repo.add_message(
                message.conversation_id, message.text, parent_id=message.id, model="fixtext",
                params={**spec.stored(), "fixtext_of": generation_id, "image_index": image_index,
                        "models": ["fixtext"]},
            )
        else:
            reply = self.repo.get_message(message_id)
        generation = self.repo.create_generation(
            reply.id, "fixtext", spec.stored(), resolved_model="fixtext", engine_kind="repair",
            model_id="builtin/fixtext", model_version=version, status="running",
            route_reason=(f"{reason}: " if reason else "")
            + f"text repair of {generation_id} image {image_index}: {what}",
            fallback_of=generation_id if message_id is not None else None,
        )
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
        return reply, result

    async def _repaired_png(self, source_sha256: str, expected: str, prompt: str,
                            cancel: CancelToken) -> tuple[Repair, str, bytes]:
        """The repair of a stored image: the result, what it rewrote (``'read' -> 'written'``
        pairs) and the PNG chatimg stores for it (what a replay compares)."""
        from chatimg.imaging import encode_png
        from chatimg.pngmeta import embed_parameters
        from chatimg.repair import VERSION as REPAIR_VERSION
        from chatimg.repair import repair_text
        from chatimg.validate import load_image

        original = load_image((await asyncio.to_thread(self.resolve_image, source_sha256))[0])
        repaired = await asyncio.to_thread(repair_text, original, expected, cancel=cancel)
        what = "; ".join(f"{p.read!r} -> {p.written!r}" for p in repaired.patches)
        data = embed_parameters(encode_png(repaired.image), {
            "model": "fixtext", "version": f"fixtext-{REPAIR_VERSION}", "prompt": prompt,
            "source_asset": source_sha256, "repair": what})
        return repaired, what, data
