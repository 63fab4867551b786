"""Test engines for the TUI: a deliberately slow one (cancel, input latency) and a failing one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chatimg.engines.base import (
    CancelToken,
    Capabilities,
    EngineRequest,
    GenerationResult,
    ModelInfo,
    Progress,
    ProgressCallback,
)
from chatimg.engines.layout import LayoutEngine
from chatimg.errors import CancelledError, EngineRequestError


class SlowEngine(LayoutEngine):
    """The layout engine, but it takes ``steps`` x 50 ms (10 s by default: long enough that
    typing on a loaded test machine never outlasts it) and reports every step."""

    kind = "slow"

    @property
    def info(self) -> ModelInfo:
        base = super().info
        return ModelInfo(name=self.name, engine=self.kind, model_id="test/slow", version="1",
                         capabilities=base.capabilities, cost_per_image=0.0,
                         description="slow test engine",
                         defaults={"width": 64, "height": 64, "steps": 200})

    def generate_blocking(self, request: EngineRequest, progress: ProgressCallback,
                          cancel: CancelToken) -> GenerationResult:
        total = request.spec.steps or 200
        for step in range(total):
            if cancel.cancelled:
                raise CancelledError("cancelled")
            time.sleep(0.05)
            progress(Progress(step + 1, total, "denoising"))
        return super().generate_blocking(request, progress, cancel)


class FailingEngine(LayoutEngine):
    """Always fails the way a remote server would."""

    kind = "failing"

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name=self.name, engine=self.kind, model_id="test/failing", version="1",
                         capabilities=Capabilities(txt2img=True), cost_per_image=0.04,
                         description="always fails")

    def generate_blocking(self, request: EngineRequest, progress: ProgressCallback,
                          cancel: CancelToken) -> GenerationResult:
        raise EngineRequestError("the server said no (HTTP 503)", reason="server")


def register_test_engines(monkeypatch: pytest.MonkeyPatch, config_file: Path,
                          *names: str) -> None:
    """Register the ``slow``/``failing`` kinds and add ``[models.NAME]`` entries for ``names``."""
    from chatimg.engines import registry

    monkeypatch.setitem(registry.BUILTIN_KINDS, "slow", "tests.tui.engines:SlowEngine")
    monkeypatch.setitem(registry.BUILTIN_KINDS, "failing", "tests.tui.engines:FailingEngine")
    lines = []
    for name in names:
        kind = {"slow": "slow", "failing": "failing"}.get(name, "layout")
        lines.append(f'[models.{name}]\nengine = "{kind}"\n')
    previous = config_file.read_text() if config_file.exists() else ""
    config_file.write_text(previous + "\n".join(lines))
