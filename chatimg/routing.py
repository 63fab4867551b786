"""Pick a concrete model for a request: plain names pass through; ``auto`` and named policies
from ``[routes.NAME]`` resolve through rules, and a fallback chain follows on failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatimg.errors import InvalidRequestError

if TYPE_CHECKING:
    from chatimg.config import Settings
    from chatimg.engines.base import GenerationRequest
    from chatimg.engines.catalog import Catalog


@dataclass(frozen=True)
class RoutePlan:
    """The models to try, in order, and why the first was chosen."""

    requested: str
    chain: tuple[str, ...]
    reason: str | None = None
    fallback_reasons: dict[str, str] = field(default_factory=dict)
    fallback_on_validation: bool = False


class Router:
    """Resolves requested model names to route plans.

    Args:
        settings: For ``[routes.*]`` policies.
        catalog: To check names and read capabilities and costs.
    """

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings = settings
        self.catalog = catalog

    def plan(self, requested: str, request: GenerationRequest) -> RoutePlan:
        """The plan for ``requested`` (a model name, ``auto`` or a policy name)."""
        if requested in self.catalog.entries:
            return RoutePlan(requested, (requested,))
        raise InvalidRequestError(
            f"unknown model {requested!r}", "`chatimg models` lists the models you can use"
        )
