"""Acceptance 4 and 5: ``chatimg bench`` (table, JSON, HTML report) and model versions."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chatimg.cli import main
from tests.tiny_diffusers import write_tiny_model_config


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


class ReportParser(HTMLParser):
    """Collects the summary cells and every image source of the report."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[tuple[str, str], str] = {}
        self.images: list[str] = []
        self.charts: dict[str, str] = {}
        self._model = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("data-model"):
            self._model = values["data-model"] or ""
        if tag == "td" and values.get("data-metric"):
            self.metrics[(self._model, values["data-metric"] or "")] = values["data-value"] or ""
        if tag == "img":
            self.images.append(values["src"] or "")
            if values.get("data-chart"):
                self.charts[values["data-chart"] or ""] = values["src"] or ""


@pytest.mark.slow
def test_bench_default_prompt_set_layout_and_tiny_diffusers(
    capsys: pytest.CaptureFixture[str], config_file: Path, tiny_sd_path: Path, tmp_path: Path
) -> None:
    # Small images keep OCR quick; the layout entry overrides the built-in one's size.
    config_file.write_text('[models.layout]\nengine = "layout"\nwidth = 320\nheight = 256\n')
    write_tiny_model_config(config_file, tiny_sd_path, name="tiny", steps=1, width=64,
                            height=64, cost_per_image=0.0)
    report = tmp_path / "out" / "bench.html"
    report.parent.mkdir()
    code, out = run(capsys, "bench", "default", "-m", "layout", "-m", "tiny", "--seeds", "1",
                    "--report", str(report), "--json")
    data = json.loads(out)
    assert data["prompts"]["name"] == "golden" and data["prompts"]["count"] >= 20
    quoted = sum('"' in r["prompt"] for r in data["results"]) // 2
    assert quoted >= 5
    summary = {s["model"]: s for s in data["summary"]}
    assert set(summary) == {"layout", "tiny"}
    count = data["prompts"]["count"]
    for model, s in summary.items():
        assert s["runs"] == count and s["images"] == count and s["failure_rate"] == 0.0, model
        assert s["median_latency_ms"] > 0 and len(s["latencies_ms"]) == count
        assert s["cost_per_asset"] == 0.0 and s["typography_checks"] == quoted
    assert summary["layout"]["typography_cer"] <= 0.05  # the typesetter writes what it is told
    assert summary["tiny"]["typography_cer"] >= 0.5  # random weights cannot letter
    assert code == (0 if all(s["passed"] for s in summary.values()) else 3)

    # The HTML report: its numbers match the JSON; every image and chart it links exists.
    parsed = ReportParser()
    parsed.feed(report.read_text(encoding="utf-8"))
    for model, s in summary.items():
        for metric in ("images", "failure_rate", "median_latency_ms", "typography_cer",
                       "cost_per_asset"):
            assert parsed.metrics[(model, metric)] == repr(s[metric]), (model, metric)
    assert set(parsed.charts) == {"latency", "typography", "failures", "cost"}
    grid = [src for src in parsed.images if src not in parsed.charts.values()]
    assert len(grid) == 2 * count
    for src in parsed.images:
        assert not src.startswith(("/", "http")) and (report.parent / src).is_file(), src
    from PIL import Image

    for src in parsed.charts.values():
        with Image.open(report.parent / src) as chart:
            assert chart.format == "PNG" and chart.width >= 320

    # The terminal table and the leaderboard agree with the run.
    code, out = run(capsys, "bench", str(_subset(tmp_path, 2)), "-m", "layout", "-q")
    assert re.search(r"^layout\s+2\s+0\.0%\s+\d+ ms\s+0\.000\s+\$0\.0000\s+pass", out, re.M)
    code, out = run(capsys, "models", "--stats", "--json")
    stats = {row["model"]: row for row in json.loads(out)}
    assert stats["layout"]["images"] == count + 2 and stats["tiny"]["images"] == count
    assert stats["tiny"]["failure_rate"] == 0.0


def _subset(folder: Path, n: int) -> Path:
    from chatimg.benchrun import load_prompts

    path = folder / "subset.txt"
    path.write_text("\n".join(load_prompts("default").prompts[:n]) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_changed_model_files_mark_it_unvalidated_until_a_bench_passes(
    capsys: pytest.CaptureFixture[str], config_file: Path, tiny_sd_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_sd_path, folder)
    write_tiny_model_config(config_file, folder, name="mine", steps=1, width=64, height=64)
    prompts = _subset(tmp_path, 2)

    def state() -> tuple[str, str]:
        _, out = run(capsys, "models", "--json")
        entry = next(m for m in json.loads(out) if m["name"] == "mine")
        return entry["version"], entry["version_state"]

    first_version, first_state = state()
    assert first_version and first_state == "not benched"
    code, out = run(capsys, "bench", str(prompts), "-m", "mine", "--json")
    assert code == 0 and json.loads(out)["validated"] == {"mine": first_version}
    assert state() == (first_version, "validated")

    scheduler = folder / "scheduler" / "scheduler_config.json"
    config = json.loads(scheduler.read_text())
    spacing = config.get("timestep_spacing")
    config["timestep_spacing"] = "leading" if spacing != "leading" else "trailing"  # new hash
    scheduler.write_text(json.dumps(config))
    second_version, second_state = state()
    assert second_version != first_version and second_state == "unvalidated"
    _, out = run(capsys, "models")
    assert re.search(r"^mine .*\(unvalidated\)$", out, re.M)

    code, out = run(capsys, "bench", str(prompts), "-m", "mine", "--json")
    assert code == 0 and json.loads(out)["validated"] == {"mine": second_version}
    assert state() == (second_version, "validated")
