"""One-line descriptions of check results, for cards, ``chatimg check`` and ``chatimg show``."""

from __future__ import annotations

from typing import Any


def describe(name: str, passed: bool | None, details: dict[str, Any]) -> str:
    """A short line such as ``typography FAIL cer=0.125 read='OPEN LATF'``.

    Args:
        name: The check's name.
        passed: True, False, or None (skipped or not applicable).
        details: The check's details.
    """
    mark = "pass" if passed else "FAIL" if passed is False else "skip"
    if name == "typography" and "cer" in details:
        extra = f"cer={details['cer']:.3f} wer={details['wer']:.3f} read={details['read']!r}"
    elif name == "size" and "requested" in details:
        req, got = details["requested"], details["actual"]
        extra = f"{got[0]}x{got[1]} (asked {req[0]}x{req[1]})"
    elif name == "blank" and "std" in details:
        extra = details.get("reason") or f"spread {details['std']:.1f}"
    else:
        extra = str(details.get("reason") or "")
    return f"{name} {mark} {extra}".rstrip()
