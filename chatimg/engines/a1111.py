"""AUTOMATIC1111 / Forge web UI API: ``/sdapi/v1/txt2img`` and ``/img2img`` (with ``mask``).

Progress comes from ``/sdapi/v1/progress``, polled while the request runs; cancel closes the request
and calls ``/sdapi/v1/interrupt``. The real seeds come from the ``info`` JSON string
(``all_seeds``). Optional basic auth from ``A1111_AUTH`` (``user:password``).
"""

from __future__ import annotations

import asyncio
import base64
import json
from contextlib import suppress
from typing import Any

from chatimg.engines.base import (
    CancelToken,
    Capabilities,
    EngineRequest,
    GeneratedImage,
    GenerationResult,
    ModelInfo,
    Progress,
    ProgressCallback,
)
from chatimg.engines.masks import convert_mask
from chatimg.engines.payloads import decode_image
from chatimg.engines.pool import PooledEngine, PoolOptions
from chatimg.engines.remote import clamp_seed
from chatimg.errors import CancelledError, ChatImgError, EngineRequestError

PROGRESS_INTERVAL = 0.5


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class A1111Engine(PooledEngine):
    """A model on an AUTOMATIC1111 or Forge server (entry ``model``: a checkpoint title)."""

    kind = "a1111"


    class Options(PoolOptions):
        """Extra keys of an AUTOMATIC1111/Forge model's table."""

        schedule_type: str | None = None
        inpainting_fill: int | None = None
        """0 fill, 1 original (default), 2 latent noise, 3 latent nothing."""
        mask_blur: int | None = None
    provider = "a1111"
    display = "AUTOMATIC1111"
    base_url_env = "A1111_URL"
    default_base_url = "http://127.0.0.1:7860"
    needs_key = False
    self_hosted = True
    health_path = "/sdapi/v1/progress"

    def auth(self, key: str | None) -> tuple[str, str] | None:
        if not key:
            return None
        user, _, password = key.partition(":")
        return user, password

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name, engine=self.kind, model_id=self.model_string or "current checkpoint",
            version=self.model_string or None,
            capabilities=Capabilities(
                txt2img=True, img2img=True, inpaint=True, seed=True, negative_prompt=True,
                max_width=2048, max_height=2048, max_count=8, size_multiple=8,
                deterministic=False,
            ),
            cost_per_image=self.entry_cost(0.0),
            description=getattr(self.entry, "description", None)
            or f"AUTOMATIC1111/Forge at {self.base_url()}",
            defaults={"steps": 20, "guidance": 7.0, "width": 512, "height": 512,
                      **self.entry_defaults()},
        )

    async def body(self, request: EngineRequest) -> dict[str, Any]:
        """The JSON body for txt2img or img2img."""
        body: dict[str, Any] = {
            "prompt": request.spec.prompt, "negative_prompt": request.spec.negative_prompt or "",
            "seed": -1 if request.spec.seed is None else clamp_seed(request.spec.seed, 2**32 - 1),
            "batch_size": request.spec.count, "n_iter": 1,
            "send_images": True, "save_images": False,
        }
        for key, value in (("steps", request.spec.steps), ("cfg_scale", request.spec.guidance),
                           ("width", request.spec.width), ("height", request.spec.height),
                           ("sampler_name", request.spec.scheduler)):
            if value is not None:
                body[key] = value
        scheduler = self.option("schedule_type", request)
        if scheduler:
            body["scheduler"] = scheduler
        if self.model_string:
            body["override_settings"] = {"sd_model_checkpoint": self.model_string}
        if request.source_image is not None:
            body["init_images"] = [_b64(request.source_image)]
            strength = request.spec.strength
            body["denoising_strength"] = 0.75 if strength is None else strength
            if request.mask is not None:
                mask = await asyncio.to_thread(convert_mask, request.mask, request.source_image,
                                               "white")
                body["mask"] = _b64(mask)
                body["inpainting_mask_invert"] = 0
                body["inpainting_fill"] = int(self.option("inpainting_fill", request, 1))
                body["mask_blur"] = int(self.option("mask_blur", request, 4))
        return body

    async def run_job(self, request: EngineRequest, progress: ProgressCallback,
                      cancel: CancelToken) -> GenerationResult:
        client = self.client()
        path = "/sdapi/v1/img2img" if request.source_image is not None else "/sdapi/v1/txt2img"
        body = await self.body(request)
        progress(Progress(0, request.spec.steps or 0, "queued on AUTOMATIC1111"))
        poller = asyncio.create_task(self._poll_progress(progress))
        try:
            reply = await client.request("POST", self.base_url() + path, cancel=cancel,
                                         json_body=body, retry=False)
        except CancelledError:
            await self._interrupt()
            raise
        finally:
            poller.cancel()
            with suppress(BaseException):
                await poller
        data = await reply.parsed("AUTOMATIC1111")
        pictures = data.get("images") if isinstance(data, dict) else None
        if not isinstance(pictures, list) or not pictures:
            raise EngineRequestError("AUTOMATIC1111 answered without any images",
                                     reason="bad_response")
        info = _info(data.get("info"))
        first = info.get("index_of_first_image", 0)
        first = first if isinstance(first, int) and 0 <= first < len(pictures) else 0
        found_seeds = info.get("all_seeds")
        seeds: list[Any] = found_seeds if isinstance(found_seeds, list) else []
        images: list[GeneratedImage] = []
        for index, encoded in enumerate(pictures[first:first + request.spec.count]):
            raw = await decode_image(encoded, "AUTOMATIC1111")
            seed = seeds[index] if index < len(seeds) else info.get("seed")
            images.append(GeneratedImage(
                data=raw, seed=seed if isinstance(seed, int) and not isinstance(seed, bool)
                else None))
        receipt = {"provider": "a1111", "endpoint": path, "sampler": info.get("sampler_name"),
                   "sd_model_name": info.get("sd_model_name"),
                   "sd_model_hash": info.get("sd_model_hash"), "version": info.get("version")}
        receipt = {k: client.clean(str(v))[:120] for k, v in receipt.items() if v is not None}
        version = receipt.get("sd_model_hash") or self.model_string or None
        progress(Progress(1, 1, "done"))
        return self.scrubbed(GenerationResult(images=images, model_version=version,
                                              receipt=receipt))

    async def _poll_progress(self, progress: ProgressCallback) -> None:
        """Report ``sampling_step``/``sampling_steps`` until cancelled (errors are ignored)."""
        client = self.client()
        url = self.base_url() + "/sdapi/v1/progress"
        quiet = CancelToken()
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            try:
                reply = await client.request("GET", url, cancel=quiet, params={
                    "skip_current_image": "true"}, retry=False, limited=False)
                state = reply.json("AUTOMATIC1111").get("state") or {}
                step = int(state.get("sampling_step", 0))
                total = int(state.get("sampling_steps", 0))
            except (ChatImgError, AttributeError, TypeError, ValueError):
                continue
            if total:
                progress(Progress(min(step, total), total, "sampling"))

    async def _interrupt(self) -> None:
        with suppress(ChatImgError):
            await self.client().request("POST", self.base_url() + "/sdapi/v1/interrupt",
                                        cancel=CancelToken(), retry=False, limited=False)

    async def list_models(self) -> list[str]:
        """Checkpoint titles from ``/sdapi/v1/sd-models``."""
        reply = await self.client().request("GET", self.base_url() + "/sdapi/v1/sd-models",
                                            cancel=CancelToken(), limited=False)
        found = await reply.parsed("AUTOMATIC1111")
        if not isinstance(found, list):
            raise EngineRequestError("AUTOMATIC1111 sent a model list that is not a list",
                                     reason="bad_response")
        return [str(item.get("title")) for item in found
                if isinstance(item, dict) and item.get("title")]


def _info(raw: Any) -> dict[str, Any]:
    """The ``info`` field: a JSON string (some forks send an object)."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        with suppress(ValueError):
            value = json.loads(raw)
            if isinstance(value, dict):
                return value
    return {}
