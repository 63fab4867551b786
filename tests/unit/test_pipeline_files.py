"""Which files of a diffusers repository ``models pull`` fetches (pure selection rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatimg.engines.pipeline_files import select_files, snapshot_variant
from chatimg.errors import EngineUnavailableError

INDEX = {"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
         "vae": ["diffusers", "AutoencoderKL"], "text_encoder": ["transformers", "CLIPTextModel"],
         "tokenizer": ["transformers", "CLIPTokenizer"],
         "scheduler": ["diffusers", "EulerDiscreteScheduler"], "safety_checker": [None, None]}

REPO = {
    "model_index.json": 500, "README.md": 3000, "sd_turbo.safetensors": 5_000_000_000,
    "unet/config.json": 1000, "unet/diffusion_pytorch_model.safetensors": 3_400_000_000,
    "unet/diffusion_pytorch_model.fp16.safetensors": 1_700_000_000,
    "unet/diffusion_pytorch_model.bin": 3_400_000_000,
    "vae/config.json": 600, "vae/diffusion_pytorch_model.safetensors": 330_000_000,
    "text_encoder/config.json": 700,
    "text_encoder/model.fp16-00001-of-00002.safetensors": 400_000_000,
    "text_encoder/model.fp16-00002-of-00002.safetensors": 280_000_000,
    "text_encoder/model.safetensors.index.fp16.json": 20_000,
    "text_encoder/model-00001-of-00002.safetensors": 800_000_000,
    "text_encoder/model-00002-of-00002.safetensors": 560_000_000,
    "text_encoder/model.safetensors.index.json": 20_000,
    "text_encoder/flax_model.msgpack": 1_300_000_000,
    "tokenizer/vocab.json": 1_000_000, "tokenizer/merges.txt": 500_000,
    "tokenizer/tokenizer_config.json": 800, "scheduler/scheduler_config.json": 400,
    "safety_checker/model.safetensors": 1_200_000_000,
}


def test_full_precision_takes_plain_safetensors_only() -> None:
    chosen = select_files("org/m", REPO, INDEX, None)
    assert chosen.variant is None
    assert set(chosen.files) == {
        "model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
        "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
        "text_encoder/config.json", "text_encoder/model-00001-of-00002.safetensors",
        "text_encoder/model-00002-of-00002.safetensors",
        "text_encoder/model.safetensors.index.json", "tokenizer/vocab.json",
        "tokenizer/merges.txt", "tokenizer/tokenizer_config.json",
        "scheduler/scheduler_config.json",
    }
    assert chosen.total_bytes == sum(REPO[name] for name in chosen.files)


def test_fp16_takes_variant_files_where_they_exist() -> None:
    chosen = select_files("org/m", REPO, INDEX, "fp16")
    assert chosen.variant == "fp16"
    weights = {name for name in chosen.files if name.endswith(".safetensors")}
    assert weights == {
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "vae/diffusion_pytorch_model.safetensors",  # no fp16 file for the VAE: the plain one
        "text_encoder/model.fp16-00001-of-00002.safetensors",
        "text_encoder/model.fp16-00002-of-00002.safetensors",
    }
    assert "text_encoder/model.safetensors.index.fp16.json" in chosen.files
    assert "text_encoder/model.safetensors.index.json" not in chosen.files


def test_a_component_without_safetensors_is_refused() -> None:
    repo = {"model_index.json": 1, "unet/config.json": 1, "unet/diffusion_pytorch_model.bin": 9}
    with pytest.raises(EngineUnavailableError, match="unet has no safetensors weights"):
        select_files("org/old", repo, {"unet": ["diffusers", "UNet2DConditionModel"]}, None)


def test_snapshot_variant_is_fp16_only_when_plain_weights_are_absent(tmp_path: Path) -> None:
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "diffusion_pytorch_model.fp16.safetensors").write_bytes(b"x")
    (tmp_path / "vae").mkdir()
    (tmp_path / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"x")
    assert snapshot_variant(tmp_path) == "fp16"
    (tmp_path / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"x")
    assert snapshot_variant(tmp_path) is None


def test_a_snapshot_missing_weights_is_incomplete(tmp_path: Path) -> None:
    import json

    from chatimg.engines.pipeline_files import pipeline_complete

    commit = "a" * 40
    root = tmp_path / "snapshots" / commit
    (root / "unet").mkdir(parents=True)
    (root / "model_index.json").write_text(json.dumps({"unet": ["diffusers", "UNet"]}))
    (root / "unet" / "config.json").write_text("{}")
    (tmp_path / "trees").mkdir()
    files = {"model_index.json": 30, "unet/config.json": 2,
             "unet/diffusion_pytorch_model.safetensors": 9}
    (tmp_path / "trees" / f"{commit}.json").write_text(json.dumps(
        {"format_version": 1, "files": {k: {"size": v, "blob_id": "x"} for k, v in files.items()}}))
    assert not pipeline_complete(root)  # interrupted before the UNet weights arrived
    (root / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"123456789")
    assert pipeline_complete(root)


def test_progress_line_shows_bytes_speed_eta_and_files() -> None:
    from chatimg.commands.model_weights import progress_line
    from chatimg.engines.hub_pull import PullProgress

    line = progress_line(PullProgress(1_300_000_000, 2_600_000_000, 5, 17, 35_000_000, 97.0,
                                      "downloading"))
    assert "50%" in line and "1.3 GB / 2.6 GB" in line and "35.0 MB/s" in line
    assert "ETA 1:37" in line and "(5/17 files)" in line
