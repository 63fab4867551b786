"""Acceptance 6: importing chatimg.engines and ``chatimg gen -m layout`` never import torch,
even with a diffusers model in the config (it is listed, not loaded)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, sys
import chatimg.engines
import chatimg.engines.registry, chatimg.engines.catalog, chatimg.engines.diffusers_engine
from chatimg.cli import main
try:
    main(["gen", 'a poster that says "HI"', "-m", "layout", "--seed", "1", "--json", "-q"])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in ("torch", "diffusers", "transformers") if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def test_gen_with_layout_never_imports_torch(tiny_config: Path, home: Path) -> None:
    env = {**os.environ, "CHATIMG_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    facts = json.loads(done.stderr.strip().splitlines()[-1])
    assert facts["heavy"] == [] and facts["code"] in (None, 0), done.stderr
    report = json.loads(done.stdout)
    assert report["generations"][0]["status"] == "succeeded"


def test_listing_a_diffusers_model_never_imports_torch(tiny_config: Path, home: Path) -> None:
    script = (
        "import sys, json\n"
        "from chatimg.studio import Studio\n"
        "s = Studio.open()\n"
        "rows = {l.name: (l.available, l.reason) for l in s.catalog.listings()}\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules]\n"
        "print(json.dumps({'tiny': rows['tiny'], 'sd': rows['sd-turbo'], 'heavy': heavy}))\n"
    )
    env = {**os.environ, "CHATIMG_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(home / "hf")}  # an empty hub cache: nothing is downloaded
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["heavy"] == [], done.stderr
    assert facts["tiny"] == [True, None]
    assert facts["sd"][0] is False and "weights not cached" in facts["sd"][1]
