"""The bench report: a terminal table, charts drawn with Pillow, and an HTML page.

The HTML file sits beside a ``<name>_files/`` folder holding copies of the images and the chart
PNGs, linked relatively, so the pair can be moved or zipped together.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatimg.benchrun import BenchReport, ModelSummary

#: Chart colours, one per model (cycled).
PALETTE = [(66, 133, 244), (219, 68, 55), (244, 180, 0), (15, 157, 88), (171, 71, 188),
           (0, 172, 193), (255, 112, 67), (158, 157, 36)]


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "percent":
        return f"{value * 100:.1f}%"
    if kind == "ms":
        return f"{value:.0f} ms"
    if kind == "usd":
        return f"${value:.4f}"
    return f"{value:.3f}"


def table_lines(summaries: Sequence[ModelSummary]) -> list[str]:
    """The terminal table: one row per model."""
    header = (f"{'model':<22} {'images':>6} {'failed':>7} {'median':>10} {'mean CER':>9} "
              f"{'$/asset':>9}  result")
    lines = [header, "-" * len(header)]
    for s in summaries:
        lines.append(
            f"{s.model[:22]:<22} {s.images:>6} {_fmt(s.failure_rate, 'percent'):>7} "
            f"{_fmt(s.median_latency_ms, 'ms'):>10} {_fmt(s.typography_cer, 'num'):>9} "
            f"{_fmt(s.cost_per_asset, 'usd'):>9}  {'pass' if s.passed else 'FAIL'}"
        )
    return lines


# -- charts ------------------------------------------------------------------------------------

def _canvas(title: str, width: int = 640, height: int = 320):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    draw.text((12, 8), title, fill=(20, 20, 20), font=font)
    return image, draw, font


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None],
              kind: str, path: Path) -> None:
    """A vertical bar per model; missing values are marked "n/a"."""
    image, draw, font = _canvas(title)
    width, height = image.size
    left, right, top, bottom = 50, width - 20, 40, height - 50
    peak = max([v for v in values if v is not None] or [0.0]) or 1.0
    draw.line((left, bottom, right, bottom), fill=(120, 120, 120))
    slot = (right - left) / max(1, len(labels))
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x0 = left + index * slot + slot * 0.2
        x1 = left + (index + 1) * slot - slot * 0.2
        colour = PALETTE[index % len(PALETTE)]
        if value is None:
            draw.text((x0, bottom - 18), "n/a", fill=(120, 120, 120), font=font)
        else:
            y = bottom - (bottom - top) * (value / peak)
            draw.rectangle((x0, y, x1, bottom), fill=colour)
            draw.text((x0, max(top - 16, y - 18)), _fmt(value, kind), fill=(20, 20, 20),
                      font=font)
        draw.text((x0, bottom + 6), label[:16], fill=(20, 20, 20), font=font)
    image.save(path, format="PNG")


def latency_chart(labels: Sequence[str], samples: Sequence[Sequence[float]], path: Path) -> None:
    """Latency distribution: each generation a dot, the median a bar, per model."""
    image, draw, font = _canvas("Latency per generation (ms); bar = median")
    width, height = image.size
    left, right, top, bottom = 60, width - 20, 40, height - 50
    peak = max([max(s) for s in samples if s] or [1.0]) or 1.0
    draw.line((left, bottom, right, bottom), fill=(120, 120, 120))
    draw.text((8, top - 6), f"{peak:.0f}", fill=(90, 90, 90), font=font)
    draw.text((8, bottom - 8), "0", fill=(90, 90, 90), font=font)
    slot = (right - left) / max(1, len(labels))
    for index, (label, values) in enumerate(zip(labels, samples, strict=True)):
        centre = left + (index + 0.5) * slot
        colour = PALETTE[index % len(PALETTE)]
        for position, value in enumerate(values):
            x = centre + ((position % 7) - 3) * 4
            y = bottom - (bottom - top) * (value / peak)
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
        if values:
            ordered = sorted(values)
            middle = len(ordered) // 2
            median = (ordered[middle] if len(ordered) % 2
                      else (ordered[middle - 1] + ordered[middle]) / 2)
            y = bottom - (bottom - top) * (median / peak)
            draw.line((centre - slot * 0.3, y, centre + slot * 0.3, y), fill=(20, 20, 20),
                      width=2)
        draw.text((centre - slot * 0.4, bottom + 6), label[:16], fill=(20, 20, 20), font=font)
    image.save(path, format="PNG")


CHARTS = (
    ("latency", "Latency distribution"),
    ("typography", "Typography error rate (mean CER, lower is better)"),
    ("failures", "Failure rate"),
    ("cost", "Cost per asset (USD)"),
)


def draw_charts(report: BenchReport, folder: Path) -> dict[str, Path]:
    """Write the four chart PNGs into ``folder``; returns name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = [s.model for s in report.summaries]
    paths = {name: folder / f"chart-{name}.png" for name, _ in CHARTS}
    latency_chart(labels, [s.latencies_ms for s in report.summaries], paths["latency"])
    bar_chart(CHARTS[1][1], labels, [s.typography_cer for s in report.summaries], "num",
              paths["typography"])
    bar_chart(CHARTS[2][1], labels, [s.failure_rate for s in report.summaries], "percent",
              paths["failures"])
    bar_chart(CHARTS[3][1], labels, [s.cost_per_asset for s in report.summaries], "usd",
              paths["cost"])
    return paths


