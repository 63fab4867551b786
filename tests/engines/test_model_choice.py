"""Capability-aware model lists: who can do a mode (available first), what cannot run, cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatimg.model_choice import (
    can_do,
    models_for,
    unavailable_in,
    unavailable_models,
    unavailable_warning,
)
from chatimg.spec import GenerationSpec

EXTRA = """
[models.paid-layout]
engine = "layout"
cost_per_image = 0.02

[routes.keyless]
default = "ideogram-v2"
fallback = ["ideogram-v2a"]

[routes.rescued]
default = "ideogram-v2"
fallback = ["paid-layout"]
"""


@pytest.fixture
def studio(tiny_config: Path) -> Any:
    """The tiny diffusers model (available, img2img/inpaint), built-ins (no keys, no weights)."""
    from chatimg.studio import Studio

    with tiny_config.open("a", encoding="utf-8") as handle:
        handle.write(EXTRA)
    instance = Studio.open()
    yield instance
    instance.close()


def test_models_for_a_mode_are_capable_and_available_first(studio: Any) -> None:
    listings = studio.catalog.listings()
    img2img = models_for(listings, "img2img")
    names = [listing.name for listing in img2img]
    assert all(can_do(listing, "img2img") for listing in img2img)
    assert [listing.name for listing in img2img if listing.available] == ["tiny"]
    assert names[0] == "tiny"  # available first, though the catalog lists it last
    assert {"ideogram-v2", "sd-turbo"} <= set(names)
    assert "layout" not in names and "paid-layout" not in names
    upscale = [listing.name for listing in models_for(listings, "upscale")]
    assert "sd-x4-upscaler" in upscale and "tiny" not in upscale
    describe = {listing.name for listing in models_for(listings, "describe")}
    assert describe and all(name.startswith("ideogram") for name in describe)
    with pytest.raises(ValueError):
        models_for(listings, "teleport")


def test_unavailable_names_for_a_send(studio: Any) -> None:
    names = ["layout", "ideogram-v2", "nope", "auto", "keyless", "rescued", "ideogram-v2", "tiny"]
    missing = unavailable_in(studio.catalog, studio.router, names)
    # a route is unavailable only when no model of it can run; unknown names cannot run either
    assert missing == ["ideogram-v2", "nope", "keyless"]
    assert unavailable_warning(missing, 6) == (
        "3 of 6 models cannot run here: ideogram-v2, nope, keyless")
    assert unavailable_warning([], 2) is None
    assert unavailable_warning(["ideogram-v2", "nope"], 2, {"ideogram-v2": "needs KEY"}) == (
        "2 of 2 models cannot run here: ideogram-v2 (needs KEY), nope")
    # without a router, a routing name is not a model: it counts as unavailable
    bare = unavailable_models(["auto", "tiny"],
                              lambda n: studio.catalog.listing(n)
                              if n in studio.catalog.entries else None)
    assert bare == ["auto"]


def test_estimate_prices_only_models_that_can_run(studio: Any) -> None:
    two = GenerationSpec.build(count=2)
    # ideogram-v2 ($0.08) has no key here: only paid-layout is priced
    assert studio.estimate_cost(["paid-layout", "ideogram-v2"], two) == pytest.approx(0.04)
    assert studio.estimate_cost(["ideogram-v2"], two) is None  # nothing can run
    assert studio.estimate_cost(["rescued"], two) == pytest.approx(0.04)  # its fallback runs
    assert studio.estimate_cost(["layout", "paid-layout"], two) == pytest.approx(0.04)
