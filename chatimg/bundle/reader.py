"""Open a bundle without trusting it: entry names, sizes, ratios, manifest, hashes.

Nothing here writes anything. ``read_bundle`` either returns a ``CheckedBundle`` whose every
asset has been read (with a bounded reader that never trusts declared sizes), hashed and
identified, or raises ``BundleInvalidError`` with one line that says why.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatimg.bundle.manifest import INDEX_NAME, MANIFEST_NAME, parse_manifest
from chatimg.errors import BundleInvalidError, ChatImgError
from chatimg.store.assets import describe_image

_ASSET_NAME = re.compile(r"^assets/[0-9a-f]{64}\.(png|jpg|webp|gif)$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile bundle from exhausting memory or disk."""

    max_total_bytes: int = 8 << 30
    """Sum of every entry's uncompressed size (declared and actually read)."""
    max_manifest_bytes: int = 256 << 20
    """``manifest.json`` after decompression."""
    max_entries: int = 1_000_000
    max_asset_bytes: int = 512 << 20
    """One image (read into memory to be hashed and identified)."""
    max_ratio: float = 200.0
    """Uncompressed / compressed size of one entry, checked once it passes ``ratio_floor``."""
    ratio_floor: int = 1 << 20
    """Entries smaller than this (uncompressed) are not ratio-checked: they cannot hurt."""


@dataclass(frozen=True)
class CheckedBundle:
    """A bundle that passed every check: its manifest and the zip entry of each asset."""

    path: Path
    manifest: dict[str, Any]
    entries: dict[str, zipfile.ZipInfo]
    """sha256 → zip entry."""
    total_bytes: int


