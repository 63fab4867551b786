"""The readable receipt: rows a person can scan, per image, with lineage and winners."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chatimg import domain
from chatimg.receipt_view import raw_receipt, receipt_rows, rows_as_text

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _generation(**changes: object) -> domain.Generation:
    assets = tuple(
        domain.AssetRef(sha256=f"{i}" * 64, path=f"/a/{i}.png", mime="image/png", width=512,
                        height=384, bytes=10, index=i, seed=40 + i)
        for i in range(2)
    )
    checks = (
        domain.ValidationResult("0" * 64, "typography", "1", True, 0.98),
        domain.ValidationResult("1" * 64, "typography", "1", False, 0.41),
        domain.ValidationResult("1" * 64, "blank", "1", True, None),
    )
    values: dict[str, object] = dict(
        id="01GEN", message_id="01MSG", requested_model="auto", resolved_model="sdxl",
        engine_kind="diffusers", model_id="stabilityai/sdxl", model_version="abc123",
        asked={"seed": 40, "steps": 30, "guidance": 5.0, "source_asset": "f" * 64},
        status="succeeded", error=None, route_reason="auto: default → sdxl",
        fallback_of="01OLDER", queued_at=NOW, started_at=NOW, finished_at=NOW,
        latency_ms=2345.0, cost_usd=0.0, cost_estimated=True,
        receipt_data={"engine": {"scheduler": {"class": "EulerDiscreteScheduler"}}},
        assets=assets, validations=checks,
    )
    values.update(changes)
    return domain.Generation(**values)  # type: ignore[arg-type]


def _rows(generation: domain.Generation, image: int | None = None,
          wins: int = 0) -> dict[str, str]:
    return {row.label: row.value for row in receipt_rows(generation, image, wins=wins)}


def test_rows_for_the_second_image() -> None:
    rows = _rows(_generation(), 1, wins=2)
    assert rows["model"] == "auto → sdxl"
    assert rows["version"] == "abc123"
    assert rows["image"] == "2 of 2"
    assert rows["seed"] == "41"  # the image's own seed, not the request's
    assert rows["steps"] == "30" and rows["scheduler"] == "EulerDiscreteScheduler"
    assert rows["size"] == "512x384" and rows["time"] == "2.3 s" and rows["cost"] == "free"
    assert rows["checks · image 2"] == "✗ typography 0.41  ✓ blank"
    assert "checks · image 1" not in rows
    assert rows["source image"] == "f" * 12 and rows["fallback of"] == "01OLDER"
    assert rows["compare"] == "winner ×2"


def test_all_images_checks_labelled_and_cancel_count() -> None:
    generation = _generation(status="cancelled", error="cancelled — 2 of 8", cost_usd=0.08,
                             cost_estimated=False, latency_ms=320.0, fallback_of=None)
    rows = _rows(generation)
    assert rows["checks · image 1"] == "✓ typography 0.98"
    assert rows["checks · image 2"].startswith("✗ typography")
    assert rows["status"] == "cancelled — 2 of 8" and "error" not in rows
    assert rows["cost"] == "$0.080 (billed)" and rows["time"] == "320 ms"
    assert "fallback of" not in rows and "compare" not in rows
    lines = rows_as_text(receipt_rows(generation), indent="  ")
    assert lines[0].startswith("  model ") and all("  " in line for line in lines)


def test_raw_receipt_is_the_whole_record_as_json() -> None:
    data = json.loads(raw_receipt(_generation()))
    assert data["id"] == "01GEN" and data["params"]["steps"] == 30
    assert data["assets"][1]["seed"] == 41 and data["queued_at"].startswith("2026-11-30")
