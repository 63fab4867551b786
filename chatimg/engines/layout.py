"""The built-in ``layout`` engine: typesets the prompt's quoted text over a seeded background.

Offline, instant and deterministic (no ML): the embedded default that works with no weights and
no keys, the reference for typography checks, and the engine UI tests use. The typesetting is
``chatimg.typeset``; this module only maps a request to it.
"""

from __future__ import annotations

import random
from typing import Any

from chatimg.engines.base import (
    CancelToken,
    Capabilities,
    Engine,
    EngineRequest,
    GeneratedImage,
    GenerationResult,
    ModelInfo,
    Progress,
    ProgressCallback,
)
from chatimg.errors import CancelledError
from chatimg.prompts import quoted_text
from chatimg.typeset import legacy

VERSION = "2"


def render(prompt: str, seed: int, width: int, height: int) -> Any:
    """Draw one image (a PIL image) for ``prompt`` and ``seed``; pure and deterministic."""
    from chatimg.typeset import typeset_poster

    return typeset_poster(prompt, width, height, seed)


class LayoutEngine(Engine):
    """Typesets quoted text over a seeded background; no weights, no network."""

    kind = "layout"
    blocking = True

    @property
    def info(self) -> ModelInfo:
        entry = self.entry
        return ModelInfo(
            name=self.name,
            engine=self.kind,
            model_id="builtin/layout",
            version=f"layout-{VERSION}",
            capabilities=Capabilities(
                txt2img=True, seed=True, max_width=4096, max_height=4096, max_count=8,
                deterministic=True,
            ),
            cost_per_image=entry.cost_per_image if entry.cost_per_image is not None else 0.0,
            description=entry.description or "Built-in typesetter (offline, instant)",
            defaults={"width": entry.width or 512, "height": entry.height or 512},
        )

    def generate_blocking(
        self, request: EngineRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> GenerationResult:
        import PIL

        from chatimg.typeset import render_poster

        if request.version == legacy.VERSION:  # replaying an image version 1 made
            return _legacy_run(request, progress, cancel)
        spec = request.spec
        seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**32)
        width, height = spec.width or 512, spec.height or 512
        images = []
        templates: list[str] = []
        fonts: list[str] = []
        for index in range(spec.count):
            if cancel.cancelled:
                raise CancelledError("cancelled")
            image_seed = seed + index
            poster = render_poster(spec.prompt, width, height, image_seed, cancel)
            images.append(GeneratedImage(image=poster.image, seed=image_seed,
                                         info={"template": poster.template}))
            templates.append(poster.template)
            fonts.extend(poster.fonts)
            progress(Progress(index + 1, spec.count, "typesetting"))
        return GenerationResult(
            images=images,
            receipt={"renderer": f"layout-{VERSION}", "fonts": list(dict.fromkeys(fonts)),
                     "templates": templates, "pillow": PIL.__version__,
                     "text": quoted_text(spec.prompt)},
        )


def _legacy_run(request: EngineRequest, progress: ProgressCallback,
                cancel: CancelToken) -> GenerationResult:
    """Run ``layout-1`` exactly as it ran (for replaying its receipts)."""
    import PIL

    spec = request.spec
    seed = spec.seed if spec.seed is not None else 0
    width, height = spec.width or 512, spec.height or 512
    images = []
    for index in range(spec.count):
        if cancel.cancelled:
            raise CancelledError("cancelled")
        images.append(GeneratedImage(
            image=legacy.render(spec.prompt, seed + index, width, height), seed=seed + index))
        progress(Progress(index + 1, spec.count, "typesetting"))
    return GenerationResult(
        images=images, model_version=legacy.VERSION,
        receipt={"renderer": legacy.VERSION, "font": "pillow-default",
                 "pillow": PIL.__version__, "text": quoted_text(spec.prompt)},
    )
