"""OpenAI Images and every OpenAI-compatible server: ``/images/generations`` and ``/images/edits``.

``Authorization: Bearer``; each result item is ``b64_json`` or a ``url`` (downloaded at once),
with an optional ``revised_prompt``; ``usage`` goes into the receipt. Any model name works through
a config entry (``engine = "openai"``, ``model = ...``, ``base_url = ...``). The API has no seed.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from chatimg.engines.base import (
    CancelToken,
    Capabilities,
    EngineOptions,
    EngineRequest,
    GeneratedImage,
    GenerationResult,
    ModelInfo,
    Progress,
    ProgressCallback,
)
from chatimg.engines.http import gather_all
from chatimg.engines.masks import convert_mask, file_name, mime_of
from chatimg.engines.payloads import decode_image
from chatimg.engines.remote import RemoteEngine
from chatimg.errors import EngineRequestError

#: Fixed size lists for models that take only these.
FIXED_SIZES: dict[str, tuple[tuple[int, int], ...]] = {
    "gpt-image-1": ((1024, 1024), (1536, 1024), (1024, 1536)),
    "gpt-image-1-mini": ((1024, 1024), (1536, 1024), (1024, 1536)),
    "gpt-image-1.5": ((1024, 1024), (1536, 1024), (1024, 1536)),
    "chatgpt-image-latest": ((1024, 1024), (1536, 1024), (1024, 1536)),
    "dall-e-3": ((1024, 1024), (1792, 1024), (1024, 1792)),
    "dall-e-2": ((256, 256), (512, 512), (1024, 1024)),
}
#: Options passed through from ``extra`` when set.
PASS_THROUGH = ("quality", "background", "output_format", "output_compression", "moderation",
                "style", "input_fidelity", "user")
_MAX_PIXELS = 3840 * 2160


def flexible_size(width: int, height: int) -> tuple[int, int]:
    """gpt-image-2 sizes: sides multiples of 16, ratio within 1:3..3:1, at most 3840x2160 pixels."""
    ratio = max(1 / 3, min(3.0, width / height))
    area = min(width * height, _MAX_PIXELS)
    w = math.sqrt(area * ratio)
    h = w / ratio
    w16, h16 = max(16, int(w / 16 + 0.5) * 16), max(16, int(h / 16 + 0.5) * 16)
    while w16 * h16 > _MAX_PIXELS:
        if w16 >= h16:
            w16 -= 16
        else:
            h16 -= 16
    if w16 / h16 > 3:
        w16 = h16 * 3
    if h16 / w16 > 3:
        h16 = w16 * 3
    return w16, h16


def size_for(model: str, width: int | None, height: int | None) -> str | None:
    """The ``size`` field for a model (None: let the server choose)."""
    if width is None and height is None:
        return None
    width = width or height or 1024
    height = height or width
    family = model.split("/")[-1]
    fixed = FIXED_SIZES.get(family)
    if fixed:
        target = math.log(width / height)

        def distance(size: tuple[int, int]) -> tuple[float, float]:
            return (abs(math.log(size[0] / size[1]) - target), abs(size[0] * size[1]
                                                                   - width * height))

        best = min(fixed, key=distance)
        return f"{best[0]}x{best[1]}"
    if family.startswith("gpt-image-2"):
        w, h = flexible_size(width, height)
        return f"{w}x{h}"
    return f"{width}x{height}"


class OpenAIImagesEngine(RemoteEngine):
    """OpenAI's image models and OpenAI-compatible servers (entry ``model`` and ``base_url``)."""

    kind = "openai"
    provider = "openai"
    display = "OpenAI Images"
    base_url_env = "OPENAI_BASE_URL"
    default_base_url = "https://api.openai.com/v1"


    class Options(EngineOptions):
        """Extra keys of an OpenAI Images model's table (passed through when set)."""

        needs_key: bool | None = None
        """Whether the server takes a key (default: only OpenAI itself)."""
        quality: str | None = None
        background: str | None = None
        output_format: str | None = None
        output_compression: int | None = None
        moderation: str | None = None
        style: str | None = None
        input_fidelity: str | None = None
        user: str | None = None

    @property
    def needs_key(self) -> bool:  # type: ignore[override]
        # a model entry with its own base_url may be a keyless self-hosted server; OpenAI
        # itself, and OPENAI_BASE_URL (as in OpenAI's own SDK), always take a key
        explicit = self.option("needs_key")
        if explicit is not None:
            return bool(explicit)
        entry_url = getattr(self.entry, "base_url", None)
        return not entry_url or "api.openai.com" in entry_url

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    @property
    def model(self) -> str:
        return self.model_string or "gpt-image-2"

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name, engine=self.kind, model_id=self.model, version=self.model,
            capabilities=Capabilities(
                txt2img=True, img2img=True, inpaint=True, seed=False, negative_prompt=False,
                max_width=3840, max_height=3840, max_count=10, deterministic=False,
            ),
            cost_per_image=self.entry_cost(),
            description=getattr(self.entry, "description", None)
            or f"{self.model} through {self.base_url()}",
            defaults=self.entry_defaults(),
            note=None if getattr(self.entry, "cost_per_image", None) is not None
            else "token-priced: the receipt records the provider's usage",
        )

    def classify(self, status: int, text: str) -> str | None:
        if "moderation_blocked" in text or "safety" in text.lower():
            return "safety"
        if "model_not_found" in text:
            return "not_found"
        return super().classify(status, text)

    def _fields(self, request: EngineRequest) -> dict[str, Any]:
        fields: dict[str, Any] = {"model": self.model, "prompt": request.spec.prompt,
                                  "n": request.spec.count}
        size = size_for(self.model, request.spec.width, request.spec.height)
        if size:
            fields["size"] = size
        for name in PASS_THROUGH:
            value = self.option(name, request)
            if value is not None:
                fields[name] = value
        if self.model.startswith("dall-e"):
            fields["response_format"] = "b64_json"
        return fields

    async def generate(self, request: EngineRequest, progress: ProgressCallback,
                       cancel: CancelToken) -> GenerationResult:
        client = self.client()
        fields = self._fields(request)
        progress(Progress(0, 0, f"waiting for {self.model}"))
        if request.mode == "txt2img":
            path = "/images/generations"
            reply = await client.request("POST", self.base_url() + path, cancel=cancel,
                                         json_body=fields, what=self.model)
        else:
            path = "/images/edits"
            source = request.source_image or b""
            parts: list[Any] = [("image[]", (file_name(source), source, mime_of(source)))]
            if request.mask is not None:
                mask = await asyncio.to_thread(convert_mask, request.mask, source,
                                               "transparent")
                parts.append(("mask", ("mask.png", mask, "image/png")))
            parts += [(name, (None, str(value))) for name, value in fields.items()]
            reply = await client.request("POST", self.base_url() + path, cancel=cancel,
                                         files=parts, what=self.model)
        body = await reply.parsed(self.model)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise EngineRequestError(f"{self.model} answered without any images",
                                     reason="bad_response", status=reply.status)
        images = await gather_all([self._image(item, cancel) for item in items])
        receipt: dict[str, Any] = {"provider": "openai", "endpoint": path,
                                   "size": fields.get("size")}
        for key in ("usage", "quality", "size", "background", "output_format"):
            value = body.get(key)
            if isinstance(value, dict | str | int):
                receipt["provider_" + key if key == "size" else key] = _plain(value)
        for image in images:
            if "size" in fields:
                image.info["size"] = fields["size"]
        progress(Progress(1, 1, "done"))
        return self.scrubbed(GenerationResult(images=images, model_version=self.model,
                                receipt=client.clean_data(receipt)))

    async def _image(self, item: Any, cancel: CancelToken) -> GeneratedImage:
        client = self.client()
        if not isinstance(item, dict):
            raise EngineRequestError(f"{self.model} sent an image entry that is not an object",
                                     reason="bad_response")
        revised = item.get("revised_prompt")
        revised = client.clean(revised) if isinstance(revised, str) and revised else None
        if item.get("b64_json") is not None:
            data = await decode_image(item["b64_json"], self.model)
        elif item.get("url"):
            data = await client.download_image(item["url"], cancel)
        else:
            raise EngineRequestError(f"{self.model} sent an image with neither b64_json nor url",
                                     reason="bad_response")
        return GeneratedImage(data=data, revised_prompt=revised)


def _plain(value: Any) -> Any:
    """Usage-like values with only numbers and short strings (nothing else is kept)."""
    if isinstance(value, dict):
        return {str(k)[:40]: _plain(v) for k, v in list(value.items())[:20]
                if isinstance(v, dict | int | float | str)}
    if isinstance(value, str):
        return value[:40]
    return value
