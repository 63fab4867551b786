"""Random-weight Stable Diffusion pipelines built from configs, for benchmarks (no download).

Compute cost does not depend on weight values, so these give realistic timings. Two shapes:

- ``medium``: small enough to build in seconds on a laptop CPU, big enough for ~1 s per call;
- ``sd_turbo``: the real SD-Turbo (SD 2.1 base) shapes: UNet (320, 640, 1280, 1280) with head
  dims [5, 10, 20, 20] and cross-attention 1024, an OpenCLIP-H-shaped text encoder (hidden 1024,
  23 layers), and the SD VAE (128, 256, 512, 512).

The tokenizer is a byte-level CLIP vocabulary built in code (514 entries, no merges).
"""

from __future__ import annotations

from typing import Any

SHAPES: dict[str, dict[str, Any]] = {
    "medium": {
        "unet": {
            "block_out_channels": (64, 128, 256), "layers_per_block": 1,
            "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            "attention_head_dim": (2, 4, 8), "cross_attention_dim": 128,
            "norm_num_groups": 32, "sample_size": 32,
        },
        "text": {"hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 4,
                 "num_attention_heads": 4},
        "vae": {"block_out_channels": (32, 64, 64, 64), "layers_per_block": 1},
    },
    "sd_turbo": {
        "unet": {
            "block_out_channels": (320, 640, 1280, 1280), "layers_per_block": 2,
            "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                 "CrossAttnDownBlock2D", "DownBlock2D"),
            "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                               "CrossAttnUpBlock2D"),
            "attention_head_dim": (5, 10, 20, 20), "cross_attention_dim": 1024,
            "use_linear_projection": True, "norm_num_groups": 32, "sample_size": 64,
        },
        "text": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 23,
                 "num_attention_heads": 16, "hidden_act": "gelu"},
        "vae": {"block_out_channels": (128, 256, 512, 512), "layers_per_block": 2},
    },
}


def _bytes_to_unicode() -> list[str]:
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
            + list(range(ord("®"), ord("ÿ") + 1)))
    chars = [chr(b) for b in keep]
    extra = 0
    for byte in range(256):
        if byte not in keep:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def build_tokenizer() -> Any:
    """A CLIP tokenizer over a byte-level vocabulary made in code."""
    from transformers import CLIPTokenizer

    vocab: dict[str, int] = {}
    symbols = _bytes_to_unicode()
    for symbol in symbols + [s + "</w>" for s in symbols]:
        vocab.setdefault(symbol, len(vocab))
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], pad_token="!", model_max_length=77)


def build_pipeline(shape: str = "medium", *, device: str = "cpu", dtype: Any = None,
                   seed: int = 0) -> Any:
    """A ``StableDiffusionPipeline`` of ``shape`` with random weights on ``device``.

    Modules are created directly on ``device`` (fast on a GPU), then cast to ``dtype``.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    spec = SHAPES[shape]
    torch.manual_seed(seed)
    with torch.device(device):
        unet = UNet2DConditionModel(in_channels=4, out_channels=4, **spec["unet"])
        blocks = len(spec["vae"]["block_out_channels"])
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=32,
            down_block_types=("DownEncoderBlock2D",) * blocks,
            up_block_types=("UpDecoderBlock2D",) * blocks, **spec["vae"],
        )
        text_config = CLIPTextConfig(bos_token_id=512, eos_token_id=513, pad_token_id=1,
                                     vocab_size=49408, max_position_embeddings=77, **spec["text"])
        text_encoder = CLIPTextModel(text_config)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        timestep_spacing="trailing", steps_offset=1,
    )
    pipe: Any = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=build_tokenizer(), unet=unet,
        scheduler=scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )
    if dtype is not None:
        pipe = pipe.to(device, dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def parameter_count(pipe: Any) -> int:
    """Parameters across the pipeline's torch modules."""
    return sum(
        sum(p.numel() for p in module.parameters())
        for module in pipe.components.values() if hasattr(module, "parameters")
    )
