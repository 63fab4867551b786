"""Escape sequences, BEL and bidi overrides in prompts and titles never reach the terminal raw,
and survive the store, ``--json`` and a bundle round trip unchanged."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from chatimg.safetext import is_safe, shown

HOSTILE_PROMPT = 'clear\x1b[2J\x1b[H title\x1b]0;pwned\x07 sign that says "OK" \u202eevil\x9b31m'
HOSTILE_TITLE = "ring\x07\x07 \x1b[31mred\x1b[0m \u202egnp.exe"


def _raw_controls(text: str) -> list[str]:
    """Characters a terminal would act on or that reorder text (newline and tab allowed)."""
    return [c for c in text if c not in "\n\t" and (
        unicodedata.category(c) in ("Cc", "Cf"))]


def test_cli_shows_hostile_text_escaped_and_keeps_it_intact(
    cli: Any, config_file: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    config_file.write_text("[validation]\nenabled = []\n", encoding="utf-8")
    made = cli("gen", HOSTILE_PROMPT, "-m", "layout", "--title", HOSTILE_TITLE, "--json")
    assert made.code == 0, made.err
    assert _raw_controls(made.out) == []
    conversation_id = json.loads(made.out)["conversation_id"]

    listed, shown_out, found = cli("ls"), cli("show", conversation_id), cli("search", "sign")
    for result in (listed, shown_out, found):
        assert result.code == 0
        assert _raw_controls(result.out + result.err) == [], result.out
    assert "ring\\x07\\x07 \\x1b[31mred" in listed.out
    assert "clear\\x1b[2J" in shown_out.out and "\\u202eevil" in shown_out.out
    assert "\\x1b]0;pwned\\x07" in found.out

    as_json = cli("show", conversation_id, "--json")
    assert _raw_controls(as_json.out) == []
    thread = json.loads(as_json.out)
    assert thread["conversation"]["title"] == HOSTILE_TITLE
    assert thread["messages"][0]["text"] == HOSTILE_PROMPT

    # A bundle carries the text unchanged into another home, where it shows escaped too.
    bundle = tmp_path / "hostile.zip"
    assert cli("export", conversation_id, "-o", str(bundle)).code == 0
    monkeypatch.setenv("CHATIMG_HOME", str(tmp_path / "teammate"))
    imported = cli("import", str(bundle))
    assert imported.code == 0 and _raw_controls(imported.out + imported.err) == []
    there = json.loads(cli("show", conversation_id, "--json").out)
    assert there["conversation"]["title"] == HOSTILE_TITLE
    assert there["messages"][0]["text"] == HOSTILE_PROMPT
    assert _raw_controls(cli("show", conversation_id).out + cli("ls").out) == []


def test_shown_escapes_only_what_is_unsafe() -> None:
    assert shown("plain text, ünïcödé ✓ 日本") == "plain text, ünïcödé ✓ 日本"
    assert shown("a\x1bb\x07c\u202ed\u2066e\x7ff") == "a\\x1bb\\x07c\\u202ed\\u2066e\\x7ff"
    assert shown("two\nlines\ttab") == "two\\nlines\\ttab"
    assert shown("two\nlines\r", keep_newlines=True) == "two\nlines\\r"
    assert is_safe(shown(HOSTILE_PROMPT)) and is_safe(shown(HOSTILE_TITLE))
