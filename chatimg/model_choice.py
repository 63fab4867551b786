"""Which models can do a thing here: capable models (available first) and unavailable names.

Pure functions over catalog listings (``chatimg.engines.catalog.Listing``), shared by the TUI's
picker and fan-out, the Studio's cost estimate and the CLI. No Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatimg.engines.catalog import Catalog, Listing
    from chatimg.routing import Router

MODES = ("txt2img", "img2img", "inpaint", "upscale", "describe")
"""What a model can be asked to do; each is a ``Capabilities`` flag."""


def can_do(listing: Listing, mode: str) -> bool:
    """Whether the model of ``listing`` has the capability ``mode`` (False when unknown).

    Raises:
        ValueError: ``mode`` is not one of ``MODES``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    return listing.info is not None and bool(getattr(listing.info.capabilities, mode, False))


def models_for(listings: Iterable[Listing], mode: str) -> list[Listing]:
    """The models that can do ``mode``: available ones first, each group in catalog order."""
    capable = [listing for listing in listings if can_do(listing, mode)]
    return sorted(capable, key=lambda listing: not listing.available)


def unavailable_models(names: Sequence[str], listing: Callable[[str], Listing | None],
                       chain: Callable[[str], Sequence[str]] | None = None) -> list[str]:
    """The names in ``names`` that cannot run here, in order, each once.

    Args:
        names: Requested names: models, or routing names (``auto``, a policy).
        listing: The listing of a model name, or None when the catalog has no such model.
        chain: For a routing name, the models it may run (first choice, then fallbacks); a
            routing name is unavailable only when none of them is. Without it, names that are
            not models count as unavailable.

    Returns:
        Unknown names and names whose every candidate model is unavailable.
    """
    missing: list[str] = []
    for name in dict.fromkeys(names):
        found = listing(name)
        if found is not None:
            if not found.available:
                missing.append(name)
            continue
        candidates = list(chain(name)) if chain is not None else []
        if not any((model := listing(m)) is not None and model.available for m in candidates):
            missing.append(name)
    return missing


def unavailable_warning(missing: Sequence[str], total: int,
                        reasons: Mapping[str, str | None] | None = None) -> str | None:
    """``2 of 4 models cannot run here: a, b`` for a send that includes them, else None.

    With ``reasons`` (name → why it cannot run), each name is followed by its reason:
    ``1 of 2 models cannot run here: ideogram-v3 (needs IDEOGRAM_API_KEY)``.
    """
    if not missing:
        return None
    noun = "model" if total == 1 else "models"
    named = [f"{name} ({reasons[name]})" if reasons and reasons.get(name) else name
             for name in missing]
    return f"{len(missing)} of {total} {noun} cannot run here: {', '.join(named)}"


def unavailable_in(catalog: Catalog, router: Router | None, names: Sequence[str]) -> list[str]:
    """``unavailable_models`` for a catalog, routing names resolved by ``router``.

    Example: ``unavailable_in(studio.catalog, studio.router, ["layout", "ideogram-v3"])``.
    """
    from chatimg.errors import ChatImgError
    from chatimg.spec import GenerationSpec

    def chain(name: str) -> Sequence[str]:
        if router is None:
            return ()
        try:
            return router.plan(name, GenerationSpec()).chain
        except ChatImgError:
            return ()

    def listing(name: str) -> Listing | None:
        return catalog.listing(name) if name in catalog.entries else None

    return unavailable_models(names, listing, chain)
