"""Replicas that write images straight to the shared asset store.

A client whose ``[storage] url`` is shared (``s3://``, ``gs://``, a ``file://`` folder both
machines mount) names it in its request (``ray_wire.store_request``). A replica configured with
the same url prepares each image exactly as the client would (the PNG with the generation
parameters, under the client's name for the model), puts it in the store (content-addressed, a
conditional put) and sends its hash, type and size instead of its bytes. Any other case — no
store here, another url, a failed upload — sends the bytes as before, so storing on the replica
is an optimisation that never fails a run.

Credentials never travel in the deployment's config: the replica's store takes them from its
own environment (``AWS_*``, ``GOOGLE_APPLICATION_CREDENTIALS``) like any chatimg process.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from chatimg.engines.base import GeneratedImage, GenerationResult, ModelInfo
from chatimg.errors import ChatImgError
from chatimg.spec import GenerationSpec
from chatimg.store.assets import AssetStore

log = logging.getLogger(__name__)

#: ``[storage]`` keys that never enter a replica's config (credentials come from its env).
SECRET_STORAGE_KEYS = {"access_key_id", "secret_access_key"}


def storage_config(storage: Any) -> dict[str, Any] | None:
    """The ``[storage]`` table a replica gets (None when no shared store is configured)."""
    url = str(storage.url or "")
    if not url or url.lower().startswith("memory:"):
        return None
    return {**storage.model_dump(exclude=SECRET_STORAGE_KEYS), "cache_mb": 0}


def open_store(config: dict[str, Any]) -> AssetStore | None:
    """The replica's shared asset store from its config, or None (none configured, or it
    cannot be opened here: the replica then sends bytes)."""
    table = config.get("storage")
    if not table:
        return None
    from chatimg.config import StorageSection
    from chatimg.store.backends import open_asset_store

    try:
        return open_asset_store(StorageSection(**table))
    except ChatImgError as exc:
        log.warning("shared asset store unavailable on this replica: %s", exc.one_line())
        return None


def same_store(url: str, other: str) -> bool:
    """Whether two ``[storage] url`` values name the same store (``file://`` by folder)."""
    from chatimg.store.backends import file_root, scheme_of

    try:
        if scheme_of(url) == scheme_of(other) == "file":
            return file_root(url).resolve() == file_root(other).resolve()
    except ChatImgError:
        return False
    return url.rstrip("/") == other.rstrip("/")


def store_images(store: AssetStore | None, wanted: tuple[str, dict[str, Any]] | None,
                 info: ModelInfo, spec_data: dict[str, Any],
                 result: GenerationResult) -> GenerationResult:
    """``result`` with its images put in ``store`` when the client asked for this very store;
    unchanged otherwise (blocking: run it in a thread).

    Args:
        store: The replica's shared store (None: nothing to do).
        wanted: ``(url, png)`` from the request (``ray_wire.decode_store``).
        info: The served model's facts (``png`` overrides its id and version).
        spec_data: The request's spec as the client sent it (the PNG parameters' source).
        result: The engine's result.
    """
    if store is None or wanted is None or not same_store(wanted[0], store.url):
        return result
    from chatimg.generation import png_parameters
    from chatimg.imaging import prepare

    png = wanted[1]
    named = replace(info, model_id=str(png["model_id"]),
                    version=png.get("version") if isinstance(png.get("version"), str) else None)
    spec = GenerationSpec.from_stored(spec_data)
    images: list[GeneratedImage] = []
    try:
        for image in result.images:
            if image.safety_filtered:
                images.append(image)
                continue
            prepared = prepare(image.data, image.image,
                               png_parameters(str(png["model"]), named, spec, image.seed))
            width, height = prepared.size
            stored = store.put(prepared.data, described=(prepared.mime, width, height))
            images.append(replace(image, data=None, image=None, stored=stored))
    except ChatImgError as exc:
        log.warning("cannot store on the shared asset store, sending bytes: %s",
                    exc.one_line())
        return result
    return replace(result, images=images)
