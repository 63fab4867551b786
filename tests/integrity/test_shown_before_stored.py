"""An image reaches the UI before its PNG is encoded; a kill in between loses nothing the
receipt cannot make again."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from chatimg.generation import GenerationEvent
from chatimg.spec import GenerationSpec
from chatimg.studio import Studio
from tests.tiny_diffusers import write_tiny_model_config

ROOT = Path(__file__).resolve().parents[2]

#: ``gen`` that kills itself (SIGKILL) the moment the first image is shown.
KILLED_WHEN_SHOWN = textwrap.dedent(
    """
    import asyncio, os, signal
    from chatimg.spec import GenerationSpec
    from chatimg.studio import Studio

    def on_event(event):
        if event.kind == "image":
            os.kill(os.getpid(), signal.SIGKILL)

    studio = Studio.open()
    asyncio.run(studio.generate('a sign that says "SHOWN"', ["layout"],
                                GenerationSpec.build(seed=None, width=128, height=128),
                                on_event=on_event))
    """
)


def test_each_image_is_shown_before_it_is_encoded_and_finished_means_stored(
        config_file: Path, tiny_sd_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import chatimg.generation as generation_module
    from chatimg import imaging

    config_file.write_text("[validation]\nenabled = []\n", encoding="utf-8")
    write_tiny_model_config(config_file, tiny_sd_path, name="tiny", steps=2, width=64, height=64)
    order: list[tuple[str, int]] = []
    lock = threading.Lock()
    real_prepare = imaging.prepare

    def recorded_prepare(data: bytes | None, image: Image.Image | None,
                         parameters: dict[str, Any]) -> Any:
        with lock:
            order.append(("encode", int(parameters["seed"])))
        return real_prepare(data, image, parameters)

    monkeypatch.setattr(generation_module, "prepare", recorded_prepare)
    shown: list[GenerationEvent] = []

    def on_event(event: GenerationEvent) -> None:
        if event.kind == "image":
            with lock:
                order.append(("image", 40 + event.index))
            shown.append(event)

    studio = Studio.open()
    try:
        outcome = asyncio.run(studio.generate("a tiny robot", ["tiny"],
                                              GenerationSpec.build(seed=40, count=2),
                                              on_event=on_event, validate=False))
        (generation,) = outcome.generations
        assert generation.status == "succeeded", generation.error
        # both images were shown, each before its encoding started
        assert [event.index for event in shown] == [0, 1]
        for seed in (40, 41):
            assert order.index(("image", seed)) < order.index(("encode", seed)), order
        # "finished" means stored: the files are there, and hold the pixels that were shown
        assert len(generation.assets) == 2
        for event, asset in zip(shown, generation.assets, strict=True):
            assert event.image is not None
            with Image.open(asset.path) as stored:
                assert np.array_equal(np.asarray(stored.convert("RGB")),
                                      np.asarray(event.image.convert("RGB")))
    finally:
        studio.close()


def test_a_kill_between_shown_and_stored_leaves_a_regenerable_generation(home: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_WHEN_SHOWN], cwd=ROOT, timeout=300,
                          env={**os.environ, "CHATIMG_HOME": str(home),
                               "PYTHONPATH": str(ROOT)}, capture_output=True)
    assert done.returncode == -9, done.stderr.decode(errors="replace")[-2000:]

    studio = Studio.open()  # the next start marks the dead run
    try:
        (conversation,) = studio.list_conversations()
        (message,) = studio.load_thread(conversation.id).messages
        (generation,) = message.generations
        assert generation.status == "interrupted"
        assert generation.assets == ()
        assert generation.params.get("seed") is not None  # the seed that ran was kept
        assert studio.db.sqlite_path is not None
        with sqlite3.connect(studio.db.sqlite_path) as connection:
            rows = connection.execute("SELECT path FROM asset").fetchall()
        assert all((studio.assets.root / path).is_file() for (path,) in rows)

        again = asyncio.run(studio.rerun(generation.id))
        (made,) = again.generations
        assert made.status == "succeeded"
        assert made.params["seed"] == generation.params["seed"]
        assert made.assets and Path(made.assets[0].path).is_file()
    finally:
        studio.close()
