"""The torch/diffusers side of the diffusers engine: loading, deriving pipelines, schedulers.

Imported only when a local model runs (``DiffusersEngine.generate_blocking``), never when models
are listed. Every expected failure becomes a one-line ``ChatImgError``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import io
import time
from collections.abc import Iterator
from typing import Any

from chatimg.engines.diffusers_source import (
    Source,
    cached_variant,
    download_hint,
    source_version,
)
from chatimg.engines.pipeline_cache import LoadedPipeline, module_size_bytes
from chatimg.errors import EngineUnavailableError, InvalidRequestError


def import_torch() -> Any:
    """Import torch, or explain how to install it."""
    try:
        import torch
    except ImportError:
        raise EngineUnavailableError(
            "torch is not installed", "pip install 'chatimg[local]'"
        ) from None
    return torch


def pick_device(requested: str | None) -> str:
    """``requested`` if given, else cuda > mps > cpu."""
    torch = import_torch()
    if requested:
        name = requested.lower()
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailableError("device cuda was asked for but CUDA is not available",
                                         "set device = \"cpu\" or remove it")
        if name == "mps" and not torch.backends.mps.is_available():
            raise EngineUnavailableError("device mps was asked for but MPS is not available")
        return name
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _quiet_loading() -> None:
    """No tqdm bars while loading (the TUI owns the terminal)."""
    try:
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    except (ImportError, AttributeError):  # pragma: no cover - older diffusers
        pass
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    except (ImportError, AttributeError):  # pragma: no cover - older transformers
        pass


def load(name: str, source: Source, pipeline_class: str, device: str, dtype_name: str,
         single_file_config: str | None) -> LoadedPipeline:
    """Load a pipeline onto ``device`` in ``dtype_name`` (no network: local files only)."""
    torch = import_torch()
    try:
        import diffusers
    except ImportError:
        raise EngineUnavailableError(
            "diffusers is not installed", "pip install 'chatimg[local]'"
        ) from None
    _quiet_loading()
    dtype = getattr(torch, dtype_name)
    clock = time.perf_counter()
    try:
        if source.kind == "file":
            cls = getattr(diffusers, pipeline_class or "StableDiffusionPipeline", None)
            if cls is None or not hasattr(cls, "from_single_file"):
                raise EngineUnavailableError(
                    f"{name}: unknown pipeline class {pipeline_class!r} for a single file",
                    "set pipeline = \"StableDiffusionPipeline\" (or ...XLPipeline) in its table",
                )
            kwargs: dict[str, Any] = {"torch_dtype": dtype, "local_files_only": True}
            if single_file_config:
                kwargs["config"] = single_file_config
            pipe = cls.from_single_file(source.location, **kwargs)
        else:
            variant = cached_variant(source)
            pipe = diffusers.DiffusionPipeline.from_pretrained(  # type: ignore[no-untyped-call]
                source.location, revision=source.revision, local_files_only=True,
                **{_dtype_keyword(): dtype}, **({"variant": variant} if variant else {}),
            )
    except EngineUnavailableError:
        raise
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        if source.kind == "hub":
            raise EngineUnavailableError(
                f"{name}: weights for {source.location} are not cached here",
                download_hint(source, name),
            ) from None
        raise EngineUnavailableError(
            f"{name}: cannot load {source.location}: {type(exc).__name__}: {detail}"
        ) from None
    pipe.set_progress_bar_config(disable=True)
    pipe = pipe.to(device)
    seconds = time.perf_counter() - clock
    scheduler = pipe.scheduler
    return LoadedPipeline(
        pipe=pipe, size_bytes=module_size_bytes(pipe), load_seconds=seconds, device=device,
        dtype=dtype_name, scheduler_config=dict(scheduler.config),
        scheduler_class=type(scheduler),
        scheduler_names=scheduler_names(scheduler),
        version=source_version(source, compute_file_hash=True),
    )


def _dtype_keyword() -> str:
    """``dtype`` on newer diffusers (where ``torch_dtype`` is deprecated), else ``torch_dtype``."""
    try:
        from diffusers.utils import deprecation_utils
    except ImportError:  # pragma: no cover - older diffusers
        return "torch_dtype"
    return "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"


def scheduler_names(scheduler: Any) -> tuple[str, ...]:
    """Class names of the schedulers that can replace ``scheduler``."""
    names = {type(scheduler).__name__}
    names.update(cls.__name__ for cls in getattr(scheduler, "compatibles", ()))
    return tuple(sorted(names))


def fresh_scheduler(loaded: LoadedPipeline, name: str | None, model: str) -> Any:
    """A new scheduler (no state from earlier runs) of class ``name``, else of the class the
    pipeline was loaded with, always from the config it was loaded with: a copy of one built
    from that config once and never run (``LoadedPipeline.scheduler_templates``)."""
    default = loaded.scheduler_class
    if not name or name == default.__name__:
        chosen = default
    elif name in loaded.scheduler_names:
        import diffusers

        chosen = getattr(diffusers, name, None)
    else:
        chosen = None
    if chosen is None:
        raise InvalidRequestError(f"unknown scheduler {name!r} for {model}",
                                  "valid: " + ", ".join(loaded.scheduler_names))
    template = loaded.scheduler_templates.get(chosen.__name__)
    if template is None:
        template = loaded.scheduler_templates[chosen.__name__] = chosen.from_config(
            loaded.scheduler_config)
    return copy.deepcopy(template)


@contextlib.contextmanager
def run_state(torch: Any, pipe: Any, scheduler: Any, threads: int) -> Iterator[None]:
    """Set one run's scheduler and torch thread count, and restore both after it.

    Pipelines derived with ``from_pipe`` share modules with the loaded one, so a scheduler left
    on any of them would become the next run's default; the thread count changes float sums.
    """
    previous_scheduler = pipe.scheduler
    previous_threads = torch.get_num_threads()
    pipe.scheduler = scheduler
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        pipe.scheduler = previous_scheduler
        torch.set_num_threads(previous_threads)


def pipeline_for(loaded: LoadedPipeline, mode: str, model: str) -> Any:
    """The pipeline for ``mode``, derived from the loaded one with shared weights."""
    base = loaded.pipe
    is_upscaler = "Upscale" in type(base).__name__
    if mode == "upscale":
        if not is_upscaler:
            raise InvalidRequestError(f"{model} cannot upscale", "use sd-x4-upscaler")
        return base
    if is_upscaler:
        raise InvalidRequestError(f"{model} only upscales", "pass --from IMAGE --upscale 4")
    if mode == "txt2img":
        return base
    variant = loaded.variants.get(mode)
    if variant is None:
        from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

        auto = AutoPipelineForImage2Image if mode == "img2img" else AutoPipelineForInpainting
        try:
            variant = auto.from_pipe(base)
        except Exception as exc:
            raise InvalidRequestError(
                f"{model} cannot do {mode}: {type(base).__name__} has no {mode} pipeline"
            ) from exc
        variant.set_progress_bar_config(disable=True)
        loaded.variants[mode] = variant
    return variant


def supports_step_end(pipe: Any) -> bool:
    """Whether the pipeline takes ``callback_on_step_end`` (the x4 upscaler does not)."""
    return "callback_on_step_end" in inspect.signature(pipe.__call__).parameters


def decode_image(data: bytes | None, mode: str) -> Any:
    """Encoded bytes → a PIL image in ``mode``."""
    from PIL import Image, UnidentifiedImageError

    if data is None:
        raise InvalidRequestError("an image is missing")
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert(mode)
    except (UnidentifiedImageError, OSError):
        raise InvalidRequestError("the source image cannot be decoded") from None


def json_safe(value: Any) -> Any:
    """A copy of ``value`` with only JSON types (others become strings)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@functools.lru_cache(maxsize=1)
def _library_versions() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    found: list[tuple[str, str]] = []
    for package in ("torch", "diffusers", "transformers"):
        try:
            found.append((package, version(package)))
        except PackageNotFoundError:
            found.append((package, "missing"))
    return tuple(found)


def library_versions() -> dict[str, str]:
    """torch, diffusers and transformers versions for the receipt (looked up once)."""
    return dict(_library_versions())
