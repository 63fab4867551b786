"""Ideogram: legacy ``/generate`` (V_1 … V_2A_TURBO), ``/v1/ideogram-v3/generate``, remix, edit,
upscale and describe. Header ``Api-Key``; results are expiring URLs, downloaded at once.

Sizes map to the nearest ``aspect_ratio`` enum (or an exact ``resolution`` where the model takes
one); each image's ``info`` says which was sent and what Ideogram made. Images withheld by the
safety check (``is_image_safe=false``) are returned as filtered: Ideogram still bills them.
"""

from __future__ import annotations

import asyncio
import json
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
from chatimg.engines.remote import RemoteEngine, clamp_seed, nearest_ratio
from chatimg.errors import EngineRequestError, InvalidRequestError

LEGACY_MODELS = ("V_1", "V_1_TURBO", "V_2", "V_2_TURBO", "V_2A", "V_2A_TURBO")
V3_MODEL = "V_3"
#: Published USD per output image (legacy models by model, 3.0 by rendering speed).
LEGACY_PRICES = {"V_1_TURBO": 0.02, "V_1": 0.06, "V_2_TURBO": 0.05, "V_2": 0.08,
                 "V_2A_TURBO": 0.025, "V_2A": 0.04}
V3_PRICES = {"FLASH": 0.03, "TURBO": 0.03, "DEFAULT": 0.06, "QUALITY": 0.09}
NO_NEGATIVE = ("V_2A", "V_2A_TURBO")
EDIT_MODELS = ("V_2", "V_2_TURBO")
RESOLUTION_MODELS = ("V_2", "V_2_TURBO")

LEGACY_ASPECTS = {
    f"ASPECT_{w}_{h}": (w, h)
    for w, h in ((10, 16), (16, 10), (9, 16), (16, 9), (3, 2), (2, 3), (4, 3), (3, 4), (1, 1),
                 (1, 3), (3, 1))
}
V3_ASPECTS = {
    f"{w}x{h}": (w, h)
    for w, h in ((1, 3), (3, 1), (1, 2), (2, 1), (9, 16), (16, 9), (10, 16), (16, 10), (2, 3),
                 (3, 2), (3, 4), (4, 3), (4, 5), (5, 4), (1, 1))
}
_LEGACY_SIZES = (
    "512x1536 576x1408 576x1472 576x1536 640x1024 640x1344 640x1408 640x1472 640x1536 704x1152 "
    "704x1216 704x1280 704x1344 704x1408 704x1472 720x1280 736x1312 768x1024 768x1088 768x1152 "
    "768x1216 768x1232 768x1280 768x1344 832x960 832x1024 832x1088 832x1152 832x1216 832x1248 "
    "864x1152 896x960 896x1024 896x1088 896x1120 896x1152 960x832 960x896 960x1024 960x1088 "
    "1024x640 1024x768 1024x832 1024x896 1024x960 1024x1024 1088x768 1088x832 1088x896 "
    "1088x960 1120x896 1152x704 1152x768 1152x832 1152x864 1152x896 1216x704 1216x768 "
    "1216x832 1232x768 1248x832 1280x704 1280x720 1280x768 1280x800 1312x736 1344x640 "
    "1344x704 1344x768 1408x576 1408x640 1408x704 1472x576 1472x640 1472x704 1536x512 "
    "1536x576 1536x640"
)
LEGACY_RESOLUTIONS = frozenset("RESOLUTION_" + size.replace("x", "_")
                               for size in _LEGACY_SIZES.split())
_V3_SIZES = (
    "512x1536 576x1408 576x1472 576x1536 640x1344 640x1408 640x1472 640x1536 704x1152 704x1216 "
    "704x1280 704x1344 704x1408 704x1472 736x1312 768x1088 768x1216 768x1280 768x1344 800x1280 "
    "832x960 832x1024 832x1088 832x1152 832x1216 832x1248 864x1152 896x960 896x1024 896x1088 "
    "896x1120 896x1152 960x832 960x896 960x1024 960x1088 1024x832 1024x896 1024x960 1024x1024 "
    "1088x768 1088x832 1088x896 1088x960 1120x896 1152x704 1152x832 1152x864 1152x896 1216x704 "
    "1216x768 1216x832 1248x832 1280x704 1280x768 1280x800 1312x736 1344x640 1344x704 1344x768 "
    "1408x576 1408x640 1408x704 1472x576 1472x640 1472x704 1536x512 1536x576 1536x640"
)
V3_RESOLUTIONS = frozenset(_V3_SIZES.split())
MAGIC = ("AUTO", "ON", "OFF")


