"""Stored text made safe to show on a terminal, as ``git`` quotes odd path names.

Prompts, titles and anything else a person (or a shared bundle) typed stay exactly as they were
in the store and in ``--json``; only what is *shown* goes through :func:`shown`. Control
characters (C0, DEL, C1: escape sequences, BEL, backspace, carriage return) and the Unicode
format characters that reorder or hide text (bidirectional overrides and isolates, zero-width
characters) become visible escapes such as ``\\x1b`` or ``\\u202e``, so a hostile prompt can
neither drive the terminal nor make text read differently from what it is.

This module is pure (no Textual, no Rich) so the CLI and the app share it.
"""

from __future__ import annotations

import re

#: Format characters that change how surrounding text reads without being seen.
_INVISIBLE = (
    "\u061c"  # arabic letter mark
    "\u200b-\u200f"  # zero-width space/joiners, LRM, RLM
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\ufeff"  # zero-width no-break space
    "\ufff9-\ufffb"  # interlinear annotations
)
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
_UNSAFE_KEEP_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control and invisible reordering character escaped.

    Args:
        text: Stored text (a prompt, a title, an error message).
        keep_newlines: Keep line breaks and tabs as they are (for multi-line prompts shown in
            full); one-line listings escape them too.

    Returns:
        Text that is safe to write to a terminal; unchanged when nothing needed escaping.
    """
    pattern = _UNSAFE_KEEP_LINES if keep_newlines else _UNSAFE
    if not pattern.search(text):
        return text
    return pattern.sub(_escape, text)


def is_safe(text: str) -> bool:
    """Whether ``text`` holds no character :func:`shown` would escape (newlines included)."""
    return _UNSAFE.search(text) is None


def json_escaped(text: str) -> str:
    """JSON text with the characters :func:`shown` escapes written as ``\\uXXXX`` escapes.

    ``json.dumps(..., ensure_ascii=False)`` already escapes C0 controls but writes DEL, C1 and
    the bidirectional and invisible characters raw; this keeps the JSON equal in value and
    safe to print.
    """
    # Inside strings json.dumps escapes newlines and tabs; outside they are indentation.
    if not _UNSAFE_KEEP_LINES.search(text):
        return text
    return _UNSAFE_KEEP_LINES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
