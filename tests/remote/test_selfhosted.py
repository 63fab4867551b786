"""ComfyUI and AUTOMATIC1111/Forge against fake servers that speak their APIs."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading

from chatimg.engines.base import CancelToken
from chatimg.spec import GenerationSpec
from tests.remote.conftest import KEYS, assert_no_secret
from tests.remote.fakeserver import FakeServer, Recorded, Reply, png
from tests.remote.test_ideogram import source_files

COMFY_MODELS = {"comfy-sd": {"engine": "comfyui", "model": "v1-5-pruned.safetensors"}}
A1111_MODELS = {"forge-sd": {"engine": "a1111", "model": "dreamshaper_8.safetensors [879db523]"}}


def comfy_routes(server: FakeServer, *, polls_before_done: int = 1, error: bool = False) -> None:
    """/prompt, /history (empty until done), /view and /upload/image like ComfyUI."""
    state = {"polls": 0}
    server.route("POST", "/prompt", Reply(200, {"prompt_id": "p-1", "number": 3,
                                                "node_errors": {}}))

    def history(record: Recorded) -> Reply:
        state["polls"] += 1
        if state["polls"] <= polls_before_done:
            return Reply(200, {})
        if error:
            return Reply(200, {"p-1": {"outputs": {}, "status": {
                "status_str": "error", "completed": False, "messages": [
                    ["execution_start", {"prompt_id": "p-1"}],
                    ["execution_error", {"prompt_id": "p-1", "node_id": "4",
                                         "node_type": "CheckpointLoaderSimple",
                                         "exception_message": "file not found"}]]}}})
        return Reply(200, {"p-1": {"prompt": [3, "p-1", {}, {}, ["9"]], "outputs": {
            "9": {"images": [{"filename": "chatimg_00001_.png", "subfolder": "",
                              "type": "output"}]}},
            "status": {"status_str": "success", "completed": True, "messages": []}}})

    server.route("GET", "/history/p-1", history)
    server.route("GET", "/view", Reply(200, png(), {"Content-Type": "image/png"}))
    server.route("POST", "/upload/image", lambda r: Reply(200, {
        "name": r.form()["image"].filename, "subfolder": "", "type": "input"}))
    server.route("POST", "/interrupt", Reply(200, b""))
    server.route("POST", "/queue", Reply(200, b""))


async def test_comfyui_txt2img_fills_the_workflow(remote_env, make_studio) -> None:
    server = remote_env
    comfy_routes(server, polls_before_done=2)
    studio = await make_studio(models=COMFY_MODELS)
    outcome = await studio.generate("a castle", ["comfy-sd"], GenerationSpec.build(
        seed=1234, steps=12, guidance=6.5, width=640, height=384, negative_prompt="fog"))
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    body = server.hits("POST", "/prompt")[0].json()
    assert isinstance(body["client_id"], str) and body["client_id"]
    graph = body["prompt"]
    assert graph["4"]["inputs"]["ckpt_name"] == "v1-5-pruned.safetensors"
    assert graph["6"]["inputs"]["text"] == "a castle" and graph["7"]["inputs"]["text"] == "fog"
    sampler = graph["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"], sampler["denoise"]) == (
        1234, 12, 6.5, 1.0)
    assert graph["5"]["inputs"] == {"width": 640, "height": 384, "batch_size": 1}
    assert "{{" not in json.dumps(graph)
    view = server.hits("GET", "/view")[0]
    assert view.query == {"filename": ["chatimg_00001_.png"], "type": ["output"]} or \
        view.query["filename"] == ["chatimg_00001_.png"]
    assert len(server.hits("GET", "/history/p-1")) == 3
    assert generation.assets[0].seed == 1234


async def test_comfyui_img2img_uploads_and_uses_checkpoint_list(remote_env, make_studio,
                                                                tmp_path) -> None:
    server = remote_env
    comfy_routes(server)
    server.route("GET", "/object_info/CheckpointLoaderSimple", Reply(200, {
        "CheckpointLoaderSimple": {"input": {"required": {
            "ckpt_name": [["sdxl.safetensors", "other.safetensors"], {}]}}}}))
    source, mask = source_files(tmp_path)
    studio = await make_studio(models={"comfy-any": {"engine": "comfyui"}})
    outcome = await studio.generate("watercolour", ["comfy-any"], GenerationSpec.build(
        source=str(source), strength=0.4))
    assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
    upload = server.hits("POST", "/upload/image")[0].form()
    assert upload["image"].data == source.read_bytes() and upload["type"].text == "input"
    graph = server.hits("POST", "/prompt")[0].json()["prompt"]
    assert graph["10"]["class_type"] == "LoadImage"
    assert graph["10"]["inputs"]["image"] == upload["image"].filename
    assert graph["3"]["inputs"]["denoise"] == 0.4
    assert graph["4"]["inputs"]["ckpt_name"] == "sdxl.safetensors"

    inpaint = await studio.generate("a door", ["comfy-any"], GenerationSpec.build(
        source=str(source), mask=str(mask)))
    assert inpaint.generations[0].status == "succeeded", inpaint.generations[0].error
    graph = server.hits("POST", "/prompt")[1].json()["prompt"]
    assert graph["12"]["class_type"] == "LoadImageMask"
    assert graph["12"]["inputs"]["image"].startswith("chatimg-mask")


async def test_comfyui_error_and_cancel(remote_env, make_studio) -> None:
    server = remote_env
    comfy_routes(server, error=True)
    studio = await make_studio(models=COMFY_MODELS)
    failed = (await studio.generate("x", ["comfy-sd"])).generations[0]
    assert failed.status == "failed"
    assert "CheckpointLoaderSimple failed: file not found" in failed.error

    comfy_routes(server, polls_before_done=10**6)
    before = len(server.hits("GET", "/history/p-1"))
    cancel = CancelToken()
    task = asyncio.create_task(studio.generate("x", ["comfy-sd"], cancel=cancel))
    while len(server.hits("GET", "/history/p-1")) < before + 2:
        await asyncio.sleep(0.01)
    cancel.cancel()
    outcome = await asyncio.wait_for(task, 5)
    assert outcome.generations[0].status == "cancelled"
    assert server.hits("POST", "/interrupt")[0].json() == {"prompt_id": "p-1"}


def a1111_reply(count: int = 1, seed: int = 777) -> Reply:
    info = {"prompt": "x", "seed": seed, "all_seeds": [seed + i for i in range(count)],
            "sd_model_name": "dreamshaper_8", "sd_model_hash": "879db523",
            "sampler_name": "Euler a", "index_of_first_image": 0}
    return Reply(200, {"images": [base64.b64encode(png()).decode() for _ in range(count)],
                       "parameters": {}, "info": json.dumps(info)})


async def test_a1111_txt2img_round_trip(remote_env, make_studio, home, caplog) -> None:
    server = remote_env
    server.route("POST", "/sdapi/v1/txt2img", a1111_reply(2, seed=777))
    studio = await make_studio(models=A1111_MODELS)
    outcome = await studio.generate("a robot", ["forge-sd"], GenerationSpec.build(
        seed=777, steps=8, guidance=5.0, width=512, height=768, count=2,
        negative_prompt="text", scheduler="Euler a"))
    generation = outcome.generations[0]
    assert generation.status == "succeeded", generation.error
    sent = server.hits("POST", "/sdapi/v1/txt2img")[0]
    token = base64.b64encode(KEYS["A1111_AUTH"].encode()).decode()
    assert sent.headers["authorization"] == f"Basic {token}"
    assert sent.json() == {
        "prompt": "a robot", "negative_prompt": "text", "seed": 777, "batch_size": 2,
        "n_iter": 1, "send_images": True, "save_images": False, "steps": 8, "cfg_scale": 5.0,
        "width": 512, "height": 768, "sampler_name": "Euler a",
        "override_settings": {"sd_model_checkpoint": "dreamshaper_8.safetensors [879db523]"}}
    assert [a.seed for a in generation.assets] == [777, 778]
    assert generation.model_version == "879db523"
    assert_no_secret(home, caplog)


async def test_a1111_img2img_with_mask_and_progress(remote_env, make_studio, tmp_path,
                                                    monkeypatch) -> None:
    from PIL import Image

    from chatimg.engines import a1111

    monkeypatch.setattr(a1111, "PROGRESS_INTERVAL", 0.02)
    server = remote_env
    release = threading.Event()

    def progress(record: Recorded) -> Reply:
        if len(server.hits("GET", "/sdapi/v1/progress")) >= 2:  # the first one was reported
            release.set()
        return Reply(200, {"progress": 0.5, "eta_relative": 1.0,
                           "state": {"sampling_step": 4, "sampling_steps": 8}})

    server.route("GET", "/sdapi/v1/progress", progress)

    def img2img(record: Recorded) -> Reply:
        release.wait(5)
        return a1111_reply(1, seed=11)

    server.route("POST", "/sdapi/v1/img2img", img2img)
    source, mask = source_files(tmp_path)
    studio = await make_studio(models=A1111_MODELS)
    events = []
    outcome = await studio.generate("a garden", ["forge-sd"], GenerationSpec.build(
        source=str(source), mask=str(mask), strength=0.55, seed=11),
        on_event=events.append)
    assert outcome.generations[0].status == "succeeded", outcome.generations[0].error
    body = server.hits("POST", "/sdapi/v1/img2img")[0].json()
    assert body["init_images"] == [base64.b64encode(source.read_bytes()).decode()]
    assert body["denoising_strength"] == 0.55 and body["inpainting_mask_invert"] == 0
    sent_mask = Image.open(io.BytesIO(base64.b64decode(body["mask"]))).convert("L")
    assert sent_mask.getpixel((5, 5)) == 255 and sent_mask.getpixel((60, 5)) == 0
    steps = [e.progress for e in events if e.kind == "progress" and e.progress.total == 8]
    assert steps and steps[0].step == 4


async def test_a1111_cancel_interrupts(remote_env, make_studio) -> None:
    server = remote_env
    server.route("POST", "/sdapi/v1/txt2img", Reply(200, b"{}", delay=10))
    server.route("POST", "/sdapi/v1/interrupt", Reply(200, b""))
    server.route("GET", "/sdapi/v1/progress", Reply(200, {"state": {}}))
    studio = await make_studio(models=A1111_MODELS, network={"read_timeout": 30})
    cancel = CancelToken()
    task = asyncio.create_task(studio.generate("x", ["forge-sd"], cancel=cancel))
    while not server.hits("POST", "/sdapi/v1/txt2img"):
        await asyncio.sleep(0.01)
    cancel.cancel()
    outcome = await asyncio.wait_for(task, 5)
    assert outcome.generations[0].status == "cancelled"
    assert server.hits("POST", "/sdapi/v1/interrupt")
