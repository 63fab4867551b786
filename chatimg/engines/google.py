"""Google: Gemini image models through ``models/{model}:generateContent`` (kind ``google``) and the
Imagen ``:predict`` format (kind ``imagen``) for endpoints that still serve it.

Header ``x-goog-api-key``; images come back base64 (``inlineData`` / ``bytesBase64Encoded``).
Neither API takes a seed, so receipts say "non-deterministic provider". Google's error envelope
(``error.code/message/status``) becomes the message of an ``EngineRequestError``.
"""

from __future__ import annotations

import base64
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
from chatimg.engines.masks import mime_of
from chatimg.engines.payloads import decode_image
from chatimg.engines.remote import RemoteEngine, nearest_ratio
from chatimg.errors import EngineRequestError

GEMINI_RATIOS = {name: tuple(int(p) for p in name.split(":")) for name in
                 ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")}
IMAGEN_RATIOS = {name: tuple(int(p) for p in name.split(":")) for name in
                 ("1:1", "3:4", "4:3", "9:16", "16:9")}
#: finishReason / blockReason values that mean "withheld by a safety or policy filter".
SAFETY_REASONS = frozenset({"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
                            "IMAGE_PROHIBITED_CONTENT", "RECITATION", "IMAGE_RECITATION", "OTHER"})
IMAGEN_RETIRED = ("Google retired Imagen 4 on 2026-08-17; needs an Imagen-compatible endpoint "
                  "(base_url)")
#: USD per image where Google published one (Gemini image models are token-priced).
PRICES = {"gemini-2.5-flash-image": 0.039, "imagen-4.0-generate-001": 0.04,
          "imagen-4.0-fast-generate-001": 0.02, "imagen-4.0-ultra-generate-001": 0.06}


def image_size_for(width: int | None, height: int | None) -> str | None:
    """Gemini ``imageSize`` for the longer side: ``1K``, ``2K`` or ``4K``."""
    side = max(width or 0, height or 0)
    if not side:
        return None
    return "1K" if side <= 1024 else "2K" if side <= 2048 else "4K"


class _GoogleEngine(RemoteEngine):
    provider = "google"
    display = "Google"
    base_url_env = "GEMINI_BASE_URL"
    default_base_url = "https://generativelanguage.googleapis.com"
    default_model = ""

    def headers(self, key: str | None) -> dict[str, str]:
        return {"x-goog-api-key": key or ""}

    @property
    def model(self) -> str:
        return self.model_string or self.default_model

    def endpoint(self, method: str) -> str:
        base = self.base_url()
        if not base.rstrip("/").endswith(("/v1beta", "/v1", "/v1beta1")):
            base += "/v1beta"
        return f"{base}/models/{self.model}:{method}"


class GeminiEngine(_GoogleEngine):
    """Gemini image models (``gemini-2.5-flash-image`` and successors)."""

    kind = "google"


    class Options(EngineOptions):
        """Extra keys of a Gemini model's table."""

        modalities: str | None = None
        """Response modalities, comma separated (default ``text,image``)."""
        image_size: str | None = None
        """``1K``, ``2K`` or ``4K`` where the model offers sizes."""
    default_model = "gemini-2.5-flash-image"

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name, engine=self.kind, model_id=self.model, version=self.model,
            capabilities=Capabilities(
                txt2img=True, img2img=True, seed=False, max_width=4096, max_height=4096,
                max_count=4, deterministic=False,
            ),
            cost_per_image=self.entry_cost(PRICES.get(self.model)),
            description=getattr(self.entry, "description", None) or f"Google {self.model}",
            defaults=self.entry_defaults(),
        )

    def body(self, request: EngineRequest) -> dict[str, Any]:
        """The ``generateContent`` body for one image."""
        parts: list[dict[str, Any]] = [{"text": request.spec.prompt}]
        if request.source_image is not None:
            parts.append({"inlineData": {
                "mimeType": mime_of(request.source_image),
                "data": base64.b64encode(request.source_image).decode("ascii"),
            }})
        modalities = str(self.option("modalities", request, "text,image"))
        wanted = [m.strip().upper() for m in modalities.split(",") if m.strip()]
        config: dict[str, Any] = {"responseModalities": wanted or ["TEXT", "IMAGE"]}
        image_config: dict[str, Any] = {}
        if request.spec.width or request.spec.height:
            image_config["aspectRatio"] = nearest_ratio(
                *_box(request.spec.width, request.spec.height),
                GEMINI_RATIOS)  # type: ignore[arg-type]
        size = self.option("image_size", request)
        if size is None and "2.5" not in self.model:
            size = image_size_for(request.spec.width, request.spec.height)
        if size:
            image_config["imageSize"] = str(size).upper()
        if image_config:
            config["imageConfig"] = image_config
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}

    async def generate(self, request: EngineRequest, progress: ProgressCallback,
                       cancel: CancelToken) -> GenerationResult:
        client = self.client()
        body = self.body(request)
        progress(Progress(0, request.spec.count, f"waiting for {self.model}"))
        replies = await gather_all([
            client.request("POST", self.endpoint("generateContent"), cancel=cancel,
                           json_body=body, what=self.model)
            for _ in range(request.spec.count)
        ])
        images: list[GeneratedImage] = []
        texts: list[str] = []
        usage: list[Any] = []
        version: str | None = None
        for reply in replies:
            data = await reply.parsed(self.model)
            if not isinstance(data, dict):
                raise EngineRequestError(f"{self.model} answered with a non-object",
                                         reason="bad_response")
            found, text = await self._parse(data)
            images.extend(found)
            texts += text
            if isinstance(data.get("usageMetadata"), dict):
                usage.append(data["usageMetadata"])
            if isinstance(data.get("modelVersion"), str):
                version = data["modelVersion"][:80]
        info = {"aspect_ratio": body["generationConfig"].get("imageConfig", {}).get("aspectRatio"),
                "image_size": body["generationConfig"].get("imageConfig", {}).get("imageSize")}
        info = {key: value for key, value in info.items() if value}
        for image in images:
            image.info.update(info)
        receipt = {"provider": "google", "endpoint": f"models/{self.model}:generateContent",
                   **info, "text": " ".join(texts)[:500] or None, "usage": usage or None}
        progress(Progress(request.spec.count, request.spec.count, "done"))
        return self.scrubbed(GenerationResult(images=images, model_version=version or self.model,
                                receipt=client.clean_data(receipt)))

    async def _parse(self, data: dict[str, Any]) -> tuple[list[GeneratedImage], list[str]]:
        feedback = data.get("promptFeedback")
        block = feedback.get("blockReason") if isinstance(feedback, dict) else None
        candidates = data.get("candidates")
        if block and not candidates:
            return [GeneratedImage(safety_filtered=True, info={"filter": str(block)[:60]})], []
        if not isinstance(candidates, list) or not candidates:
            raise EngineRequestError(f"{self.model} answered without candidates",
                                     reason="bad_response")
        images: list[GeneratedImage] = []
        texts: list[str] = []
        finish = None
        for candidate in candidates:
            if not isinstance(candidate, dict):
                continue
            finish = candidate.get("finishReason") or finish
            content = candidate.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in parts if isinstance(parts, list) else []:
                if not isinstance(part, dict):
                    continue
                inline = part.get("inlineData") or part.get("inline_data")
                if isinstance(inline, dict):
                    raw = await decode_image(inline.get("data"), self.model)
                    images.append(GeneratedImage(data=raw))
                elif isinstance(part.get("text"), str) and not part.get("thought"):
                    texts.append(self.client().clean(part["text"]))
        if not images:
            if isinstance(finish, str) and finish.upper() in SAFETY_REASONS:
                return [GeneratedImage(safety_filtered=True, info={"filter": finish[:60]})], texts
            said = (" ".join(texts))[:200]
            raise EngineRequestError(
                f"{self.model} answered without an image" + (f": {said}" if said else ""),
                "rephrase the prompt so it clearly asks for an image", reason="no_image",
            )
        return images, texts


