"""Layers: the core never imports Textual or torch; ``chatimg --help`` stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "diffusers", "transformers", "onnxruntime")


def loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ}, timeout=120, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    ["chatimg.cli", "chatimg.studio", "chatimg.store", "chatimg.store.repository",
     "chatimg.engines", "chatimg.engines.catalog", "chatimg.routing", "chatimg.config"],
)
def test_core_modules_import_neither_textual_nor_torch(module: str) -> None:
    modules = loaded_after(f"import {module}")
    assert not {m for m in modules if m.split(".")[0] in (*HEAVY, "textual")}


def test_help_imports_nothing_heavy(home: Path) -> None:
    code = (
        "import sys\nfrom chatimg.cli import main\nsys.argv=['chatimg','--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    modules = loaded_after(code)
    assert not {m for m in modules if m.split(".")[0] in (*HEAVY, "textual", "sqlalchemy")}


def test_listing_models_and_layout_generation_do_not_import_torch(home: Path) -> None:
    code = (
        "import sys\nfrom chatimg.cli import main\n"
        "for argv in (['models'], ['models', '--json'], ['models', 'pull', '--help'],\n"
        "             ['gen', 'x', '-m', 'layout', '-q']):\n"
        "    sys.argv = ['chatimg', *argv]\n"
        "    try:\n        main(argv)\n    except SystemExit as exc:\n        assert not exc.code, exc.code\n"
    )
    modules = loaded_after(code)
    assert not {m for m in modules if m.split(".")[0] in (*HEAVY, "huggingface_hub")}
