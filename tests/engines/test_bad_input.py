"""Acceptance 5: bad input gives one-line errors. Values and images that are wrong in themselves
are refused before anything is written; what a model cannot do is stored as the message and a
failed generation with its reason (no images)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chatimg import paths
from chatimg.spec import GenerationSpec


def _gen(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    from chatimg.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["gen", *args, "--json", "-q"])
    out, err = capsys.readouterr()
    code = exited.value.code
    return int(code or 0), (json.loads(out) if out.strip() else {}), err


def _image(path: Path, size: tuple[int, int], mode: str = "RGB") -> str:
    Image.new(mode, size, 128).save(path)
    return str(path)


def _generated_files() -> list[Path]:
    root = paths.assets_dir()
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "no-such-model"], "unknown model 'no-such-model'"),
        (["-m", "tiny", "--size", "60x64"], "width 60 is not a multiple of 8"),
    ],
    ids=["unknown-model", "size-not-multiple-of-8"],
)
def test_cli_bad_request_stores_failed_generation(
    tiny_config: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, report, err = _gen(capsys, "a cat", *args)
    assert code == 1
    assert "Traceback" not in err
    (generation,) = report["generations"]
    assert generation["status"] == "failed"
    assert expected in generation["error"] and "\n" not in generation["error"]
    assert generation["assets"] == []
    assert _generated_files() == []
    _assert_only_message_and_failure(report, expected)


def test_cli_strength_and_mask_checks(tiny_config: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    source = _image(tmp_path / "src.png", (64, 64))
    mask = _image(tmp_path / "mask.png", (32, 32), "L")
    code, report, _ = _gen(capsys, "a cat", "-m", "tiny", "--from", source, "--mask", mask)
    assert code == 1
    error = report["generations"][0]["error"]
    assert "mask is 32x32 but the source image is 64x64" in error and "\n" not in error
    _assert_only_message_and_failure(report, "mask is 32x32")


def _assert_nothing_stored() -> None:
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        assert studio.list_conversations() == []
    finally:
        studio.close()
    assert _generated_files() == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--steps", "0"], "steps must be at least 1, not 0"),
        (["--strength", "1.5"], "strength must be at most 1, not 1.5"),
        (["--guidance", "nan"], "guidance must be a finite number, not nan"),
        (["--guidance", "inf"], "guidance must be a finite number, not inf"),
        (["--seed", str(2**63)], "seed must be less than 9223372036854775808"),
        (["--seed", str(2**63 - 1), "-n", "2"], "passes 2**63"),
        (["-n", "0"], "count must be at least 1, not 0"),
    ],
    ids=["steps-0", "strength", "nan", "inf", "seed-2**63", "seed-plus-count", "count-0"],
)
def test_values_json_and_databases_cannot_hold_are_refused_at_the_edge(
    tiny_config: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, report, err = _gen(capsys, "a cat", "-m", "tiny", *args)
    assert code == 1 and report == {}
    assert expected in err and len(err.strip().splitlines()) <= 2 and "Traceback" not in err
    _assert_nothing_stored()


async def test_a_nul_byte_or_an_oversized_prompt_is_refused_before_anything_is_written(
    tiny_studio: Any,
) -> None:
    from chatimg.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="NUL"):
        await tiny_studio.generate("a \x00 cat", ["tiny"])
    with pytest.raises(InvalidRequestError, match="the limit is 20,000"):
        await tiny_studio.generate("x" * 1_000_000, ["tiny"])
    assert tiny_studio.list_conversations() == []


def test_cli_from_a_file_that_is_not_an_image(tiny_config: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture", encoding="utf-8")
    code, report, err = _gen(capsys, "a cat", "-m", "tiny", "--from", str(notes))
    assert code == 1 and "Traceback" not in err and report == {}
    assert f"{notes} is not an image" in err
    _assert_nothing_stored()


def _assert_only_message_and_failure(report: dict[str, Any], expected: str) -> None:
    from chatimg.studio import Studio

    studio = Studio.open()
    try:
        thread = studio.load_thread(report["conversation_id"])
        (message,) = thread.messages
        (generation,) = message.generations
        assert generation.status == "failed" and expected in (generation.error or "")
        assert generation.assets == ()
    finally:
        studio.close()


async def test_studio_rejects_bad_sizes_and_masks(tiny_studio: Any, tmp_path: Path) -> None:
    outcome = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(width=100),
                                         validate=False)
    assert outcome.generations[0].status == "failed"
    assert "width 100 is not a multiple of 8 for tiny" in outcome.generations[0].error

    source = _image(tmp_path / "src.png", (64, 48))
    mask = _image(tmp_path / "mask.png", (64, 64), "L")
    outcome = await tiny_studio.generate(
        "a cat", ["tiny"], GenerationSpec.build(source=source, mask=mask), validate=False
    )
    (generation,) = outcome.generations
    assert generation.status == "failed" and "mask is 64x64" in generation.error
    assert generation.assets == ()


async def test_steps_times_strength_below_one(tiny_studio: Any, tmp_path: Path) -> None:
    source = _image(tmp_path / "src.png", (64, 64))
    outcome = await tiny_studio.generate(
        "a cat", ["tiny"], GenerationSpec.build(source=source, steps=1, strength=0.5), validate=False
    )
    assert "steps x strength must be at least 1" in outcome.generations[0].error


def test_uncached_hub_model_fails_fast_with_download_hint(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text(
        '[validation]\nenabled = []\n[models.remote-only]\nengine = "diffusers"\n'
        'source = "nobody-here/never-downloaded"\n', encoding="utf-8")
    code, report, err = _gen(capsys, "a cat", "-m", "remote-only")
    assert code == 1
    error = report["generations"][0]["error"]
    assert "weights not cached" in error and "chatimg models pull remote-only" in error
    assert "\n" not in error and "Traceback" not in err


def test_broken_single_file_checkpoint_is_one_line(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "broken.safetensors"
    checkpoint.write_bytes(b"this is not a checkpoint")
    config_file.write_text(
        f'[validation]\nenabled = []\n[models.broken]\nengine = "diffusers"\n'
        f'source = "{checkpoint}"\n', encoding="utf-8")
    code, report, err = _gen(capsys, "a cat", "-m", "broken", "--size", "64x64")
    assert code == 1 and "Traceback" not in err
    error = report["generations"][0]["error"]
    assert error.startswith(f"broken: cannot load {checkpoint}") and "\n" not in error


async def test_out_of_memory_is_one_line_with_a_hint(
    tiny_studio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from diffusers import StableDiffusionPipeline

    def out_of_memory(*args: Any, **kwargs: Any) -> Any:
        raise torch.OutOfMemoryError("CUDA out of memory.\nTried to allocate 20.00 GiB")

    monkeypatch.setattr(StableDiffusionPipeline, "__call__", out_of_memory)
    outcome = await tiny_studio.generate("a cat", ["tiny"], GenerationSpec.build(seed=1),
                                         validate=False)
    (generation,) = outcome.generations
    assert generation.status == "failed"
    assert generation.error.startswith("tiny: out of cpu memory at 64x64")
    assert "memory_budget_gb" in generation.error and "\n" not in generation.error