class _Budget:
    """Counts uncompressed bytes actually read, across all entries."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, amount: int, name: str) -> None:
        self.used += amount
        if self.used > self.limit:
            raise BundleInvalidError(
                f"bundle expands past the {self.limit} byte limit (at {name})",
                "a zip bomb or a damaged file; nothing was imported",
            )


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, limits: Limits,
               budget: _Budget) -> bytes:
    """Read one entry, stopping as soon as it passes ``cap``, the budget or the ratio cap."""
    chunks: list[bytes] = []
    total = 0
    allowed = max(info.compress_size, 1) * limits.max_ratio
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(min(_CHUNK, cap - total + 1))
                if not chunk:
                    break
                total += len(chunk)
                if total > cap:
                    raise BundleInvalidError(
                        f"bundle entry {info.filename} is larger than it says",
                        "a zip bomb or a damaged file; nothing was imported",
                    )
                if total > limits.ratio_floor and total > allowed:
                    raise BundleInvalidError(
                        f"bundle entry {info.filename} expands more than"
                        f" {limits.max_ratio:g} times",
                        "a zip bomb or a damaged file; nothing was imported",
                    )
                budget.spend(len(chunk), info.filename)
                chunks.append(chunk)
    except ChatImgError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError) as exc:
        raise BundleInvalidError(f"bundle is damaged: {_reason(exc)}") from None
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def check_entry_name(info: zipfile.ZipInfo) -> str:
    """Refuse unsafe names and non-regular entries; return the entry's kind.

    Returns:
        ``manifest``, ``index``, ``asset`` or ``dir``.
    """
    name = info.orig_filename
    shown = ascii(name)[1:-1][:120]
    if not name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BundleInvalidError(f"unsafe entry name in bundle: {shown!r} (control characters)")
    if "\\" in name:
        raise BundleInvalidError(f"unsafe entry name in bundle: {shown!r} (backslash)")
    if name.startswith("/") or _DRIVE.match(name):
        raise BundleInvalidError(f"unsafe entry name in bundle: {shown!r} (absolute path)")
    parts = name.rstrip("/").split("/")
    if any(part in ("..", ".") for part in parts):
        raise BundleInvalidError(f"unsafe entry name in bundle: {shown!r} (.. or . in the path)")
    if any(part == "" for part in parts):
        raise BundleInvalidError(f"unsafe entry name in bundle: {shown!r} (empty path part)")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise BundleInvalidError(f"bundle entry {shown!r} is a symbolic link")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise BundleInvalidError(f"bundle entry {shown!r} is not a regular file")
    if info.flag_bits & 0x1:
        raise BundleInvalidError(f"bundle entry {shown!r} is encrypted")
    if name.endswith("/") or kind == stat.S_IFDIR:
        if name.rstrip("/") == "assets":
            return "dir"
        raise BundleInvalidError(f"unexpected entry in bundle: {shown!r}")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BundleInvalidError(f"bundle entry {shown!r} uses an unsupported compression")
    if name == MANIFEST_NAME:
        return "manifest"
    if name == INDEX_NAME:
        return "index"
    if _ASSET_NAME.match(name):
        return "asset"
    raise BundleInvalidError(f"unexpected entry in bundle: {shown!r}")


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleInvalidError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BundleInvalidError(f"{path} is a folder, not a bundle") from None
    except zipfile.BadZipFile as exc:
        raise BundleInvalidError(
            f"{path.name} is not a chatimg bundle (not a zip file, or truncated: {_reason(exc)})"
        ) from None
    except (OSError, EOFError, ValueError, zlib.error, NotImplementedError) as exc:
        raise BundleInvalidError(f"{path.name} cannot be read as a zip: {_reason(exc)}") from None


def read_bundle(path: Path | str, limits: Limits | None = None) -> CheckedBundle:
    """Check a bundle completely without writing anything.

    Raises:
        BundleInvalidError: The first problem found, in one line.
    """
    path = Path(path).expanduser()
    limits = limits or Limits()
    with _open(path) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise BundleInvalidError(f"bundle has too many entries ({len(infos)})")
        seen: set[str] = set()
        manifest_info: zipfile.ZipInfo | None = None
        assets: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            kind = check_entry_name(info)
            key = info.orig_filename.rstrip("/").casefold()
            if key in seen:
                raise BundleInvalidError(f"bundle has a duplicate entry: {info.filename[:120]!r}")
            seen.add(key)
            declared += info.file_size
            if declared > limits.max_total_bytes:
                raise BundleInvalidError(
                    f"bundle declares more than {limits.max_total_bytes} bytes uncompressed",
                    "a zip bomb or a damaged file; nothing was imported",
                )
            if (info.file_size > limits.ratio_floor
                    and info.file_size > max(info.compress_size, 1) * limits.max_ratio):
                raise BundleInvalidError(
                    f"bundle entry {info.filename} expands more than {limits.max_ratio:g} times",
                    "a zip bomb or a damaged file; nothing was imported",
                )
            if kind == "manifest":
                manifest_info = info
            elif kind == "asset":
                assets[info.filename] = info
        if manifest_info is None:
            raise BundleInvalidError(f"{path.name} has no manifest.json: not a chatimg bundle")
        if manifest_info.file_size > limits.max_manifest_bytes:
            raise BundleInvalidError("manifest.json is larger than the manifest size limit")
        budget = _Budget(limits.max_total_bytes)
        data = read_entry(archive, manifest_info, manifest_info.file_size, limits, budget)
        manifest = parse_manifest(data)
        by_hash = check_assets(archive, manifest, assets, limits, budget)
    return CheckedBundle(path, manifest, by_hash, budget.used)


def check_assets(archive: zipfile.ZipFile, manifest: dict[str, Any],
                 entries: dict[str, zipfile.ZipInfo], limits: Limits,
                 budget: _Budget) -> dict[str, zipfile.ZipInfo]:
    """Every listed asset present, the right size and hash, a readable image as described;
    no asset entry that the manifest does not list."""
    listed = {asset["path"] for asset in manifest["assets"]}
    for name in entries:
        if name not in listed:
            raise BundleInvalidError(f"bundle entry {name} is not listed in manifest.json")
    by_hash: dict[str, zipfile.ZipInfo] = {}
    for asset in manifest["assets"]:
        sha, name = asset["sha256"], asset["path"]
        info = entries.get(name)
        if info is None:
            raise BundleInvalidError(f"bundle is missing {name} that manifest.json lists")
        if info.file_size != asset["bytes"]:
            raise BundleInvalidError(f"{name}: size does not match manifest.json")
        if asset["bytes"] > limits.max_asset_bytes:
            raise BundleInvalidError(
                f"{name} is larger than the {limits.max_asset_bytes} byte limit for one image")
        data = read_entry(archive, info, asset["bytes"], limits, budget)
        verify_asset(asset, data)
        by_hash[sha] = info
    return by_hash


def verify_asset(asset: dict[str, Any], data: bytes) -> None:
    """The bytes are the asset the manifest describes (size, sha256, type, dimensions)."""
    name = asset["path"]
    if len(data) != asset["bytes"]:
        raise BundleInvalidError(f"{name}: size does not match manifest.json")
    if hashlib.sha256(data).hexdigest() != asset["sha256"]:
        raise BundleInvalidError(f"{name}: sha256 does not match manifest.json",
                                 "the bundle was altered or damaged; nothing was imported")
    try:
        mime, width, height = describe_image(data)
    except ChatImgError:
        raise BundleInvalidError(f"{name} is not a readable image") from None
    except Exception:  # Pillow raises its own errors for hostile headers (e.g. bombs)
        raise BundleInvalidError(f"{name} is not a safe image to read") from None
    if (mime, width, height) != (asset["mime"], asset["width"], asset["height"]):
        raise BundleInvalidError(f"{name}: type or size does not match manifest.json")
