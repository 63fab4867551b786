"""Find the data folders that ship with chatimg (``themes/``, ``migrations/``), installed or in
a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``themes`` or ``migrations``), wherever this copy of chatimg keeps it.

    A wheel carries them under ``chatimg/_data/``; a source checkout has them beside the package.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"chatimg resource folder {name!r} is missing from this installation")


def package_file(*parts: str) -> Path:
    """A file inside the package (fonts, schemas, workflow templates)."""
    return _PACKAGE_DIR.joinpath(*parts)
