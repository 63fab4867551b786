"""Tiny random-weight diffusers pipelines for tests (no network, no hub files).

The pipelines are built from small configs with a byte-level tokenizer made in code, saved with
``save_pretrained`` into a session temp folder, and then loaded by chatimg through its real loading
code via a ``[models.NAME]`` table (see ``write_tiny_model_config``).

Fixtures (registered from ``tests/conftest.py`` via ``pytest_plugins``):

- ``tiny_sd_path``: a Stable Diffusion-shaped pipeline folder (txt2img/img2img/inpaint).
- ``tiny_upscaler_path``: a ``StableDiffusionUpscalePipeline`` folder (x4 upscaler shape).

The folders are shared by the whole session: treat them as read-only (copy one to change it).
Typical use: ``write_tiny_model_config(config_file, tiny_sd_path, steps=2, width=64,
height=64)`` before ``Studio.open()``; a 2-step 64x64 image takes well under a second on CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

#: Text encoder width; the UNet's cross-attention must match it.
TEXT_HIDDEN = 32


def _bytes_to_unicode() -> dict[int, str]:
    """The GPT-2 byte → printable character table used by byte-level BPE vocabularies."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars), strict=True))


def build_tokenizer(max_length: int = 77) -> Any:
    """A CLIP tokenizer over a 514-entry byte-level vocabulary, with no merges."""
    from transformers import CLIPTokenizer

    symbols = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for symbol in symbols + [s + "</w>" for s in symbols]:
        vocab.setdefault(symbol, len(vocab))
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], pad_token="!", model_max_length=max_length)


def build_text_encoder(seed: int = 0) -> Any:
    """A two-layer CLIP text encoder of width ``TEXT_HIDDEN``."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    config = CLIPTextConfig(
        bos_token_id=512, eos_token_id=513, pad_token_id=1, hidden_size=TEXT_HIDDEN,
        intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        vocab_size=1000, max_position_embeddings=77,
    )
    return CLIPTextModel(config)


def build_tiny_sd_pipeline(seed: int = 0) -> Any:
    """A Stable Diffusion pipeline with tiny random weights (UNet blocks (32, 64))."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(  # type: ignore[no-untyped-call]  # diffusers: untyped constructors
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32,
        in_channels=4, out_channels=4, norm_num_groups=32,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_HIDDEN, attention_head_dim=(2, 4),
    )
    torch.manual_seed(seed + 1)
    vae = AutoencoderKL(  # type: ignore[no-untyped-call]  # diffusers: untyped constructors
        block_out_channels=(32, 64), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4, norm_num_groups=32, sample_size=64,
    )
    scheduler = EulerDiscreteScheduler(  # type: ignore[no-untyped-call]  # diffusers: untyped constructors
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        timestep_spacing="trailing", steps_offset=1,
    )
    pipe: Any = StableDiffusionPipeline(  # type: ignore[no-untyped-call]  # diffusers: untyped constructors
        vae=vae, text_encoder=build_text_encoder(seed + 2), tokenizer=build_tokenizer(),
        unet=unet, scheduler=scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def build_tiny_upscaler_pipeline(seed: int = 0) -> Any:
    """An x4-upscaler-shaped pipeline (UNet ``in_channels=7``, VAE scaling 0.08333)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
        UNet2DConditionModel,
    )

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(  # type: ignore[no-untyped-call]  # diffusers: untyped constructors
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32,
        in_channels=7, out_channels=4, norm_num_groups=32, num_class_embeds=1000,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_HIDDEN, attention_head_dim=(2, 4),
    )
    torch.manual_seed(seed + 1)
    # Three blocks → the VAE upsamples by 4, as the x4 upscaler expects.
    vae = AutoencoderKL(  # type: ignore[no-untyped-call]  # diffusers: untyped constructors
        block_out_channels=(32, 32, 64), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        latent_channels=4, norm_num_groups=32, scaling_factor=0.08333,
    )
    pipe: Any = StableDiffusionUpscalePipeline(  # type: ignore[no-untyped-call]  # diffusers: untyped constructors
        vae=vae, text_encoder=build_text_encoder(seed + 2), tokenizer=build_tokenizer(),
        unet=unet, low_res_scheduler=DDPMScheduler(), scheduler=DDIMScheduler(),  # type: ignore[no-untyped-call]  # diffusers: untyped constructors
        max_noise_level=350,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_pipeline(pipe: Any, folder: Path) -> Path:
    """Save ``pipe`` with ``save_pretrained`` (safetensors) and return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(str(folder), safe_serialization=True)
    return folder


def write_tiny_model_config(config_file: Path, path: Path | str, name: str = "tiny",
                            **extra: Any) -> Path:
    """Append a ``[models.NAME]`` table for a diffusers folder to ``config_file``.

    Args:
        config_file: The chatimg config file (created if missing).
        path: The pipeline folder (or single-file checkpoint).
        name: The model name to register.
        **extra: More keys for the table, e.g. ``steps=2, width=64, height=64``.

    Returns:
        ``config_file``.
    """
    import json

    lines = [f"[models.{json.dumps(name)}]", 'engine = "diffusers"',
             f"source = {json.dumps(str(path))}"]
    for key, value in extra.items():
        lines.append(f"{key} = {json.dumps(value)}")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    previous = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    if previous and not previous.endswith("\n"):
        previous += "\n"
    config_file.write_text(previous + "\n".join(lines) + "\n", encoding="utf-8")
    return config_file


@pytest.fixture(scope="session")
def tiny_sd_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SD pipeline folder, built once per test session."""
    folder = tmp_path_factory.mktemp("tiny-sd") / "pipeline"
    return save_pipeline(build_tiny_sd_pipeline(), folder)


@pytest.fixture(scope="session")
def tiny_upscaler_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny x4-upscaler pipeline folder, built once per test session."""
    folder = tmp_path_factory.mktemp("tiny-upscaler") / "pipeline"
    return save_pipeline(build_tiny_upscaler_pipeline(), folder)
