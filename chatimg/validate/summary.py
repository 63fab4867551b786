"""One-line descriptions of check results, for cards, ``chatimg check`` and ``chatimg show``."""

from __future__ import annotations

from typing import Any

#: How each status reads in a line (the JSON ``status`` spelled for people).
MARKS = {"passed": "pass", "failed": "FAIL", "skipped": "skipped",
         "not_applicable": "not applicable"}


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _typography(details: dict[str, Any]) -> str:
    texts = details.get("texts") or []
    expected = " | ".join(t["expected"] for t in texts) if len(texts) > 1 else details["expected"]
    parts = [f"expected={expected!r}", f"read={_short(details['read'])!r}"]
    parts.append(f"cer={details['cer']:.3f} (max {details['max_cer']:g})")
    if details.get("reason") == "no_text_found":
        parts.append("no text found")
    wrong = [w for w in details.get("words", []) if w["status"] != "ok"]
    if wrong:
        parts.append("words: " + ", ".join(
            f"{w['word']} {w['status']}" + (f" as {w['read']!r}" if w["read"] else "")
            + (f" ({w['note']})" if w.get("note") else "")
            for w in wrong[:4]))
    if details.get("inserted"):
        parts.append("inserted: " + ", ".join(repr(w) for w in details["inserted"][:4]))
    if details.get("extra"):
        counted = " (counted: strict)" if details.get("strict") else ""
        parts.append("extra: " + ", ".join(repr(_short(e, 30)) for e in details["extra"][:3])
                     + counted)
    if details.get("accents_unverified"):
        parts.append("accents unverified: " + ", ".join(details["accents_unverified"]))
    return " ".join(parts)


def describe(name: str, passed: bool | None, details: dict[str, Any],
             status: str | None = None) -> str:
    """A short line such as ``typography FAIL expected='OPEN LATE' read='OPEN LATF' ...``.

    Args:
        name: The check's name.
        passed: True, False, or None (skipped or not applicable).
        details: The check's details.
        status: The check's status; tells "skipped" from "not applicable" when ``passed`` is None.
    """
    mark = MARKS.get(status or "", "pass" if passed else "FAIL" if passed is False else "skipped")
    if name == "typography" and "cer" in details and "expected" in details:
        extra = _typography(details)
    elif name == "size" and "requested" in details:
        req, got = details["requested"], details["actual"]
        extra = f"{got[0]}x{got[1]} (asked {req[0]}x{req[1]})"
    elif name == "blank" and "std" in details:
        extra = details.get("reason") or f"spread {details['std']:.1f}"
    else:
        reason = details.get("reason")
        extra = f"({reason})" if reason and passed is None else str(reason or "")
    return f"{name} {mark} {extra}".rstrip()
