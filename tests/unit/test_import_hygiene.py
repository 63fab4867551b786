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


def _every_module_below_the_tui() -> list[str]:
    """Every module of the package except the TUI and the engines that load torch themselves."""
    package = ROOT / "chatimg"
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "tui" in parts or parts[-1] in ("diffusers_runtime", "__main__"):
            continue
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_no_module_below_the_tui_imports_textual_or_torch() -> None:
    """Every package (bundle, validate, compare, bench included), imported in one process."""
    modules = _every_module_below_the_tui()
    assert len(modules) > 40 and "chatimg.bundle.importer" in modules
    loaded = loaded_after("\n".join(f"import {module}" for module in modules))
    heavy = {m for m in loaded if m.split(".")[0] in (*HEAVY, "textual", "textual_image")}
    if heavy:  # name the module that pulls them in
        culprits = [m for m in modules if {x.split(".")[0] for x in loaded_after(f"import {m}")}
                    & {*HEAVY, "textual", "textual_image"}]
        pytest.fail(f"{culprits} import {sorted(heavy)[:5]}")


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


def test_nothing_imports_ray_until_the_server_starts(config_file: Path) -> None:
    """Every module (the Serve app's too) imports without Ray; a ``ray`` model's client, the
    ``ray`` commands' help and a refused ``ray serve`` never import it."""
    modules = _every_module_below_the_tui()
    config_file.write_text('[models.farm]\nengine = "ray"\nurl = "http://127.0.0.1:9/chatimg"\n'
                           'model = "sd-turbo"\n', encoding="utf-8")
    assert "chatimg.rayserve.app" in modules and "chatimg.engines.ray_engine" in modules
    assert "ray" not in {m.split(".")[0] for m in loaded_after(
        "\n".join(f"import {module}" for module in modules))}
    code = (
        "import os, sys\nfrom chatimg.cli import main\n"
        "os.environ['CHATIMG_RAY_TOKEN'] = 'client-token-0123456789'\n"
        "for argv, ok in ((['gen', 'x', '-m', 'farm', '-q'], False), (['models'], True),\n"
        "                 (['ray', '--help'], True), (['ray', 'serve', '--help'], True)):\n"
        "    try:\n        main(argv)\n    except SystemExit as exc:\n"
        "        assert (not exc.code) == ok, (argv, exc.code)\n"
        "os.environ.pop('CHATIMG_RAY_TOKEN')\n"
        "try:\n    main(['ray', 'serve'])\nexcept SystemExit as exc:\n    assert exc.code == 1\n"
    )
    assert "ray" not in {m.split(".")[0] for m in loaded_after(code)}