def size_fields(model: str, width: int | None, height: int | None) -> dict[str, str]:
    """The ``resolution`` or ``aspect_ratio`` field for a size (empty: Ideogram's default 1:1).

    2.0 models and 3.0 take an exact resolution when the size is in their list; otherwise the
    nearest aspect ratio is sent.
    """
    if width is None and height is None:
        return {}
    width = width or height or 1024
    height = height or width
    if model == V3_MODEL:
        exact = f"{width}x{height}"
        if exact in V3_RESOLUTIONS:
            return {"resolution": exact}
        return {"aspect_ratio": nearest_ratio(width, height, V3_ASPECTS)}
    exact = f"RESOLUTION_{width}_{height}"
    if model in RESOLUTION_MODELS and exact in LEGACY_RESOLUTIONS:
        return {"resolution": exact}
    return {"aspect_ratio": nearest_ratio(width, height, LEGACY_ASPECTS)}


def _text_parts(fields: dict[str, Any]) -> list[tuple[str, tuple[None, str]]]:
    """Plain multipart form fields (``None`` values left out)."""
    return [(name, (None, str(value))) for name, value in fields.items() if value is not None]


def _file_part(name: str, data: bytes, stem: str) -> tuple[str, tuple[str, bytes, str]]:
    return (name, (file_name(data, stem), data, mime_of(data)))


