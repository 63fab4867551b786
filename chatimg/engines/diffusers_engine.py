"""The local ``diffusers`` engine: txt2img, img2img, inpaint and x4 upscale on this machine.

torch and diffusers are imported only inside the functions that run a model, so listing models
stays instant. Pipelines are loaded once into a shared LRU cache (``pipeline_cache``); img2img and
inpaint pipelines are derived with ``from_pipe`` and share the loaded weights.
"""

from __future__ import annotations

import io
import time
from typing import Any, ClassVar

from pydantic import Field

from chatimg.engines.base import (
    Availability,
    CancelToken,
    Capabilities,
    Engine,
    EngineOptions,
    EngineRequest,
    GeneratedImage,
    GenerationResult,
    ModelInfo,
    Progress,
    ProgressCallback,
)
from chatimg.engines.diffusers_source import (
    Source,
    missing_reason,
    model_index,
    resolve_source,
    source_version,
    weights_bytes,
)
from chatimg.engines.pipeline_cache import LoadedPipeline, shared_cache
from chatimg.errors import (
    CancelledError,
    EngineRequestError,
    EngineUnavailableError,
    InvalidRequestError,
)

_DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
           "half": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16"}


class _Stop(Exception):
    """Raised from a step callback to abort the pipeline at once (no VAE decode)."""


