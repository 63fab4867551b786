"""Pick a concrete model for a request: plain names pass through; ``auto`` and named policies
from ``[routes.NAME]`` resolve through rules, and a fallback chain follows on failure.

Rules are checked in order; the first that matches picks the model:

- ``quoted_text``: the prompt has quoted text to write (→ a typography specialist);
- ``draft``: the message asks for the draft preset (``extra["preset"] == "draft"``);
- ``inpaint``: an edit with a mask (→ the rule's model, else the first model that can inpaint);
- ``budget``: the message has a budget (the rule's ``max_cost`` or ``extra["budget"]``) → the
  cheapest candidate whose ``cost_per_image x count`` fits;
- ``always``: matches every request.

``auto`` uses ``[routes.auto]`` when configured, else a built-in policy: quoted text → ``layout``
(the built-in typesetter), inpaint → the first model that can inpaint, anything else → the
configured ``default_model``; the fallback chain is ``default_model`` then ``layout``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatimg.config import RoutePolicy, RouteRule
from chatimg.errors import ChatImgError, InvalidRequestError

if TYPE_CHECKING:
    from chatimg.config import Settings
    from chatimg.engines.base import ModelInfo
    from chatimg.engines.catalog import Catalog
    from chatimg.spec import GenerationSpec, RouteHints

AUTO = "auto"


@dataclass(frozen=True)
class RoutePlan:
    """The models to try, in order, and why the first was chosen."""

    requested: str
    chain: tuple[str, ...]
    reason: str | None = None
    fallback_reasons: dict[str, str] = field(default_factory=dict)
    fallback_on_validation: bool = False
    repair_on_validation: bool = False


def builtin_auto_policy(settings: Settings) -> RoutePolicy:
    """The policy ``auto`` follows when the config has no ``[routes.auto]``."""
    default = settings.default_model if settings.default_model != AUTO else "layout"
    fallback = [name for name in dict.fromkeys([default, "layout"]) if name != default]
    return RoutePolicy(
        rules=[RouteRule(when="quoted_text", model="layout"), RouteRule(when="inpaint")],
        default=default,
        fallback=fallback,
    )


class Router:
    """Resolves requested model names to route plans.

    Args:
        settings: For ``[routes.*]`` policies.
        catalog: To check names and read capabilities and costs.
    """

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings = settings
        self.catalog = catalog

    def policy(self, name: str) -> RoutePolicy | None:
        """The policy called ``name`` (``auto`` always exists), or None for a plain model."""
        if name in self.settings.routes:
            return self.settings.routes[name]
        if name == AUTO:
            return builtin_auto_policy(self.settings)
        return None

    def plan(self, requested: str, spec: GenerationSpec,
             hints: RouteHints | None = None) -> RoutePlan:
        """The plan for ``requested`` (a model name, ``auto`` or a policy name).

        Raises:
            InvalidRequestError: unknown name, or no model fits the request (e.g. the budget).
        """
        policy = self.policy(requested)
        if policy is None:
            if requested in self.catalog.entries:
                return RoutePlan(requested, (requested,))
            raise InvalidRequestError(
                f"unknown model {requested!r}", "`chatimg models` lists the models you can use"
            )
        chosen, why = self._choose(requested, policy, spec, hints)
        self._check_known(requested, [chosen, *policy.fallback])
        chain = [chosen, *(m for m in policy.fallback if m != chosen)]
        chain = list(dict.fromkeys(chain))
        reasons = {
            model: f"{requested}: fallback {position} of {len(chain) - 1}"
            for position, model in enumerate(chain[1:], start=1)
        }
        return RoutePlan(requested, tuple(chain), f"{requested}: {why} → {chosen}", reasons,
                         policy.fallback_on_validation, policy.repair_on_validation)

    # -- rules ------------------------------------------------------------------------------

    def _choose(
        self, name: str, policy: RoutePolicy, spec: GenerationSpec, hints: RouteHints | None
    ) -> tuple[str, str]:
        from chatimg.prompts import quoted_text

        for rule in policy.rules:
            if rule.when == "quoted_text" and quoted_text(spec.prompt) and rule.model:
                return rule.model, "the prompt has quoted text"
            draft = hints is not None and (hints.preset or "").lower() == "draft"
            if rule.when == "draft" and draft and rule.model:
                return rule.model, "draft preset"
            if rule.when == "inpaint" and spec.mask_asset is not None:
                model = rule.model or self._first_capable("inpaint")
                if model:
                    return model, "the edit has a mask (needs inpaint)"
            if rule.when == "budget":
                budget = rule.max_cost
                if budget is None:
                    budget = hints.budget if hints is not None else None
                if budget is not None:
                    candidates = rule.models or _policy_models(policy)
                    model, cost = self._cheapest(name, candidates, spec, budget)
                    return model, f"budget ${budget:g}: cheapest that fits (${cost:g})"
            if rule.when == "always" and rule.model:
                return rule.model, "always"
        return policy.default, "default"

    def _info(self, model: str) -> ModelInfo | None:
        try:
            engine = self.catalog.engine(model)
            return engine.info if engine.availability().available else None
        except ChatImgError:
            return None

    def _first_capable(self, capability: str) -> str | None:
        for model in self.catalog.names():
            info = self._info(model)
            if info is not None and getattr(info.capabilities, capability, False):
                return model
        return None

    def _cheapest(
        self, name: str, candidates: list[str], spec: GenerationSpec, budget: float
    ) -> tuple[str, float]:
        fits: list[tuple[float, int, str]] = []
        for position, model in enumerate(dict.fromkeys(candidates)):
            info = self._info(model)
            if info is None or info.cost_per_image is None:
                continue
            if not getattr(info.capabilities, spec.mode, False):
                continue
            cost = info.cost_per_image * spec.count
            if cost <= budget + 1e-12:
                fits.append((cost, position, model))
        if not fits:
            raise InvalidRequestError(
                f"{name}: no model fits the budget of ${budget:g}",
                "raise the budget or add cheaper models to the policy",
            )
        cost, _, model = min(fits)
        return model, round(cost, 6)

    def _check_known(self, name: str, models: list[str]) -> None:
        for model in models:
            if model not in self.catalog.entries:
                raise InvalidRequestError(
                    f"route {name!r} names unknown model {model!r}",
                    "fix [routes." + name + "] in the config file",
                )


def _policy_models(policy: RoutePolicy) -> list[str]:
    named = [rule.model for rule in policy.rules if rule.model]
    return [*named, policy.default, *policy.fallback]


def missing_capability(info: ModelInfo, spec: GenerationSpec) -> str | None:
    """What ``spec`` needs that the model lacks (so a fallback may help), or None."""
    caps = info.capabilities
    if not getattr(caps, spec.mode, False):
        return spec.mode
    if spec.negative_prompt and not caps.negative_prompt:
        return "negative_prompt"
    if spec.count > caps.max_count:
        return "count"
    if (spec.width or 0) > caps.max_width or (spec.height or 0) > caps.max_height:
        return "size"
    return None
