# mypy: ignore-errors
"""Make the version-1 bundle test data: one bundle per engine kind, with today's code.

Made with the pre-redesign code at commit 61bc62f (before issue 11's GenerationSpec/Receipt);
DO NOT REGENERATE. These bundles are the compatibility contract of bundle format version 1:
``tests/bundle/test_v1_compat.py`` checks that every later chatimg still imports them (SQLite
and PostgreSQL), replays them (identical for deterministic engines; the same wire requests for
remote ones) and re-exports them with the same manifest content. Regenerating them with newer
code would test the newer code against itself. This script uses the API of that commit
(``GenerationParams``) and is not expected to run with later code; it is kept to show how the
data was made.

Run from the repository root at that commit: ``.venv/bin/python -m tests.bundle.make_v1_bundles``.
It writes ``tests/bundle/data/v1/<kind>.zip`` and, for remote kinds, ``<kind>.wire.json`` (the
image requests as the fake provider received them, normalised by ``v1_fakes.wire``).

Each bundle holds a fan-out message, a pick (compare winner), validations (``blank`` and
``size``, plus ``typography`` on layout) and, where the engine has them, img2img, inpaint and
upscale generations whose source is an earlier image of the thread (lineage by sha256).
Images are small (32x32 from the fake servers and the tiny pipelines).

Diffusers: the tiny pipelines of ``tests/tiny_diffusers.py`` (seed 0), saved as ``./tiny-sd``
and ``./tiny-up`` relative to the working directory (the model id stored in receipts and PNG
parameters is that relative path, so a replay in another folder with the same weights gives the
same bytes), 2 steps, torch threads = 1 (recorded in each receipt).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "v1"
EXPORTED_AT = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
#: Torch CPU threads for the diffusers bundle (receipts record it; replay sets it again).
TORCH_THREADS = 1

#: Models per bundle besides the catalog's built-in entries.
EXTRA_MODELS = {
    "layout": '[models.poster]\nengine = "layout"\ncost_per_image = 0.01\n',
    "diffusers": (
        '[models.tiny]\nengine = "diffusers"\nsource = "./tiny-sd"\nsteps = 2\nwidth = 32\n'
        'height = 32\nguidance = 5.0\n\n'
        '[models.tiny-up]\nengine = "diffusers"\nsource = "./tiny-up"\nsteps = 2\n'
        'guidance = 5.0\n'
    ),
    "openai": '[models.gpt-image-mini]\nengine = "openai"\nmodel = "gpt-image-1-mini"\n',
    "comfyui": (
        '[models.comfy-sd]\nengine = "comfyui"\nmodel = "v1-5-pruned.safetensors"\n\n'
        '[models.comfy-xl]\nengine = "comfyui"\nmodel = "sdxl.safetensors"\n'
    ),
    "a1111": (
        '[models.forge-sd]\nengine = "a1111"\nmodel = "dreamshaper_8.safetensors [879db523]"\n\n'
        '[models.forge-xl]\nengine = "a1111"\nmodel = "juggernaut_xl.safetensors [aa11bb22]"\n'
    ),
}


def config_text(kind: str) -> str:
    checks = '["blank", "size", "typography"]' if kind == "layout" else '["blank", "size"]'
    text = f"[validation]\nenabled = {checks}\n\n"
    text += f"[diffusers]\nthreads = {TORCH_THREADS}\n\n"
    text += "[network]\nmax_retries = 0\nconnect_timeout = 5.0\nread_timeout = 30.0\n\n"
    return text + EXTRA_MODELS.get(kind, "")


def mask_file(folder: Path, size: int = 32) -> Path:
    """Left half white (repaint), right half black."""
    from PIL import Image

    mask = Image.new("L", (size, size), 0)
    mask.paste(255, (0, 0, size // 2, size))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    path = folder / "mask.png"
    path.write_bytes(buffer.getvalue())
    return path


def _ok(outcome: Any) -> list[Any]:
    done = [g for g in outcome.generations if g.status == "succeeded"]
    assert done, [g.error for g in outcome.generations]
    return done


# -- threads -----------------------------------------------------------------------------------


async def layout_thread(studio: Any, folder: Path) -> str:
    from chatimg.spec import GenerationSpec as P

    first = await studio.generate('a red poster that says "HELLO"', ["layout", "poster"],
                                  P(seed=11, width=96, height=64))
    cid = first.message.conversation_id
    await studio.generate('a blue card that says "AGAIN"', ["layout"],
                          P(seed=12, width=64, height=64, count=2), conversation_id=cid)
    await studio.generate('a green sign that says "BRANCH"', ["poster", "no-such-model"],
                          P(seed=13, width=64, height=48), conversation_id=cid,
                          parent_id=first.message.id)
    a, b = _ok(first)
    studio.add_pick([a.id, b.id], b.id, "tester")
    return cid


async def diffusers_thread(studio: Any, folder: Path) -> str:
    from chatimg.spec import GenerationSpec as P

    first = await studio.generate("a tiny cat", ["tiny", "layout"],
                                  P(seed=5, width=32, height=32))
    cid = first.message.conversation_id
    tiny, layout = first.generations
    source = tiny.assets[0].sha256
    mask = mask_file(folder)
    _ok(await studio.generate("a tiny cat, in autumn", ["tiny"],
                              P(seed=6, source=source, strength=0.5), conversation_id=cid))
    _ok(await studio.generate("a tiny cat with a hat", ["tiny"],
                              P(seed=7, source=source, mask=str(mask), strength=1.0),
                              conversation_id=cid))
    _ok(await studio.generate("a sharper cat", ["tiny-up"],
                              P(seed=8, source=source, upscale=4.0), conversation_id=cid))
    # Last, so no pipeline is derived after the scheduler switch (issue 11's scheduler leak).
    _ok(await studio.generate("a tiny dog", ["tiny"],
                              P(seed=9, scheduler="DDIMScheduler", width=32, height=32),
                              conversation_id=cid))
    studio.add_pick([tiny.id, layout.id], tiny.id, "tester")
    return cid


async def ideogram_thread(studio: Any, folder: Path) -> str:
    from chatimg.spec import GenerationSpec as P

    first = await studio.generate('a poster that says "HELLO"',
                                  ["ideogram-v2-turbo", "ideogram-v3"],
                                  P(seed=42, width=1024, height=1024, count=2,
                                    negative_prompt="blurry"))
    cid = first.message.conversation_id
    turbo, v3 = _ok(first)
    source = turbo.assets[0].sha256
    mask = mask_file(folder)
    _ok(await studio.generate("make it autumn", ["ideogram-v2"],
                              P(seed=5, source=source, strength=0.7), conversation_id=cid))
    _ok(await studio.generate("add a moon", ["ideogram-v2-turbo"],
                              P(seed=9, source=source, mask=str(mask)), conversation_id=cid))
    _ok(await studio.generate("crisper", ["ideogram-v2"],
                              P(source=source, upscale=2.0), conversation_id=cid))
    _ok(await studio.generate("in winter", ["ideogram-v3-turbo"],
                              P(seed=3, source=source, strength=0.25, width=1920, height=1080),
                              conversation_id=cid))
    studio.add_pick([turbo.id, v3.id], v3.id, "tester")
    return cid


async def gemini_thread(studio: Any, folder: Path) -> str:
    from chatimg.spec import GenerationSpec as P

    first = await studio.generate("a lighthouse", ["gemini-2.5-flash-image", "gemini-3.1-flash-image"],
                                  P(width=1920, height=1080))
    cid = first.message.conversation_id
    gem, other = _ok(first)
    _ok(await studio.generate("make it night", ["gemini-2.5-flash-image"],
                              P(source=gem.assets[0].sha256), conversation_id=cid))
    studio.add_pick([gem.id, other.id], gem.id, "tester")
    return cid


async def imagen_thread(studio: Any, folder: Path) -> str:
    from chatimg.spec import GenerationSpec as P

    first = await studio.generate("a kettle", ["imagen-4-fast", "imagen-4-ultra"],
                                  P(count=2, width=768, height=1024, seed=4))
    cid = first.message.conversation_id
    fast, ultra = _ok(first)
    _ok(await studio.generate("a teapot", ["imagen-4-fast"], P(width=1024, height=1024),
                              conversation_id=cid))
    studio.add_pick([fast.id, ultra.id], ultra.id, "tester")
    return cid


async def openai_thread(studio: Any, folder: Path) -> str:
    from chatimg.spec import GenerationSpec as P

    first = await studio.generate("a red fox", ["gpt-image-2", "gpt-image-mini"],
                                  P(width=1500, height=1000, count=2,
                                    extra={"quality": "high"}))
    cid = first.message.conversation_id
    fox, mini = _ok(first)
    source = fox.assets[0].sha256
    _ok(await studio.generate("add a hat", ["gpt-image-2"],
                              P(source=source, mask=str(mask_file(folder))), conversation_id=cid))
    _ok(await studio.generate("as a watercolour", ["gpt-image-2"], P(source=source),
                              conversation_id=cid))
    studio.add_pick([fox.id, mini.id], fox.id, "tester")
    return cid


async def comfyui_thread(studio: Any, folder: Path) -> str:
    from chatimg.spec import GenerationSpec as P

    first = await studio.generate("a castle", ["comfy-sd", "comfy-xl"],
                                  P(seed=1234, steps=12, guidance=6.5, width=640, height=384,
                                    negative_prompt="fog"))
    cid = first.message.conversation_id
    sd, xl = _ok(first)
    source = sd.assets[0].sha256
    _ok(await studio.generate("watercolour", ["comfy-sd"],
                              P(seed=5, source=source, strength=0.4), conversation_id=cid))
    _ok(await studio.generate("a door", ["comfy-sd"],
                              P(seed=6, source=source, mask=str(mask_file(folder))),
                              conversation_id=cid))
    studio.add_pick([sd.id, xl.id], xl.id, "tester")
    return cid


async def a1111_thread(studio: Any, folder: Path) -> str:
    from chatimg.spec import GenerationSpec as P

    first = await studio.generate("a robot", ["forge-sd", "forge-xl"],
                                  P(seed=777, steps=8, guidance=5.0, width=512, height=768,
                                    count=2, negative_prompt="text", scheduler="Euler a"))
    cid = first.message.conversation_id
    sd, xl = _ok(first)
    source = sd.assets[0].sha256
    _ok(await studio.generate("a garden", ["forge-sd"],
                              P(seed=11, source=source, strength=0.55), conversation_id=cid))
    _ok(await studio.generate("a gate", ["forge-sd"],
                              P(seed=12, source=source, mask=str(mask_file(folder)),
                                strength=0.75), conversation_id=cid))
    studio.add_pick([sd.id, xl.id], sd.id, "tester")
    return cid


THREADS = {"layout": layout_thread, "diffusers": diffusers_thread,
           "ideogram": ideogram_thread, "gemini": gemini_thread, "imagen": imagen_thread,
           "openai": openai_thread, "comfyui": comfyui_thread, "a1111": a1111_thread}


# -- driver ------------------------------------------------------------------------------------


def save_tiny_pipelines(folder: Path) -> None:
    from tests.tiny_diffusers import (
        build_tiny_sd_pipeline,
        build_tiny_upscaler_pipeline,
        save_pipeline,
    )

    save_pipeline(build_tiny_sd_pipeline(), folder / "tiny-sd")
    save_pipeline(build_tiny_upscaler_pipeline(), folder / "tiny-up")


def make(kind: str, work: Path) -> None:
    from chatimg.bundle import export_conversation
    from chatimg.studio import Studio
    from tests.bundle import v1_fakes

    home = work / kind
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(config_text(kind), encoding="utf-8")
    os.environ["CHATIMG_HOME"] = str(home)
    server = v1_fakes.serve(kind) if kind in v1_fakes.SERVERS else None
    saved = dict(os.environ)
    if server is not None:
        os.environ.update(v1_fakes.environment(server))
    try:
        async def run() -> None:
            studio = Studio.open()
            try:
                cid = await THREADS[kind](studio, home)
                export_conversation(studio, cid, DATA / f"{kind}.zip", exported_at=EXPORTED_AT,
                                    verify=True)
            finally:
                await studio.aclose()

        asyncio.run(run())
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if server is not None:
            wire = v1_fakes.generation_requests(server)
            (DATA / f"{kind}.wire.json").write_text(json.dumps(wire, indent=1) + "\n",
                                                     encoding="utf-8")
            server.stop()
    print(f"{kind}: {DATA / f'{kind}.zip'} ({(DATA / f'{kind}.zip').stat().st_size} bytes)")


def main(kinds: list[str]) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    os.environ["HF_HUB_OFFLINE"] = "1"
    for name in list(os.environ):
        if name.startswith("CHATIMG_") or name.endswith(("_API_KEY", "_BASE_URL", "_URL")):
            os.environ.pop(name)
    with tempfile.TemporaryDirectory(prefix="chatimg-v1-") as temp:
        work = Path(temp)
        previous = Path.cwd()
        os.chdir(work)  # the diffusers models are ./tiny-sd and ./tiny-up from here
        try:
            if "diffusers" in kinds:
                save_tiny_pipelines(work)
            for kind in kinds:
                make(kind, work)
        finally:
            os.chdir(previous)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1:] or list(THREADS))
