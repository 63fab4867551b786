"""ComfyUI: an API-format workflow template → ``POST /prompt`` → poll ``/history/{id}`` →
``GET /view``. Sources and masks go up through ``POST /upload/image``; cancel sends ``/interrupt``.

Workflows hold placeholders (``"{{prompt}}"``, ``"{{negative}}"``, ``"{{seed}}"``, ``"{{steps}}"``,
``"{{cfg}}"``, ``"{{width}}"``, ``"{{height}}"``, ``"{{batch_size}}"``, ``"{{checkpoint}}"``,
``"{{denoise}}"``, ``"{{sampler}}"``, ``"{{scheduler}}"``, ``"{{image}}"``, ``"{{mask}}"``). A value
that is exactly one placeholder becomes the typed value (numbers stay numbers); a placeholder
inside longer text is replaced as text. Defaults ship in ``chatimg/engines/workflows/``; a model
entry's ``workflow`` (or a ``source`` ending in ``.json``) points at a person's own file.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from contextlib import suppress
from importlib import resources
from pathlib import Path
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
from chatimg.engines.http import gather_all, race
from chatimg.engines.masks import convert_mask, file_name, mime_of
from chatimg.engines.payloads import check_image
from chatimg.engines.pool import PooledEngine, PoolOptions
from chatimg.engines.remote import clamp_seed
from chatimg.errors import (
    CancelledError,
    ChatImgError,
    EngineRequestError,
    EngineUnavailableError,
    InvalidRequestError,
)

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
DEFAULT_WORKFLOWS = {"txt2img": "sd_txt2img.json", "img2img": "sd_img2img.json",
                     "inpaint": "sd_inpaint.json"}
POLL_FIRST, POLL_MAX = 0.05, 1.0


def fill_workflow(graph: Any, values: dict[str, Any]) -> tuple[Any, set[str]]:
    """Substitute placeholders in ``graph``; return the filled copy and the names it used.

    Raises:
        InvalidRequestError: a placeholder has no value.
    """
    used: set[str] = set()

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        if not isinstance(node, str) or "{{" not in node:
            return node
        whole = PLACEHOLDER.fullmatch(node.strip())
        if whole:
            return lookup(whole.group(1))
        return PLACEHOLDER.sub(lambda match: str(lookup(match.group(1))), node)

    def lookup(name: str) -> Any:
        if name not in values or values[name] is None:
            raise InvalidRequestError(f"the ComfyUI workflow needs a value for {{{{{name}}}}}",
                                      "set it in the model's [models] table or the request")
        used.add(name)
        return values[name]

    return walk(graph), used


class ComfyUIEngine(PooledEngine):
    """A workflow on a ComfyUI server (entry ``model``: checkpoint file name)."""

    kind = "comfyui"


    class Options(PoolOptions):
        """Extra keys of a ComfyUI model's table."""

        workflow: str | None = None
        """An API-format workflow JSON file for txt2img (placeholders: see the README)."""
        img2img_workflow: str | None = None
        inpaint_workflow: str | None = None
        txt2img_workflow: str | None = None
        checkpoint: str | None = None
        sampler: str | None = None
        """KSampler sampler name (default ``euler``)."""
        job_timeout: float | None = None
        """Seconds to wait for one job (default 900)."""
    provider = "comfyui"
    display = "ComfyUI"
    base_url_env = "COMFYUI_URL"
    default_base_url = "http://127.0.0.1:8188"
    needs_key = False
    self_hosted = True
    health_path = "/system_stats"

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name, engine=self.kind,
            model_id=self.model_string or "first checkpoint on the server",
            version=self.model_string or None,
            capabilities=Capabilities(
                txt2img=True, img2img=True, inpaint=True, seed=True, negative_prompt=True,
                max_width=4096, max_height=4096, max_count=8, size_multiple=8,
                deterministic=False,
            ),
            cost_per_image=self.entry_cost(0.0),
            description=getattr(self.entry, "description", None)
            or f"ComfyUI workflow at {self.base_url()}",
            defaults={"steps": 20, "guidance": 7.0, "width": 512, "height": 512,
                      **self.entry_defaults()},
        )

    def workflow(self, mode: str) -> tuple[Any, str]:
        """The workflow graph for ``mode`` and where it came from."""
        custom = self.option(f"{mode}_workflow") or (self.option("workflow") if mode == "txt2img"
                                                      else None)
        source = getattr(self.entry, "source", None)
        if custom is None and mode == "txt2img" and source and str(source).endswith(".json"):
            custom = source
        if custom:
            path = Path(str(custom)).expanduser()
            try:
                return json.loads(path.read_text(encoding="utf-8")), str(path)
            except OSError as exc:
                raise EngineUnavailableError(f"cannot read ComfyUI workflow {path}: "
                                             f"{exc.strerror}") from None
            except ValueError:
                raise EngineUnavailableError(f"ComfyUI workflow {path} is not valid JSON",
                                             "export it with 'Save (API Format)'") from None
        name = DEFAULT_WORKFLOWS[mode]
        text = resources.files("chatimg.engines").joinpath("workflows", name).read_text("utf-8")
        return json.loads(text), f"builtin:{name}"

    async def checkpoints(self, cancel: CancelToken | None = None) -> list[str]:
        """Checkpoint names from ``/object_info/CheckpointLoaderSimple``."""
        reply = await self.client().request(
            "GET", self.base_url() + "/object_info/CheckpointLoaderSimple",
            cancel=cancel or CancelToken(), limited=False)
        data = reply.json("ComfyUI")
        try:
            names = data["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]
        except (KeyError, IndexError, TypeError):
            raise EngineRequestError("ComfyUI sent object_info without a checkpoint list",
                                     reason="bad_response") from None
        return [str(name) for name in names] if isinstance(names, list) else []

    async def _upload(self, data: bytes, stem: str, cancel: CancelToken) -> str:
        parts = [("image", (file_name(data, f"chatimg-{stem}-{uuid.uuid4().hex[:8]}"), data,
                            mime_of(data))),
                 ("type", (None, "input")), ("overwrite", (None, "true"))]
        reply = await self.client().request("POST", self.base_url() + "/upload/image",
                                            cancel=cancel, files=parts, limited=False)
        found = reply.json("ComfyUI")
        name = found.get("name") if isinstance(found, dict) else None
        if not isinstance(name, str) or not name:
            raise EngineRequestError("ComfyUI upload answered without a file name",
                                     reason="bad_response")
        sub = found.get("subfolder")
        return f"{sub}/{name}" if isinstance(sub, str) and sub else name

    async def run_job(self, request: EngineRequest, progress: ProgressCallback,
                      cancel: CancelToken) -> GenerationResult:
        client = self.client()
        mode = "img2img" if request.mode == "upscale" else request.mode
        graph, origin = self.workflow(mode)
        text = json.dumps(graph)
        checkpoint = self.model_string or self.option("checkpoint")
        if checkpoint is None and "checkpoint" in text:
            found = await self.checkpoints(cancel)
            if not found:
                raise EngineUnavailableError("ComfyUI has no checkpoints",
                                             "put a model in ComfyUI's models/checkpoints")
            checkpoint = found[0]
        values: dict[str, Any] = {
            "prompt": request.spec.prompt, "negative": request.spec.negative_prompt or "",
            "seed": 0 if request.spec.seed is None else clamp_seed(request.spec.seed, 2**64 - 1),
            "steps": request.spec.steps or 20, "cfg": float(request.spec.guidance or 7.0),
            "width": request.spec.width or 512, "height": request.spec.height or 512,
            "batch_size": request.spec.count, "checkpoint": checkpoint,
            "denoise": float(1.0 if mode == "txt2img" or request.spec.strength is None
                             else request.spec.strength),
            "sampler": self.option("sampler", request, "euler"),
            "scheduler": request.spec.scheduler or self.option("scheduler", request, "normal"),
        }
        if request.source_image is not None:
            values["image"] = await self._upload(request.source_image, "source", cancel)
        if request.mask is not None and request.source_image is not None:
            mask = await asyncio.to_thread(convert_mask, request.mask, request.source_image,
                                           "white")
            values["mask"] = await self._upload(mask, "mask", cancel)
        filled, used = fill_workflow(graph, values)
        client_id = uuid.uuid4().hex
        progress(Progress(0, 0, "queued on ComfyUI"))
        reply = await client.request("POST", self.base_url() + "/prompt", cancel=cancel,
                                     json_body={"prompt": filled, "client_id": client_id})
        answer = reply.json("ComfyUI")
        prompt_id = answer.get("prompt_id") if isinstance(answer, dict) else None
        if not isinstance(prompt_id, str) or not prompt_id:
            raise EngineRequestError("ComfyUI accepted the workflow without a prompt_id",
                                     reason="bad_response")
        try:
            outputs = await self._wait(prompt_id, request, progress, cancel)
            files = await gather_all([
                client.request("GET", self.base_url() + "/view", cancel=cancel, limited=False,
                               params={"filename": ref["filename"],
                                       "subfolder": ref.get("subfolder", ""),
                                       "type": ref.get("type", "output")},
                               what="ComfyUI image download")
                for ref in outputs
            ])
        except CancelledError:
            await self._interrupt(prompt_id)
            raise
        images: list[GeneratedImage] = []
        seeded = "seed" in used
        for index, file in enumerate(files):
            await check_image(file.content, "ComfyUI")
            images.append(GeneratedImage(data=file.content,
                                         seed=values["seed"] if seeded else None,
                                         info={"batch_index": index}))
        progress(Progress(1, 1, "done"))
        return self.scrubbed(GenerationResult(images=images, model_version=checkpoint, receipt={
            "provider": "comfyui", "workflow": origin, "prompt_id": prompt_id[:80],
            "checkpoint": checkpoint, "sampler": values["sampler"],
            "scheduler": values["scheduler"], "placeholders": sorted(used),
        }))

    async def _wait(self, prompt_id: str, request: EngineRequest, progress: ProgressCallback,
                    cancel: CancelToken) -> list[dict[str, Any]]:
        """Poll ``/history/{id}`` until the prompt finishes; return its output image refs."""
        client = self.client()
        deadline = time.monotonic() + float(self.option("job_timeout", default=900))
        delay = POLL_FIRST
        url = f"{self.base_url()}/history/{prompt_id}"
        while True:
            reply = await client.request("GET", url, cancel=cancel, limited=False)
            history = reply.json("ComfyUI")
            entry = history.get(prompt_id) if isinstance(history, dict) else None
            if isinstance(entry, dict):
                refs = _finished(entry)
                if refs is not None:
                    return refs
            if time.monotonic() > deadline:
                await self._interrupt(prompt_id)
                raise EngineRequestError("ComfyUI did not finish in time",
                                         "raise the model's job_timeout", reason="timeout")
            progress(Progress(0, 0, "running on ComfyUI"))
            await race(asyncio.sleep(delay), cancel, "ComfyUI")
            delay = min(POLL_MAX, delay * 1.5)

    async def _interrupt(self, prompt_id: str) -> None:
        client = self.client()
        quiet = CancelToken()
        with suppress(ChatImgError):
            await client.request("POST", self.base_url() + "/interrupt", cancel=quiet,
                                 json_body={"prompt_id": prompt_id}, retry=False, limited=False)
        with suppress(ChatImgError):
            await client.request("POST", self.base_url() + "/queue", cancel=quiet,
                                 json_body={"delete": [prompt_id]}, retry=False, limited=False)


def _finished(entry: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Output image refs once a history entry is finished; None while it runs.

    Raises:
        EngineRequestError: the workflow failed or produced no images.
    """
    found = entry.get("status")
    status: dict[str, Any] = found if isinstance(found, dict) else {}
    state = status.get("status_str")
    if state == "error":
        message = "the workflow failed"
        for item in status.get("messages") or []:
            if isinstance(item, list) and len(item) == 2 and item[0] == "execution_error" \
                    and isinstance(item[1], dict):
                node = item[1].get("node_type") or item[1].get("node_id") or "?"
                said = " ".join(str(item[1].get("exception_message", "")).split())[:200]
                message = f"node {node} failed: {said}"
        raise EngineRequestError(f"ComfyUI: {message}", "check the workflow and the checkpoint",
                                 reason="workflow_error")
    outputs = entry.get("outputs")
    if not status.get("completed") and state != "success" and not outputs:
        return None
    refs: list[dict[str, Any]] = []
    for node in (outputs or {}).values() if isinstance(outputs, dict) else []:
        for image in node.get("images", []) if isinstance(node, dict) else []:
            if isinstance(image, dict) and isinstance(image.get("filename"), str):
                refs.append(image)
    saved = [ref for ref in refs if ref.get("type", "output") == "output"]
    if not (saved or refs):
        if not status.get("completed") and state != "success":
            return None
        raise EngineRequestError("ComfyUI finished without any output images",
                                 "the workflow needs a SaveImage node", reason="bad_response")
    return saved or refs
