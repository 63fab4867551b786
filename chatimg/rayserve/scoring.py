"""The checks of ``chatimg bench --executor ray`` as a stage of their own: Ray tasks.

Generation replicas only generate; each finished image goes to a Ray task that runs the enabled
validators (OCR typography, blank, size) on a CPU of the cluster, while the replicas go on with
the next requests. The bench process stores the verdicts exactly as inline checks would be.
Only the ``[validation]`` table travels to the task (no keys); the images travel as their bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from chatimg.errors import EngineRequestError
from chatimg.store.assets import AssetStore

if TYPE_CHECKING:
    from chatimg import domain
    from chatimg.studio import Studio

#: A stage that checks a finished generation and returns its verdicts.
Scorer = Callable[["domain.Generation"], Awaitable[list["domain.ValidationResult"]]]


def check_images(generation: domain.Generation, images: list[bytes],
                 validation: dict[str, Any]) -> list[domain.ValidationResult]:
    """The task's body: the enabled validators on a generation's images (encoded bytes)."""
    from chatimg.config import ValidationSection
    from chatimg.imaging import decode
    from chatimg.validate import validate_images

    settings: Any = SimpleNamespace(validation=ValidationSection(**validation))
    return validate_images(generation, [decode(data)[0] for data in images], None, settings)


def ray_scorer(studio: Studio, *, timeout: float, num_cpus: float) -> Scorer | None:
    """The checks of ``studio``'s bench as Ray tasks (None when no check is enabled).

    Args:
        studio: The bench's studio (its asset store and ``[validation]``).
        timeout: Seconds a task may take before the result is recorded as failed.
        num_cpus: CPUs each task asks Ray for.
    """
    validation = studio.settings.validation.model_dump()
    if not validation["enabled"]:
        return None
    import ray

    task = ray.remote(num_cpus=num_cpus, max_retries=1)(check_images)

    async def score(generation: domain.Generation) -> list[domain.ValidationResult]:
        images = [await asyncio.to_thread(studio.assets.read,
                                          AssetStore.relative_path(a.sha256, a.mime))
                  for a in generation.assets]
        pending = task.remote(generation, images, validation)
        try:
            found: list[domain.ValidationResult] = await asyncio.wait_for(
                asyncio.wrap_future(pending.future()), timeout)
        except TimeoutError:
            ray.cancel(pending, force=True)
            raise EngineRequestError(f"the checks did not finish within {timeout:g} s on Ray",
                                     "raise [ray] request_timeout, or add CPUs for the checks; "
                                     "--resume redoes it", reason="timeout") from None
        except ray.exceptions.RayError as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            raise EngineRequestError(f"the checks failed on Ray: {first[:200]}",
                                     reason="server_error") from None
        return found

    return score
