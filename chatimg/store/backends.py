"""Pick the asset store's backend from ``[storage] url``.

``file://`` (or no url) is the folder under the data dir, exactly as before; ``s3://``,
``gs://`` and ``memory://`` are object stores through obstore (the ``chatimg[s3]`` extra).
Credentials come from the usual ``AWS_*``/``GOOGLE_*`` variables or the config file and are
handed to obstore only: they are never logged, stored or shown.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from chatimg import paths
from chatimg.errors import ConfigError
from chatimg.store.assets import AssetStore

if TYPE_CHECKING:
    from chatimg.config import StorageSection

SCHEMES = ("file", "s3", "gs", "memory")

#: memory:// stores live as long as the process, one per URL, so two Studios share them.
_MEMORY_STORES: dict[str, Any] = {}


def scheme_of(url: str) -> str:
    """The backend a ``[storage] url`` names (``file`` when empty).

    Raises:
        ConfigError: an unknown scheme.
    """
    if not url:
        return "file"
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise ConfigError(f"[storage] url {url!r}: {exc}") from None
    if scheme not in SCHEMES:
        raise ConfigError(f"[storage] url: unknown scheme {scheme or url!r}",
                          "use file://, s3://bucket/prefix, gs://bucket/prefix or memory://")
    return scheme


def file_root(url: str) -> Path:
    """The folder of a ``file://`` url (the data dir's ``assets`` when empty)."""
    if not url:
        return paths.assets_dir()
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(f"[storage] url {url!r}: file:// urls name a local folder",
                          "write file:///absolute/folder")
    return Path(unquote(parts.path)).expanduser()


def open_asset_store(storage: StorageSection, url: str | None = None) -> AssetStore:
    """The asset store for ``url`` (default: ``storage.url``), configured from ``storage``.

    Raises:
        ConfigError: an unknown scheme, a bad url, or obstore missing for an object store.
    """
    url = storage.url if url is None else url
    scheme = scheme_of(url)
    if scheme == "file":
        return AssetStore(file_root(url))
    from chatimg.store.objects import ObjectAssetStore

    store = _object_store(scheme, url, storage)
    cache = paths.cache_dir() / "assets"
    return ObjectAssetStore(url, store, cache, storage.cache_mb * 1024 * 1024,
                            storage.concurrency)


def _object_store(scheme: str, url: str, storage: StorageSection) -> Any:
    try:
        from obstore.store import GCSStore, MemoryStore, S3Store
    except ImportError:
        raise ConfigError(f"[storage] url {url!r} needs obstore",
                          "pip install 'chatimg[s3]'") from None
    if scheme == "memory":
        return _MEMORY_STORES.setdefault(url, MemoryStore())
    parts = urlsplit(url)  # scheme_of parsed it already
    bucket, prefix = parts.netloc, parts.path.strip("/") or None
    if not bucket:
        raise ConfigError(f"[storage] url {url!r}: no bucket", f"write {scheme}://bucket/prefix")
    try:
        if scheme == "s3":
            s3: Any = s3_config(storage)
            options: Any = _client_options(storage.endpoint)
            return S3Store(bucket, prefix=prefix, config=s3, client_options=options)
        config: Any = {}
        account = storage.service_account or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        if account:
            config["service_account_path"] = account
        return GCSStore(bucket, prefix=prefix, config=config)
    except Exception as exc:  # obstore reports bad settings as one of several errors
        raise ConfigError(f"[storage] url {url!r}: {str(exc).splitlines()[0][:200]}") from None


def s3_config(storage: StorageSection) -> dict[str, Any]:
    """obstore's S3 settings: the config file's values, with ``AWS_*`` variables winning."""
    env = os.environ
    config: dict[str, Any] = {}
    endpoint = env.get("AWS_ENDPOINT_URL") or storage.endpoint
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or storage.region
    key_id = env.get("AWS_ACCESS_KEY_ID") or storage.access_key_id
    secret = env.get("AWS_SECRET_ACCESS_KEY") or (
        storage.secret_access_key.get_secret_value() if storage.secret_access_key else None)
    if endpoint:
        config["endpoint"] = endpoint
    config["region"] = region or "us-east-1"
    if key_id and secret:
        config["access_key_id"] = key_id
        config["secret_access_key"] = secret
        if env.get("AWS_SESSION_TOKEN"):
            config["token"] = env["AWS_SESSION_TOKEN"]
    config["virtual_hosted_style_request"] = not storage.path_style
    return config


def _client_options(endpoint: str | None) -> dict[str, Any]:
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or endpoint
    return {"allow_http": bool(endpoint and endpoint.startswith("http://"))}
