"""A third-party-style validator for the plugin test."""

from __future__ import annotations

from typing import Any

from chatimg.validate.base import CheckInput, CheckResult, Validator


class AlwaysFails(Validator):
    """Fails every image (to show plugins run and are reported like built-ins)."""

    name = "always-fails"
    version = "0.1"

    def check(self, image: Any, given: CheckInput) -> CheckResult:
        return self.result("failed", 0.0, reason="it always fails")
