"""A generation's receipt as rows a person can scan (the viewer's panel and ``chatimg show``).

Pure functions over ``chatimg.domain`` records: no Textual, no database. The raw receipt stays
available as JSON (``raw_receipt``) for those who want every field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatimg import domain



@dataclass(frozen=True)
class ReceiptRow:
    """One line of the readable receipt.

    Attributes:
        label: What the value is (``model``, ``seed``, ``checks · image 2``, ...).
        value: The value, already formatted.
        tone: ``ok``, ``bad``, ``note`` or ``""``: how a view may colour the value.
    """

    label: str
    value: str
    tone: str = ""


def _scheduler(generation: domain.Generation) -> str | None:
    engine = generation.receipt_data.get("engine")
    if isinstance(engine, dict):
        scheduler = engine.get("scheduler")
        if isinstance(scheduler, dict) and scheduler.get("class"):
            return str(scheduler["class"])
        if isinstance(scheduler, str):
            return scheduler
    value = generation.params.get("scheduler")
    return str(value) if value else None


def _seconds(latency_ms: float | None) -> str | None:
    if latency_ms is None:
        return None
    if latency_ms < 1000:
        return f"{latency_ms:.0f} ms"
    return f"{latency_ms / 1000:.1f} s"


def _cost(generation: domain.Generation) -> str:
    if generation.cost_usd is None:
        return "unknown"
    if generation.cost_usd == 0:
        return "free"
    note = " (estimated)" if generation.cost_estimated else " (billed)"
    return f"${generation.cost_usd:.3f}{note}"


def check_line(results: list[domain.ValidationResult]) -> str:
    """``✓ ocr 0.98  ✗ blank`` for one image's checks."""
    parts = []
    for result in results:
        mark = "✓" if result.passed else "✗"
        score = f" {result.score:.2f}" if result.score is not None else ""
        parts.append(f"{mark} {result.name}{score}")
    return "  ".join(parts)


def checks_by_image(
    generation: domain.Generation,
) -> list[tuple[str, list[domain.ValidationResult]]]:
    """Checks grouped per image, labelled ``image 1``, ``image 2``... in image order."""
    labels: dict[str, str] = {}
    for position, asset in enumerate(generation.assets, start=1):
        labels.setdefault(asset.sha256, f"image {position}")
    groups: dict[str, list[domain.ValidationResult]] = {}
    for result in generation.validations:
        label = labels.get(result.asset_sha256, f"image {result.asset_sha256[:8]}")
        groups.setdefault(label, []).append(result)
    order = {label: index for index, label in enumerate(labels.values())}
    return sorted(groups.items(), key=lambda item: order.get(item[0], len(order)))


def receipt_rows(generation: domain.Generation, image: int | None = None, *,
                 wins: int = 0) -> list[ReceiptRow]:
    """The readable receipt of ``generation``, focused on its ``image``-th image if given.

    Args:
        generation: The generation to explain.
        image: Index of the image shown (its seed, size and checks come first); None for all.
        wins: How often this generation won a comparison.

    Returns:
        Rows in reading order: model, version, seed, steps, scheduler, size, time, cost,
        checks per image, lineage.
    """
    params = generation.params
    asset = (generation.assets[image]
             if image is not None and 0 <= image < len(generation.assets) else None)
    shown = f"image {image + 1}" if asset is not None and image is not None else None
    rows: list[ReceiptRow] = []

    def add(label: str, value: object, tone: str = "") -> None:
        if value is not None and value != "":
            rows.append(ReceiptRow(label, str(value), tone))

    model = generation.resolved_model or generation.requested_model
    if generation.resolved_model and generation.resolved_model != generation.requested_model:
        model = f"{generation.requested_model} → {generation.resolved_model}"
    add("model", model)
    add("engine", generation.engine_kind)
    add("model id", generation.model_id)
    add("version", generation.model_version or "unknown")
    status_tone = {"succeeded": "ok", "failed": "bad"}.get(generation.status, "note")
    add("status", generation.error if generation.status == "cancelled" and generation.error
        else generation.status, status_tone)
    if generation.status != "cancelled":
        add("error", generation.error, "bad")
    if shown is not None and len(generation.assets) > 1:
        add("image", f"{shown.split()[1]} of {len(generation.assets)}")
    seed = asset.seed if asset is not None and asset.seed is not None else params.get("seed")
    add("seed", seed)
    add("steps", params.get("steps"))
    add("guidance", params.get("guidance"))
    add("scheduler", _scheduler(generation))
    if asset is not None:
        add("size", f"{asset.width}x{asset.height}")
    elif params.get("width") and params.get("height"):
        add("size", f"{params['width']}x{params['height']}")
    add("strength", params.get("strength"))
    add("upscale", params.get("upscale"))
    add("negative", params.get("negative_prompt"))
    add("time", _seconds(generation.latency_ms))
    add("cost", _cost(generation))
    if asset is not None and asset.revised_prompt:
        add("revised prompt", asset.revised_prompt)
    for label, results in checks_by_image(generation):
        if shown is not None and label != shown and len(generation.assets) > 1:
            continue
        tone = "ok" if all(result.passed for result in results) else "bad"
        add(f"checks · {label}", check_line(results), tone)
    add("route", generation.route_reason)
    source = params.get("source_asset")
    if source:
        add("source image", str(source)[:12])
    mask = params.get("mask_asset")
    if mask:
        add("mask", str(mask)[:12])
    if generation.fallback_of:
        add("fallback of", generation.fallback_of)
    if wins:
        add("compare", "winner" + (f" ×{wins}" if wins > 1 else ""), "ok")
    add("generation", generation.id)
    return rows


def raw_receipt(generation: domain.Generation) -> str:
    """Everything stored about ``generation`` as indented JSON (what the ``r`` key shows)."""
    from chatimg import domain

    record: dict[str, Any] = domain.to_jsonable(generation)
    return json.dumps(record, indent=2, ensure_ascii=False, sort_keys=False)


def rows_as_text(rows: list[ReceiptRow], indent: str = "") -> list[str]:
    """Rows as aligned ``label  value`` lines for plain-text output."""
    width = max((len(row.label) for row in rows), default=0)
    return [f"{indent}{row.label:<{width}}  {row.value}" for row in rows]
