"""The text of a generation's card: its header line (model, status, seed, size, latency, cost)
and the lines under its images (progress, storing, errors, route, checks, picks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.content import Content

from chatimg.safetext import shown

if TYPE_CHECKING:
    from chatimg import domain

STATUS_ICONS = {"queued": "…", "running": "⟳", "succeeded": "✓", "failed": "✗",
                "cancelled": "⊘", "interrupted": "⊘"}


@dataclass
class CardProgress:
    """The latest step report for a running card."""

    step: int
    total: int
    message: str = ""


def _money(value: float | None, estimated: bool) -> str:
    if value is None:
        return ""
    return f"${value:.3f}" + (" est." if estimated and value else "")


def meta_text(generation: domain.Generation | None, model: str, status: str) -> Content:
    """The card's header line."""
    name = (generation.resolved_model or generation.requested_model) if generation else model
    text = Content.assemble((f" {name} ", "bold reverse"),
                            (f" {STATUS_ICONS.get(status, '?')} {status}",
                             f"bold {_status_style(status)}".strip()))
    if generation is None:
        return text
    parts: list[str] = []
    params = generation.params or {}
    seeds = [a.seed for a in generation.assets if a.seed is not None]
    seed = seeds[0] if seeds else params.get("seed")
    if seed is not None and len(generation.assets) <= 1:  # a grid labels each image's seed
        parts.append(f"seed {seed}")
    if generation.assets:
        first = generation.assets[0]
        parts.append(f"{first.width}×{first.height}")
    elif params.get("width") and params.get("height"):
        parts.append(f"{params['width']}×{params['height']}")
    if params.get("steps"):
        parts.append(f"{params['steps']} steps")
    if generation.latency_ms is not None:
        parts.append(f"{generation.latency_ms / 1000:.2f} s" if generation.latency_ms >= 1000
                     else f"{generation.latency_ms:.0f} ms")
    cost = _money(generation.cost_usd, generation.cost_estimated)
    if cost:
        parts.append(cost)
    if len(generation.assets) > 1:
        parts.append(f"{len(generation.assets)} images")
    if parts:
        text = text.append(Content.styled("  " + " · ".join(parts), "$foreground-muted"))
    return text


def _status_style(status: str) -> str:
    return {"succeeded": "$text-success", "failed": "$text-error",
            "cancelled": "$text-warning", "interrupted": "$text-warning"}.get(status, "")


def detail_text(generation: domain.Generation | None, progress: CardProgress | None,
                picked: bool, status: str, wins: int = 0, storing: int = 0) -> Content:
    """Lines under the image: progress, error with retry hint, route, checks, pick mark.

    ``storing``: images of a running generation shown before they are stored.
    """
    lines: list[Content] = []
    if status in ("queued", "running") and storing:
        images = f"{storing} image{'s' if storing > 1 else ''}"
        lines.append(Content.styled(
            f"⇣ storing {images}… not saved yet: if chatimg stops now, r retries",
            "$foreground-muted"))
    if status in ("queued", "running"):
        if progress and progress.total:
            done = int(20 * progress.step / progress.total)
            bar = "▰" * done + "▱" * (20 - done)
            label = f"{bar} {progress.step}/{progress.total} {progress.message}"
            lines.append(Content(label.rstrip()))
        elif progress and progress.message:
            lines.append(Content(f"⟳ {progress.message}"))
        else:
            lines.append(Content("⟳ waiting…" if status == "queued"
                                 else "⟳ working…  esc cancels"))
    if generation is not None:
        for asset in generation.assets:
            if asset.state:
                lines.append(Content.styled(
                    f"⚠ image {asset.index + 1} {asset.state}: run chatimg doctor",
                    "bold $text-error"))
        if generation.error:
            reason = shown(" ".join(generation.error.split()))
            lines.append(Content.styled(f"✗ {reason}", "bold $text-error"))
        if status in ("failed", "cancelled", "interrupted"):
            lines.append(Content.styled("r retry · m run on another model", "$foreground-muted"))
        if generation.route_reason:
            lines.append(Content.styled(f"route: {shown(generation.route_reason)}",
                                        "$foreground-muted"))
        if generation.validations and len(generation.assets) <= 1:  # a grid: per image
            checks = [
                (f"{'✓' if result.passed else '✗'} {result.name}"
                 f"{f' {result.score:.2f}' if result.score is not None else ''}  ",
                 "$text-success" if result.passed else "$text-error")
                for result in generation.validations
            ]
            lines.append(Content.assemble(*checks))
    if wins:
        times = f" ×{wins}" if wins > 1 else ""
        lines.append(Content.styled(f"♛ compare winner{times}", "bold"))
    if picked:
        lines.append(Content.styled("★ picked for compare", "bold"))
    return Content("\n").join(lines)
