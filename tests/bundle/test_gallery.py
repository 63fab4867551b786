"""Acceptance 2: index.html opens from the unzipped folder with every image shown."""

from __future__ import annotations

import json
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any


class _Links(HTMLParser):
    """Collects every tag and every URL-valued attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str]] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "poster", "data") and value:
                self.urls.append((tag, value))
                if tag == "img" and name == "src":
                    self.images.append(value)


def test_index_html_shows_every_image_from_the_bundle(
    made_thread: tuple[str, Path], tmp_path: Path
) -> None:
    _, bundle = made_thread
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
        manifest = json.loads(archive.read("manifest.json"))
    html = (folder / "index.html").read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(html)

    assert "script" not in parser.tags and "<script" not in html.lower()
    assert "link" not in parser.tags and "@import" not in html and "url(" not in html
    assert "http://" not in html and "https://" not in html and "//" not in html.replace(
        "<!DOCTYPE html>", "")
    for _tag, url in parser.urls:
        if url.startswith("#"):
            continue
        assert ":" not in url and not url.startswith("/"), url
        assert (folder / url).resolve().is_file(), f"{url} does not resolve inside the bundle"
    assert set(parser.images) == {asset["path"] for asset in manifest["assets"]}
    assert len(parser.images) >= 5
    # Prompt text is shown, escaped (the thread's first prompt contains a script tag).
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    for fact in ("layout", "poster", "seed 11", "failed", "no-such-model", "$0.0100"):
        assert fact in html, fact
    assert "branch of" in html


def test_gallery_escapes_every_text_field() -> None:
    from chatimg.bundle.gallery import render_index

    evil = '<img src=x onerror="alert(1)">'
    manifest: dict[str, Any] = {
        "version": 1, "app_version": evil, "exported_at": evil,
        "conversation": {"id": evil, "title": evil},
        "messages": [{"id": "m", "parent_id": None, "role": evil, "text": evil,
                      "model": evil, "created_at": evil}],
        "generations": [{
            "id": evil, "message_id": "m", "requested_model": evil, "resolved_model": evil,
            "engine_kind": evil, "model_id": evil, "model_version": evil,
            "params": {"scheduler": evil}, "status": evil, "error": evil, "route_reason": evil,
            "fallback_of": evil, "latency_ms": 1.0, "cost_usd": None, "cost_estimated": True,
            "images": [],
        }],
        "assets": [], "validations": [{"generation_id": evil, "name": evil, "version": evil,
                                       "passed": False, "score": None}],
        "picks": [{"generation_ids": [evil], "winner_id": evil, "picked_by": evil,
                   "created_at": evil}],
    }
    html = render_index(manifest)
    assert "onerror=\"" not in html and "<img src=x" not in html