class IdeogramEngine(RemoteEngine):
    """Ideogram's hosted models. Entry ``model`` is a legacy model string or ``V_3``;
    the extra field ``speed`` picks 3.0's rendering speed."""

    kind = "ideogram"
    provider = "ideogram"
    display = "Ideogram"
    base_url_env = "IDEOGRAM_BASE_URL"
    default_base_url = "https://api.ideogram.ai"


    class Options(EngineOptions):
        """Extra keys of an Ideogram model's table (see Ideogram's API reference)."""

        speed: str | None = None
        """3.0 rendering speed: TURBO, DEFAULT or QUALITY."""
        magic_prompt: str | None = None
        """AUTO, ON or OFF."""
        style_type: str | None = None
        color_palette: str | dict[str, Any] | None = None
        """A preset name or a palette object."""
        style_preset: str | None = None
        """3.0 only."""
        resemblance: int | None = None
        """Upscale: how closely to follow the source (1-100)."""
        detail: int | None = None
        """Upscale: how much detail to add (1-100)."""
        describe_model_version: str | None = None

    def __init__(self, name: str, entry: Any, context: Any) -> None:
        super().__init__(name, entry, context)
        model = self.model_string or "V_2"
        if model not in (*LEGACY_MODELS, V3_MODEL):
            raise InvalidRequestError(
                f"unknown Ideogram model {model!r}",
                "use one of " + ", ".join((*LEGACY_MODELS, V3_MODEL)),
            )
        self.model = model
        self.speed = str(self.option("speed", default="DEFAULT")).upper()
        if model == V3_MODEL and self.speed not in V3_PRICES:
            raise InvalidRequestError(f"unknown Ideogram rendering speed {self.speed!r}",
                                      "use one of " + ", ".join(V3_PRICES))

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Api-Key": key or ""}

    @property
    def info(self) -> ModelInfo:
        model = self.model
        price = V3_PRICES[self.speed] if model == V3_MODEL else LEGACY_PRICES.get(model)
        return ModelInfo(
            name=self.name, engine=self.kind,
            model_id=model if model != V3_MODEL else f"{model}:{self.speed}",
            version=model,
            capabilities=Capabilities(
                txt2img=True, img2img=True, inpaint=model in EDIT_MODELS, upscale=True,
                describe=True, seed=True, negative_prompt=model not in NO_NEGATIVE,
                max_width=2048, max_height=2048, max_count=8, deterministic=False,
            ),
            cost_per_image=self.entry_cost(price),
            description=getattr(self.entry, "description", None) or f"Ideogram {model}",
            defaults=self.entry_defaults(),
        )

    # -- request building -------------------------------------------------------------------

    def _common(self, request: EngineRequest, legacy: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {"prompt": request.spec.prompt, "num_images": request.spec.count,
                                  "seed": clamp_seed(request.spec.seed)}
        magic = self.option("magic_prompt", request)
        if magic is not None:
            magic = str(magic).upper()
            if magic not in MAGIC:
                raise InvalidRequestError(f"magic_prompt must be one of {', '.join(MAGIC)}")
            fields["magic_prompt_option" if legacy else "magic_prompt"] = magic
        style = self.option("style_type", request)
        if style is not None and self.model not in ("V_1", "V_1_TURBO"):
            fields["style_type"] = str(style).upper()
        if request.spec.negative_prompt and self.model not in NO_NEGATIVE:
            fields["negative_prompt"] = request.spec.negative_prompt
        palette = self.option("color_palette", request)
        if palette is not None and self.model in ("V_2", "V_2_TURBO", V3_MODEL):
            palette = {"name": str(palette).upper()} if isinstance(palette, str) else palette
            fields["color_palette"] = palette if legacy else json.dumps(palette)
        preset = self.option("style_preset", request)
        if preset is not None and not legacy:
            fields["style_preset"] = str(preset).upper()
        return fields

    def _speed(self, request: EngineRequest) -> str:
        speed = str(self.option("speed", request, self.speed)).upper()
        if speed not in V3_PRICES:
            raise InvalidRequestError(f"unknown Ideogram rendering speed {speed!r}",
                                      "use one of " + ", ".join(V3_PRICES))
        return speed

    @staticmethod
    def _image_weight(request: EngineRequest) -> int:
        if request.spec.strength is None:
            return 50
        return max(1, min(100, round((1.0 - request.spec.strength) * 100)))

    async def _build(
        self, request: EngineRequest
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(path, httpx body kwargs, receipt facts) for the request's mode."""
        mode = request.mode
        model = self.model
        size = size_fields(model, request.spec.width, request.spec.height)
        facts: dict[str, Any] = {"mode": mode, "provider_model": model, **size}
        if mode == "txt2img" and model == V3_MODEL:
            speed = self._speed(request)
            facts["rendering_speed"] = speed
            fields = {**self._common(request, legacy=False), **size, "rendering_speed": speed}
            return "/v1/ideogram-v3/generate", {"files": _text_parts(fields)}, facts
        if mode == "txt2img":
            body = {**self._common(request, legacy=True), "model": model, **size}
            body = {key: value for key, value in body.items() if value is not None}
            return "/generate", {"json_body": {"image_request": body}}, facts
        source = request.source_image or b""
        if mode == "img2img" and model == V3_MODEL:
            speed = self._speed(request)
            facts.update(rendering_speed=speed, image_weight=self._image_weight(request))
            fields = {**self._common(request, legacy=False), **size, "rendering_speed": speed,
                      "image_weight": facts["image_weight"]}
            files = [_file_part("image", source, "image"), *_text_parts(fields)]
            return "/v1/ideogram-v3/remix", {"files": files}, facts
        if mode == "img2img":
            facts["image_weight"] = self._image_weight(request)
            body = {**self._common(request, legacy=True), "model": model, **size,
                    "image_weight": facts["image_weight"]}
            body = {key: value for key, value in body.items() if value is not None}
            files = [("image_request", (None, json.dumps(body))),
                     _file_part("image_file", source, "image")]
            return "/remix", {"files": files}, facts
        if mode == "inpaint":
            mask = await asyncio.to_thread(convert_mask, request.mask or b"", source, "black")
            fields = self._common(request, legacy=True)
            for name in ("negative_prompt", "color_palette"):  # /edit takes neither
                fields.pop(name, None)
            fields["model"] = model
            files = [_file_part("image_file", source, "image"), _file_part("mask", mask, "mask"),
                     *_text_parts(fields)]
            facts.pop("aspect_ratio", None)
            facts.pop("resolution", None)
            return "/edit", {"files": files}, facts
        # upscale
        body = {"num_images": request.spec.count, "seed": clamp_seed(request.spec.seed)}
        if request.spec.prompt.strip():
            body["prompt"] = request.spec.prompt
        for name in ("resemblance", "detail"):
            value = self.option(name, request)
            if value is not None:
                body[name] = int(value)
        if "resemblance" not in body and request.spec.strength is not None:
            body["resemblance"] = self._image_weight(request)
        magic = self.option("magic_prompt", request)
        if magic is not None:
            body["magic_prompt_option"] = str(magic).upper()
        body = {key: value for key, value in body.items() if value is not None}
        facts = {"mode": mode, "provider_model": "upscale",
                 "requested_factor": request.spec.upscale}
        files = [("image_request", (None, json.dumps(body))),
                 _file_part("image_file", source, "image")]
        return "/upscale", {"files": files}, facts

    # -- generation ---------------------------------------------------------------------------

    async def generate(self, request: EngineRequest, progress: ProgressCallback,
                       cancel: CancelToken) -> GenerationResult:
        client = self.client()
        path, body, facts = await self._build(request)
        progress(Progress(0, 0, f"waiting for Ideogram ({path})"))
        reply = await client.request("POST", self.base_url() + path, cancel=cancel,
                                     weight=request.spec.count, **body)
        data = await reply.parsed("Ideogram")
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items:
            raise EngineRequestError("Ideogram answered without any images",
                                     reason="bad_response", status=reply.status)
        images = await self._collect(items, request, facts, cancel)
        result = GenerationResult(images=images, model_version=self.model, receipt={
            "provider": "ideogram", "endpoint": path, **facts,
            "created": client.clean(str(data.get("created")))[:64] if data.get("created") else None,
        })
        speed = facts.get("rendering_speed")
        if speed and speed != self.speed and getattr(self.entry, "cost_per_image", None) is None:
            result.cost_usd = round(V3_PRICES[speed] * len(images), 6)
        progress(Progress(1, 1, "done"))
        return self.scrubbed(result)

    async def _collect(self, items: list[Any], request: EngineRequest,
                       facts: dict[str, Any], cancel: CancelToken) -> list[GeneratedImage]:
        client = self.client()
        images: list[GeneratedImage] = []
        downloads: dict[int, Any] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise EngineRequestError("Ideogram sent an image entry that is not an object",
                                         reason="bad_response")
            seed = item.get("seed")
            seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
            info: dict[str, Any] = {}
            if "aspect_ratio" in facts:
                info["aspect_ratio"] = facts["aspect_ratio"]
            if "resolution" in facts:
                info["requested_resolution"] = facts["resolution"]
            if "rendering_speed" in facts:
                info["rendering_speed"] = facts["rendering_speed"]
            for key in ("resolution", "upscaled_resolution", "style_type"):
                value = item.get(key)
                if isinstance(value, str):
                    info[key] = client.clean(value)[:64]
            said = item.get("prompt")
            revised = None
            if isinstance(said, str) and said != request.spec.prompt:
                revised = client.clean(said)
            url = item.get("url")
            safe = item.get("is_image_safe")
            if safe is False or (safe is None and not url):  # withheld: no link to fetch
                images.append(GeneratedImage(seed=seed, revised_prompt=revised,
                                             safety_filtered=True, info=info))
                continue
            if not url:
                raise EngineRequestError("Ideogram marked an image safe but sent no link",
                                         reason="bad_response")
            downloads[index] = url
            images.append(GeneratedImage(seed=seed, revised_prompt=revised, info=info))
        if downloads:
            order = list(downloads)
            fetched = await gather_all([client.download_image(downloads[i], cancel)
                                        for i in order])
            for index, data in zip(order, fetched, strict=True):
                images[index].data = data
        return images

    async def describe(self, image: bytes) -> str:
        """Ask Ideogram's ``/describe`` for a prompt that describes ``image``."""
        client = self.client()
        files: list[Any] = [_file_part("image_file", image, "image")]
        version = self.option("describe_model_version")
        if version:
            files.append(("describe_model_version", (None, str(version))))
        reply = await client.request("POST", self.base_url() + "/describe",
                                     cancel=CancelToken(), files=files)
        body = await reply.parsed("Ideogram")
        found = body.get("descriptions") if isinstance(body, dict) else None
        first = found[0] if isinstance(found, list) and found else None
        text = first.get("text") if isinstance(first, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise EngineRequestError("Ideogram answered without a description",
                                     reason="bad_response")
        return client.clean(text.strip())
