"""Which files of a diffusers repository a pipeline needs: pure functions, no hub or torch import.

``models pull`` downloads only these: ``model_index.json``, every file of the folders that hold no
weights (scheduler, tokenizer, feature extractor), and, in folders that hold weights, their small
configuration files plus one set of ``.safetensors`` weights — the fp16 variant when asked for
and present, else the plain files. Pickle (``.bin``, ``.ckpt``), ONNX, Flax and single-file
checkpoints at the repository root are never fetched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatimg.errors import EngineUnavailableError

#: Files at the repository root that diffusers may read besides ``model_index.json``.
ROOT_FILES = ("model_index.json", "scheduler_config.json", "config.json", "tokenizer.json",
              "tokenizer_config.json", "preprocessor_config.json", "generation_config.json")
#: Suffixes of weight files of any format; a folder with one of these is a model folder.
ANY_WEIGHTS = (".safetensors", ".bin", ".ckpt", ".pt", ".pth", ".onnx", ".onnx_data", ".msgpack",
               ".h5", ".pb", ".gguf", ".ot")
_SHARD = r"(?:-\d{5}-of-\d{5})?"
_PLAIN = re.compile(rf"^[^.]+{_SHARD}\.safetensors$")
_PLAIN_INDEX = re.compile(r"^[^.]+\.safetensors\.index\.json$")


def _variant_patterns(variant: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    name = re.escape(variant)
    weights = re.compile(rf"^[^.]+(?:\.{name}{_SHARD}|-\d{{5}}-of-\d{{5}}\.{name})\.safetensors$")
    index = re.compile(rf"^[^.]+\.safetensors\.(?:index\.{name}|{name}\.index)\.json$")
    return weights, index


@dataclass(frozen=True)
class PipelineFiles:
    """The files to fetch and what they weigh."""

    files: tuple[str, ...]
    total_bytes: int
    variant: str | None
    """``fp16`` when at least one component comes as its fp16 variant, else None."""


def components(model_index: Mapping[str, Any]) -> list[str]:
    """The component folders a ``model_index.json`` names (``unet``, ``vae``, ...)."""
    return sorted(
        key for key, value in model_index.items()
        if not key.startswith("_") and isinstance(value, list | tuple) and len(value) == 2
        and value[0] is not None and value[1] is not None
    )


def select_files(repo_id: str, sizes: Mapping[str, int], model_index: Mapping[str, Any],
                 variant: str | None) -> PipelineFiles:
    """Pick the files a pipeline needs from a repository listing.

    Args:
        repo_id: For messages.
        sizes: Every file of the repository at one commit → its size in bytes.
        model_index: The parsed ``model_index.json``.
        variant: ``fp16`` to prefer fp16 weights where a component has them, None for plain.

    Raises:
        EngineUnavailableError: a component has weights but none in safetensors format.
    """
    chosen = [name for name in ROOT_FILES if name in sizes]
    used_variant = False
    for component in components(model_index):
        inside = sorted(name for name in sizes if name.startswith(component + "/"))
        weights = [name for name in inside if name.endswith(ANY_WEIGHTS)]
        if not weights:
            chosen.extend(inside)  # scheduler, tokenizer, feature extractor: all of it
            continue
        picked, index, is_variant = _weights_for(repo_id, component, inside, variant)
        used_variant = used_variant or is_variant
        for name in inside:
            base = name.rsplit("/", 1)[-1]
            if name in picked or name in index:
                chosen.append(name)
            elif (name.endswith((".json", ".txt", ".model")) and ".index." not in base
                  and not name.endswith(ANY_WEIGHTS)):
                chosen.append(name)  # config.json, tokenizer files kept beside weights
    unique = tuple(dict.fromkeys(chosen))
    return PipelineFiles(unique, sum(int(sizes[name]) for name in unique),
                         variant if used_variant else None)


def _weights_for(repo_id: str, component: str, inside: list[str], variant: str | None
                 ) -> tuple[set[str], set[str], bool]:
    """The weight and index files of one component folder, and whether they are the variant."""
    by_base = {name: name.rsplit("/", 1)[-1] for name in inside}
    if variant:
        weights_re, index_re = _variant_patterns(variant)
        picked = {n for n, b in by_base.items() if weights_re.match(b)}
        if picked:
            return picked, {n for n, b in by_base.items() if index_re.match(b)}, True
    picked = {n for n, b in by_base.items() if _PLAIN.match(b)}
    if picked:
        return picked, {n for n, b in by_base.items() if _PLAIN_INDEX.match(b)}, False
    if variant is None:  # only variant files exist: take fp16 rather than nothing
        return _weights_for(repo_id, component, inside, "fp16")
    raise EngineUnavailableError(
        f"{repo_id}: {component} has no safetensors weights",
        "chatimg pulls safetensors only (no pickle files); use another model or revision",
    )


def snapshot_variant(folder: str | Path) -> str | None:
    """``fp16`` when a cached pipeline folder holds fp16 weights for some component and no
    plain weights for it (what ``models pull`` leaves on a GPU machine), else None."""
    root = Path(folder)
    fp16_weights, _ = _variant_patterns("fp16")
    try:
        folders = [entry for entry in root.iterdir() if entry.is_dir()]
    except OSError:
        return None
    for component in folders:
        names = _names(component.iterdir())
        if any(fp16_weights.match(n) for n in names) and not any(_PLAIN.match(n) for n in names):
            return "fp16"
    return None


def pipeline_complete(folder: str | Path) -> bool:
    """Whether a cached snapshot holds every file a pull would fetch (plain or fp16).

    Uses the tree listing ``huggingface_hub`` caches beside the snapshots
    (``trees/<commit>.json``); without one, every component folder must exist.
    """
    root = Path(folder)
    try:
        index = json.loads((root / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(index, dict):
        return False
    try:
        tree = json.loads((root.parent.parent / "trees" / f"{root.name}.json")
                          .read_text(encoding="utf-8"))
        sizes = {str(path): int(info["size"]) for path, info in tree["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return all((root / component).is_dir() for component in components(index))
    for variant in (None, "fp16"):
        try:
            wanted = select_files("", sizes, index, variant).files
        except EngineUnavailableError:
            return all((root / component).is_dir() for component in components(index))
        if all((root / name).exists() for name in wanted):
            return True
    return False


def _names(entries: Iterable[Path]) -> list[str]:
    try:
        return [entry.name for entry in entries]
    except OSError:
        return []
