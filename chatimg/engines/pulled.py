"""Models added by ``chatimg models pull HUB_ID`` and revisions pinned by ``--revision``.

A small JSON file in the data folder; the catalog merges it between the built-ins and the config
file (a ``[models.NAME]`` table always wins). Reading it is cheap: no hub import.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg import paths

if TYPE_CHECKING:
    from chatimg.config import ModelEntry


@dataclass(frozen=True)
class PulledModel:
    """A model pulled by hub id, or a built-in pulled at a pinned revision."""

    name: str
    source: str
    """The hub id."""
    revision: str | None = None
    """The revision asked for (branch, tag or commit); None follows ``main``."""


def registry_file() -> Path:
    """Where pulled models are remembered."""
    return paths.data_dir() / "pulled-models.json"


def load_pulled(path: Path | None = None) -> dict[str, PulledModel]:
    """Name → pulled model; a missing or broken file is empty."""
    file = path or registry_file()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    found: dict[str, PulledModel] = {}
    for name, item in (models or {}).items():
        if isinstance(item, dict) and isinstance(item.get("source"), str):
            revision = item.get("revision")
            found[str(name)] = PulledModel(str(name), item["source"],
                                           revision if isinstance(revision, str) else None)
    return found


def save_pulled(models: dict[str, PulledModel], path: Path | None = None) -> None:
    """Write the registry atomically (temp file + rename)."""
    file = path or registry_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {"models": {name: {k: v for k, v in asdict(model).items() if k != "name"}
                                       for name, model in sorted(models.items())}}
    temp = file.with_suffix(".tmp")
    temp.write_text(json.dumps(body, indent=1), encoding="utf-8")
    os.replace(temp, file)


def remember(model: PulledModel) -> None:
    """Add or replace one entry."""
    models = load_pulled()
    models[model.name] = model
    save_pulled(models)


def forget(name: str) -> bool:
    """Remove one entry; True when it was there."""
    models = load_pulled()
    if models.pop(name, None) is None:
        return False
    save_pulled(models)
    return True


def pulled_entries(existing: dict[str, ModelEntry]) -> dict[str, ModelEntry]:
    """Catalog entries for the registry: new ``diffusers`` models, or built-ins re-pinned."""
    from chatimg.config import ModelEntry

    entries: dict[str, ModelEntry] = {}
    for name, model in load_pulled().items():
        base = existing.get(name)
        if base is not None:
            if base.source == model.source:
                entries[name] = base.model_copy(update={"revision": model.revision})
            continue
        entries[name] = ModelEntry(engine="diffusers", source=model.source,
                                   revision=model.revision,
                                   description=f"pulled from the hub: {model.source}")
    return entries