# -- HTML ---------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f3f3f3}td.num{text-align:right}.charts img{margin:.5rem;border:1px solid #ddd}
.grid td{vertical-align:top;font-size:.8rem;width:160px}.grid img{width:150px;height:auto}
.failed{color:#b00}
"""


def write_html(report: BenchReport, target: Path) -> Path:
    """Write the report to ``target`` (and its ``_files`` folder); returns ``target``."""
    folder = target.parent / f"{target.stem}_files"
    images_dir = folder / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(report, folder)
    rel = f"{folder.name}/"
    e = html.escape
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>chatimg bench {e(report.run_id)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>chatimg bench</h1><p>Run <code>{e(report.run_id)}</code>, prompt set "
        f"<b>{e(report.prompt_set.name)}</b> ({len(report.prompt_set.prompts)} prompts), "
        f"seeds {', '.join(map(str, report.seeds))}, {report.created_at:%Y-%m-%d %H:%M} UTC.</p>",
        "<table class='summary'><tr><th>model</th><th>version</th><th>images</th>"
        "<th>failure rate</th><th>median latency</th><th>typography CER</th>"
        "<th>cost per asset</th><th>result</th></tr>",
    ]
    for s in report.summaries:
        cells = [
            ("images", s.images, str(s.images)),
            ("failure_rate", s.failure_rate, _fmt(s.failure_rate, "percent")),
            ("median_latency_ms", s.median_latency_ms, _fmt(s.median_latency_ms, "ms")),
            ("typography_cer", s.typography_cer, _fmt(s.typography_cer, "num")),
            ("cost_per_asset", s.cost_per_asset, _fmt(s.cost_per_asset, "usd")),
        ]
        out.append(f"<tr data-model='{e(s.model)}'><td>{e(s.model)}</td>"
                   f"<td>{e(s.version or '-')}</td>")
        for metric, raw, shown in cells:
            value = "" if raw is None else repr(raw)
            out.append(f"<td class='num' data-metric='{metric}' data-value='{e(value)}'>"
                       f"{e(shown)}</td>")
        out.append(f"<td>{'pass' if s.passed else 'FAIL'}</td></tr>")
    out.append("</table><h2>Charts</h2><div class='charts'>")
    for name, title in CHARTS:
        out.append(f"<img src='{e(rel + charts[name].name)}' alt='{e(title)}' "
                   f"data-chart='{name}'>")
    out.append("</div><h2>Images</h2><table class='grid'><tr><th>prompt</th>")
    columns = [(m, s) for m in report.models for s in report.seeds]
    out.extend(f"<th>{e(m)}<br>seed {s}</th>" for m, s in columns)
    out.append("</tr>")
    by_key = {(i.prompt_index, i.model, i.seed): i for i in report.items}
    for index, prompt in enumerate(report.prompt_set.prompts):
        out.append(f"<tr><td>{e(prompt)}</td>")
        for model, seed in columns:
            item = by_key.get((index, model, seed))
            if item is None or not item.images:
                reason = e((item.error or item.status) if item else "missing")
                out.append(f"<td class='failed'>{reason}</td>")
                continue
            source = Path(item.images[0])
            copy = images_dir / source.name
            if not copy.exists():
                shutil.copyfile(source, copy)
            caption = f"{_fmt(item.latency_ms, 'ms')}"
            if item.cer is not None:
                caption += f", CER {item.cer:.3f}"
            out.append(f"<td><img src='{e(rel + 'images/' + copy.name)}' "
                       f"alt='{e(model)} seed {seed}' loading='lazy'><br>{e(caption)}</td>")
        out.append("</tr>")
    out.append("</table></body></html>")
    target.write_text("\n".join(out), encoding="utf-8")
    return target
