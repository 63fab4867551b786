"""Bundles: export a conversation as one zip, import one safely, replay it as a regression check.

``export_conversation`` and ``import_bundle`` are the functions the CLI and the TUI call; the
manifest format is described in ``docs/bundle.md`` and ``manifest.schema.json``.
"""

from __future__ import annotations

from chatimg.bundle.export import export_conversation
from chatimg.bundle.importer import ImportReport, import_bundle
from chatimg.bundle.manifest import FORMAT, VERSION
from chatimg.bundle.reader import Limits

__all__ = ["FORMAT", "VERSION", "ImportReport", "Limits", "export_conversation", "import_bundle"]
