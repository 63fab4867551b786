"""A run's output depends only on its receipt, never on what ran before it in the process.

A thread mixes txt2img, img2img and inpaint with scheduler switches between them. Run in every
order through one engine context (one loaded pipeline, its ``from_pipe`` variants shared), each
request must give the same bytes as when it runs alone in a fresh context (a fresh process as far
as chatimg's state goes). Before per-run state was restored, a scheduler chosen for one request
became the default of img2img/inpaint pipelines derived after it.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chatimg.engines.base import CancelToken, EngineContext
from chatimg.engines.catalog import Catalog
from chatimg.imaging import encode_png
from chatimg.spec import GenerationSpec

SIZE = 32


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def inputs() -> dict[str, bytes]:
    source = Image.linear_gradient("L").resize((SIZE, SIZE)).convert("RGB")
    mask = Image.new("L", (SIZE, SIZE), 0)
    mask.paste(255, (0, 0, SIZE // 2, SIZE))
    return {"source": _png(source), "mask": _png(mask)}


#: (name, spec values, needs source, needs mask)
REQUESTS: list[tuple[str, dict[str, Any], bool, bool]] = [
    ("txt2img-ddim", {"seed": 1, "scheduler": "DDIMScheduler"}, False, False),
    ("img2img-default", {"seed": 2, "strength": 0.75, "steps": 4}, True, False),
    ("inpaint-default", {"seed": 3, "steps": 4}, True, True),
    ("txt2img-default", {"seed": 4}, False, False),
]


def _catalog(tiny_config: Path) -> Catalog:
    from chatimg.config import load_settings

    return Catalog.from_settings(EngineContext(load_settings(tiny_config)))


def _run(catalog: Catalog, name: str, inputs: dict[str, bytes]) -> bytes:
    _, values, needs_source, needs_mask = next(r for r in REQUESTS if r[0] == name)
    engine = catalog.engine("tiny")
    spec = GenerationSpec.build(
        prompt="a lighthouse", width=SIZE, height=SIZE, **values,
        source_asset="0" * 64 if needs_source else None,
        mask_asset="1" * 64 if needs_mask else None,
    )
    request = engine.validate_request(engine.request(
        spec, source_image=inputs["source"] if needs_source else None,
        mask=inputs["mask"] if needs_mask else None))
    result = engine.generate_blocking(request, lambda report: None, CancelToken())
    assert result.images[0].image is not None
    return encode_png(result.images[0].image)


def test_every_order_in_one_process_gives_the_bytes_of_each_run_alone(
    tiny_config: Path, inputs: dict[str, bytes]
) -> None:
    alone = {name: _run(_catalog(tiny_config), name, inputs) for name, *_ in REQUESTS}
    assert len(set(alone.values())) == len(REQUESTS)  # four different images

    shared = _catalog(tiny_config)
    for order in itertools.permutations(name for name, *_ in REQUESTS):
        for name in order:
            assert _run(shared, name, inputs) == alone[name], f"{name} after {order}"
    # each run got a copy of a scheduler built once per class, which itself never ran
    from chatimg.engines.pipeline_cache import shared_cache

    (entry,) = shared_cache(shared.context).entries()
    assert set(entry.scheduler_templates) == {"DDIMScheduler", entry.scheduler_class.__name__}
    for template in entry.scheduler_templates.values():
        built = type(template).from_config(entry.scheduler_config)
        assert template.num_inference_steps is None and built.num_inference_steps is None
        assert template.timesteps.tolist() == built.timesteps.tolist()
