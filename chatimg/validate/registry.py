"""Validators, found through the ``chatimg.validators`` entry-point group (built-ins too).

A plugin that fails to import is skipped with a reason, never fatal.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from importlib.metadata import entry_points

from chatimg.errors import InvalidRequestError
from chatimg.validate.base import Validator

GROUP = "chatimg.validators"

#: Built-in validators, also declared as entry points in pyproject.toml; kept here so a source
#: checkout that is not installed still finds them.
BUILTIN_VALIDATORS: dict[str, str] = {
    "blank": "chatimg.validate.blank:BlankValidator",
    "size": "chatimg.validate.size:SizeValidator",
    "typography": "chatimg.validate.typography:TypographyValidator",
}


def validator_targets() -> dict[str, str]:
    """name → ``module:Class`` for every validator (entry points may add or override)."""
    targets = dict(BUILTIN_VALIDATORS)
    for point in entry_points(group=GROUP):
        targets[point.name] = point.value
    return targets


@lru_cache(maxsize=64)
def _load(target: str) -> Validator:
    module_name, _, attribute = target.partition(":")
    validator_class = getattr(importlib.import_module(module_name), attribute)
    return validator_class()  # type: ignore[no-any-return]


def load_validators(names: list[str] | None = None) -> list[Validator]:
    """Validator instances for ``names`` (default: every known one), in that order.

    Raises:
        InvalidRequestError: a name is unknown or its plugin fails to load.
    """
    targets = validator_targets()
    chosen = list(names) if names is not None else list(targets)
    found: list[Validator] = []
    for name in chosen:
        if name not in targets:
            raise InvalidRequestError(
                f"unknown validator {name!r}", "known: " + ", ".join(sorted(targets))
            )
        try:
            found.append(_load(targets[name]))
        except Exception as exc:  # a broken plugin must not take the app down
            raise InvalidRequestError(
                f"validator {name!r} failed to load: {type(exc).__name__}: {exc}"
            ) from None
    return found