class DiffusersEngine(Engine):
    """A diffusers pipeline from a hub id, a local folder or a single-file checkpoint."""

    kind: ClassVar[str] = "diffusers"
    extra_spec_fields: ClassVar[frozenset[str]] = frozenset({"clip_skip"})
    blocking: ClassVar[bool] = True


    class Options(EngineOptions):
        """Extra keys of a diffusers model's table."""

        pipeline: str | None = None
        """Pipeline class for single files (default: SD 1.x/2.x) or to override the folder's."""
        task: str | None = None
        """``upscale`` for x4 upscaler folders."""
        config: str | None = None
        """A config folder or hub id for single-file checkpoints."""
        threads: int | None = Field(default=None, ge=1, le=1024)
        """torch CPU threads for this model (default: ``[diffusers] threads``)."""

    options: DiffusersEngine.Options

    def __init__(self, name: str, entry: Any, context: Any) -> None:
        super().__init__(name, entry, context)
        if not entry.source:
            raise EngineUnavailableError(f"model {name!r} has no source",
                                         "set source = hub id, folder or .safetensors file")
        self.source: Source = resolve_source(entry.source, entry.revision)
        self._version: str | None = None
        self._version_known = False
        self._pipeline_class: str | None = None

    # -- catalog facts (cheap) -----------------------------------------------------------------

    @property
    def pipeline_class(self) -> str:
        """The pipeline class name from the entry or ``model_index.json`` ('' when unknown)."""
        if self._pipeline_class is None:
            chosen = self.options.pipeline
            if not chosen:
                index = model_index(self.source)
                chosen = (index or {}).get("_class_name") or ""
            self._pipeline_class = str(chosen)
        return self._pipeline_class

    @property
    def is_upscaler(self) -> bool:
        return self.options.task == "upscale" or "Upscale" in self.pipeline_class

    @property
    def version(self) -> str | None:
        if not self._version_known:
            self._version = source_version(self.source)
            self._version_known = self._version is not None or self.source.kind != "hub"
        return self._version

    @property
    def info(self) -> ModelInfo:
        upscaler = self.is_upscaler
        flux = "Flux" in self.pipeline_class
        schedulers = shared_cache(self.context).scheduler_names.get(self._cache_source(), ())
        caps = Capabilities(
            txt2img=not upscaler, img2img=not upscaler, inpaint=not upscaler, upscale=upscaler,
            seed=True, negative_prompt=not flux, schedulers=schedulers, max_width=2048,
            max_height=2048, max_count=8, size_multiple=8, deterministic=True,
            upscale_factors=(4.0,) if upscaler else (),
        )
        entry = self.entry
        defaults = {key: getattr(entry, key) for key in
                    ("steps", "guidance", "width", "height", "scheduler")
                    if getattr(entry, key) is not None}
        return ModelInfo(
            name=self.name, engine=self.kind, model_id=entry.source, version=self.version,
            capabilities=caps, cost_per_image=entry.cost_per_image,
            description=entry.description or "", defaults=defaults,
        )

    @property
    def pullable(self) -> bool:
        """A hub model whose weights are not in the cache: ``chatimg models pull`` gets them."""
        return self.source.kind == "hub" and missing_reason(self.source) is not None

    def availability(self) -> Availability:
        from importlib.util import find_spec

        for module in ("torch", "diffusers", "transformers"):
            if find_spec(module) is None:
                return Availability(
                    False, f"{module} is not installed (pip install 'chatimg[local]')"
                )
        reason = missing_reason(self.source, self.name)
        return Availability(reason is None, reason)

    def validate_request(self, request: EngineRequest) -> EngineRequest:
        request = super().validate_request(request)
        mode = request.mode
        if mode == "upscale":
            if request.spec.upscale not in (4, 4.0):
                raise InvalidRequestError(
                    f"{self.name} upscales by 4 only, not {request.spec.upscale}")
            request = request.with_spec(request.spec.model_copy(update={"width": None,
                                                                         "height": None}))
        if mode in ("img2img", "inpaint", "upscale") and request.source_image is not None:
            source_size = _image_size(request.source_image, "source image")
            if request.mask is not None:
                mask_size = _image_size(request.mask, "mask")
                if mask_size != source_size:
                    raise InvalidRequestError(
                        f"mask is {mask_size[0]}x{mask_size[1]} but the source image is "
                        f"{source_size[0]}x{source_size[1]}", "use a mask the size of the image"
                    )
        steps, strength = request.spec.steps, request.spec.strength
        if (mode in ("img2img", "inpaint") and steps and strength is not None
                and int(steps * strength) < 1):
            raise InvalidRequestError(
                f"steps x strength must be at least 1 (steps {request.spec.steps}, "
                f"strength {request.spec.strength})", "raise --steps or --strength"
            )
        return request

    # -- running -------------------------------------------------------------------------------

    def _cache_source(self) -> str:
        return f"{self.source.location}@{self.source.revision or ''}"

    def generate_blocking(
        self, request: EngineRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> GenerationResult:
        from chatimg.engines import diffusers_runtime as runtime

        if cancel.cancelled:
            raise CancelledError("cancelled before it started")
        settings = self.context.settings.diffusers
        cached = {key[0] for key in shared_cache(self.context).keys()  # noqa: SIM118
                  if isinstance(key, tuple)}
        if self._cache_source() not in cached:
            progress(Progress(0, 0, "loading model"))  # the import and load take a while
        torch = runtime.import_torch()
        device = runtime.pick_device(self.entry.device or settings.device)
        dtype_name = _dtype_for(device, self.entry.dtype)
        cache = shared_cache(self.context)
        key = (self._cache_source(), self.pipeline_class, device, dtype_name)
        with cache.run_lock:
            fetch_clock = time.perf_counter()
            loaded, hit = cache.get_or_load(
                key, lambda: runtime.load(self.name, self.source, self.pipeline_class,
                                          device, dtype_name, self._single_file_config()),
                expected_bytes=None if key in cache else weights_bytes(self.source),
            )
            fetch_seconds = time.perf_counter() - fetch_clock
            cache.scheduler_names[self._cache_source()] = loaded.scheduler_names
            if loaded.version and not self._version:
                self._version, self._version_known = loaded.version, True
            options = request.options
            chosen = options.threads if isinstance(options, DiffusersEngine.Options) else None
            threads = chosen or settings.threads or torch.get_num_threads()
            pipe = runtime.pipeline_for(loaded, request.mode, self.name)
            scheduler = runtime.fresh_scheduler(loaded, request.spec.scheduler, self.name)
            # Per-run state is set for this run and restored after it, so a run's output
            # depends only on its receipt, never on what ran before it in this process.
            with runtime.run_state(torch, pipe, scheduler, threads):
                clock = time.perf_counter()
                images, info, stopped = self._call(runtime, pipe, request, progress, cancel)
                used_threads = torch.get_num_threads()
        receipt = {
            "pipeline": type(pipe).__name__,
            "mode": request.mode,
            "scheduler": {"class": type(scheduler).__name__,
                          "config": runtime.json_safe(dict(scheduler.config))},
            "device": device,
            "dtype": dtype_name,
            "torch_threads": used_threads,
            "cache": "hit" if hit else "load",
            "load_seconds": round(loaded.load_seconds, 4),
            "fetch_seconds": round(fetch_seconds, 6),
            "run_seconds": round(time.perf_counter() - clock, 4),
            "environment": runtime.library_versions(),
            **info,
        }
        return GenerationResult(images=images, model_version=loaded.version or self.version,
                                receipt=receipt, options={"threads": used_threads},
                                cancelled=stopped)

    def _single_file_config(self) -> str | None:
        return self.options.config or None

    def _call(self, runtime: Any, pipe: Any, request: EngineRequest,
              progress: ProgressCallback, cancel: CancelToken
              ) -> tuple[list[GeneratedImage], dict[str, Any], bool]:
        """Run the pipeline once per image (seed, seed+1, ...), so a cancel keeps what finished.

        Returns:
            The images, receipt facts, and whether a cancel stopped it after some images.

        Raises:
            CancelledError: cancelled before the first image finished.
        """
        import torch

        seed = int(request.spec.seed or 0)
        count = request.spec.count
        kwargs: dict[str, Any] = {
            "prompt": request.spec.prompt,
            "num_images_per_prompt": 1,
            "output_type": "pil",
        }
        if request.spec.steps is not None:
            kwargs["num_inference_steps"] = request.spec.steps
        if request.spec.guidance is not None:
            kwargs["guidance_scale"] = request.spec.guidance
        if request.spec.clip_skip is not None:
            kwargs.update(_clip_skip_arguments(pipe, request.spec.prompt,
                                               request.spec.clip_skip))
        if request.spec.negative_prompt:
            kwargs["negative_prompt"] = request.spec.negative_prompt
        mode = request.mode
        if mode in ("txt2img", "img2img", "inpaint"):
            if request.spec.width is not None:
                kwargs["width"] = request.spec.width
            if request.spec.height is not None:
                kwargs["height"] = request.spec.height
        if mode != "txt2img":
            kwargs["image"] = runtime.decode_image(request.source_image, "RGB")
        if mode in ("img2img", "inpaint") and request.spec.strength is not None:
            kwargs["strength"] = request.spec.strength
        if mode == "inpaint":
            kwargs["mask_image"] = runtime.decode_image(request.mask, "L")
        planned = request.spec.steps or 0
        done: list[int] = [0]  # images finished so far

        def report(step: int) -> None:
            try:
                per_image = int(pipe.num_timesteps or planned)
            except AttributeError:  # the x4 upscaler has no num_timesteps
                per_image = planned
            label = f"denoising image {done[0] + 1} of {count}" if count > 1 else "denoising"
            progress(Progress(done[0] * per_image + step, per_image * count, label))
            if cancel.cancelled:
                raise _Stop

        if runtime.supports_step_end(pipe):
            def on_step_end(_pipe: Any, index: int, _timestep: Any,
                            values: dict[str, Any]) -> dict[str, Any]:
                report(index + 1)
                return values

            kwargs["callback_on_step_end"] = on_step_end
        else:  # the x4 upscaler only has the legacy callback
            kwargs["callback"] = lambda index, _timestep, _latents: report(index + 1)
            kwargs["callback_steps"] = 1
        if cancel.cancelled:  # e.g. during a long load
            raise CancelledError("cancelled before the first step")
        images: list[GeneratedImage] = []
        for index in range(count):
            if index and cancel.cancelled:
                break
            kwargs["generator"] = torch.Generator("cpu").manual_seed(seed + index)
            try:
                output = self._run_pipe(pipe, kwargs, request, count)
            except _Stop:
                if not images:
                    raise CancelledError("cancelled") from None
                break
            flags = getattr(output, "nsfw_content_detected", None) or [False]
            image = output.images[0]
            made = GeneratedImage(image=None if flags[0] else image, seed=seed + index,
                                  safety_filtered=bool(flags[0]))
            images.append(made)
            done[0] = index + 1
            # shown (and stored in the background) while the next image is made
            progress(Progress(done[0], count, f"image {done[0]} of {count} ready", image=made))
        stopped = len(images) < count
        return images, {"seeds": [seed + i for i in range(len(images))]}, stopped

    def _run_pipe(self, pipe: Any, kwargs: dict[str, Any], request: EngineRequest,
                  count: int) -> Any:
        """One pipeline call; out-of-memory and bad arguments become one-line errors."""
        import torch

        try:
            return pipe(**kwargs)
        except torch.OutOfMemoryError:
            raise EngineRequestError(
                f"{self.name}: out of {runtime_device(pipe)} memory at "
                f"{request.spec.width or '?'}x{request.spec.height or '?'} x{count}",
                "try a smaller size or count, or lower [diffusers] memory_budget_gb",
                reason="out_of_memory",
            ) from None
        except (ValueError, TypeError) as exc:
            raise EngineRequestError(f"{self.name}: {' '.join(str(exc).split())}"[:300],
                                     reason="bad_request") from None


def _clip_skip_arguments(pipe: Any, prompt: str, clip_skip: int) -> dict[str, Any]:
    """Pipeline arguments that skip the last ``clip_skip`` CLIP layers.

    Pipelines with one CLIP encoder get the prompt embeddings from that layer through the final
    layer norm (as diffusers does, without its reach into ``text_model``, which transformers 5
    flattened); others take ``clip_skip`` themselves.
    """
    import torch

    encoder, tokenizer = getattr(pipe, "text_encoder", None), getattr(pipe, "tokenizer", None)
    if encoder is None or tokenizer is None or getattr(pipe, "text_encoder_2", None) is not None:
        return {"clip_skip": clip_skip}
    norm = getattr(getattr(encoder, "text_model", encoder), "final_layer_norm", None)
    if norm is None:
        return {"clip_skip": clip_skip}
    tokens = tokenizer(prompt, padding="max_length", max_length=tokenizer.model_max_length,
                       truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(tokens.input_ids.to(encoder.device),
                         output_hidden_states=True).hidden_states
        embeds = norm(hidden[-(clip_skip + 1)])
    return {"prompt": None, "prompt_embeds": embeds.to(dtype=encoder.dtype)}


def runtime_device(pipe: Any) -> str:
    """The device a pipeline runs on, for messages."""
    return str(getattr(pipe, "device", "device"))


def _dtype_for(device: str, requested: str | None) -> str:
    """fp32 on CPU always (bf16 is ~36x slower there); fp16 on GPUs unless bf16/fp32 asked."""
    if device == "cpu":
        return "float32"
    if requested is None:
        return "float16"
    try:
        return _DTYPES[requested.lower()]
    except KeyError:
        raise InvalidRequestError(
            f"unknown dtype {requested!r}", "use float32, float16 or bfloat16"
        ) from None


def _image_size(data: bytes, label: str) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        raise InvalidRequestError(f"the {label} is not an image") from None


__all__ = ["DiffusersEngine", "LoadedPipeline"]