class ImagenEngine(_GoogleEngine):
    """The Imagen ``:predict`` format, for Imagen-compatible endpoints."""

    kind = "imagen"


    class Options(EngineOptions):
        """Extra keys of an Imagen model's table (the ``:predict`` parameters)."""

        image_size: str | None = None
        person_generation: str | None = None
        safety_setting: str | None = None
    default_model = "imagen-4.0-generate-001"

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name, engine=self.kind, model_id=self.model, version=self.model,
            capabilities=Capabilities(txt2img=True, seed=False, max_width=2048,
                                      max_height=2048, max_count=4, deterministic=False),
            cost_per_image=self.entry_cost(PRICES.get(self.model)),
            description=getattr(self.entry, "description", None) or f"Google {self.model}",
            defaults=self.entry_defaults(),
            note=IMAGEN_RETIRED if "imagen" in self.model else None,
        )

    def body(self, request: EngineRequest) -> dict[str, Any]:
        parameters: dict[str, Any] = {"sampleCount": request.spec.count}
        if request.spec.width or request.spec.height:
            parameters["aspectRatio"] = nearest_ratio(
                *_box(request.spec.width, request.spec.height),
                IMAGEN_RATIOS)  # type: ignore[arg-type]
        for name, key in (("image_size", "sampleImageSize"),
                          ("person_generation", "personGeneration"),
                          ("safety_setting", "safetySetting")):
            value = self.option(name, request)
            if value is not None:
                parameters[key] = value
        return {"instances": [{"prompt": request.spec.prompt}], "parameters": parameters}

    async def generate(self, request: EngineRequest, progress: ProgressCallback,
                       cancel: CancelToken) -> GenerationResult:
        client = self.client()
        body = self.body(request)
        progress(Progress(0, 0, f"waiting for {self.model}"))
        try:
            reply = await client.request("POST", self.endpoint("predict"), cancel=cancel,
                                         json_body=body, what=self.model)
        except EngineRequestError as exc:
            if exc.status == 404:
                exc.hint = IMAGEN_RETIRED
            raise
        data = await reply.parsed(self.model)
        predictions = data.get("predictions") if isinstance(data, dict) else None
        if predictions is None and isinstance(data, dict):
            predictions = []
        if not isinstance(predictions, list):
            raise EngineRequestError(f"{self.model} answered without predictions",
                                     reason="bad_response")
        images: list[GeneratedImage] = []
        aspect = body["parameters"].get("aspectRatio")
        info = {"aspect_ratio": aspect} if aspect else {}
        for item in predictions:
            if not isinstance(item, dict) or item.get("contentType") == "Positive Prompt":
                continue
            if item.get("bytesBase64Encoded"):
                raw = await decode_image(item["bytesBase64Encoded"], self.model)
                prompt = item.get("prompt")
                images.append(GeneratedImage(
                    data=raw, info=dict(info),
                    revised_prompt=client.clean(prompt) if isinstance(prompt, str) else None))
            elif item.get("raiFilteredReason"):
                images.append(GeneratedImage(safety_filtered=True, info={
                    **info, "filter": client.clean(str(item["raiFilteredReason"]))[:200]}))
        while len(images) < request.spec.count:  # filtered images are simply missing
            images.append(GeneratedImage(safety_filtered=True, info={**info, "filter": "missing"}))
        progress(Progress(1, 1, "done"))
        return self.scrubbed(GenerationResult(images=images, model_version=self.model, receipt={
            "provider": "google", "endpoint": f"models/{self.model}:predict", **info}))


def _box(width: int | None, height: int | None) -> tuple[int, int]:
    """(width, height) with a missing side taken from the other (for the aspect ratio)."""
    return width or height or 1, height or width or 1
