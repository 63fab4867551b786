"""One secret-redaction rule: text, JSON values, JSON text, studio errors, provider text, logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from chatimg.redaction import REDACTED, install_log_redaction, redact, redact_json

KEY = "sk-live-9f8e7d6c5b4a"
LONGER = KEY + "-extended"


def test_text_hides_every_secret_longest_first() -> None:
    text = f"key {KEY} and {LONGER}; again {KEY}"
    assert redact(text, [KEY, LONGER]) == "key *** and ***; again ***"
    assert redact("nothing here", [KEY]) == "nothing here"


def test_too_short_secrets_are_ignored() -> None:
    """A one-letter 'key' would destroy every word that holds the letter."""
    assert redact("a cat on cats", ["a", "", "cat", "cats"]) == "a cat on ***"


def test_values_hide_credential_members_and_secrets_anywhere() -> None:
    value: dict[str, Any] = {
        "engine": {"headers": {"Authorization": "Bearer abc", "X-Goog-Api-Key": "g"},
                   "url": f"https://example.invalid/?key={KEY}"},
        "usage": {"total_tokens": 4050, "input_tokens": 50},
        "token": None,
        KEY: [1, {"client_secret": {"nested": True}}],
        "kept": ("a", 1, 2.5, True),
    }
    hidden = redact(value, [KEY])
    assert hidden["engine"]["headers"] == {"Authorization": REDACTED, "X-Goog-Api-Key": REDACTED}
    assert hidden["engine"]["url"] == "https://example.invalid/?key=***"
    assert hidden["usage"] == {"total_tokens": 4050, "input_tokens": 50}
    assert hidden["token"] is None
    assert hidden[REDACTED] == [1, {"client_secret": REDACTED}]
    assert KEY not in json.dumps(hidden)
    assert hidden["kept"] is value["kept"]  # untouched parts are shared, not copied
    assert value["engine"]["headers"]["Authorization"] == "Bearer abc"  # input unchanged


def test_unchanged_value_is_returned_as_is() -> None:
    value = {"a": [1, "two", {"b": None}], "monkey": "banana"}
    assert redact(value, [KEY]) is value


@pytest.mark.parametrize("value", [
    {"plain": "nothing to hide", "n": [1, 2, 3]},
    {"msg": f"quote \" and {KEY}", "api_key": "v"},
    {"text": 'a "quoted" secret: ' + 'pa"ss\\word-é1', "deep": [{"Set-Cookie": "c"}]},
    {"keys": 3, "monkey": "banana", "note": "a key, a token"},
    {"Pass_Word": "hunter2", "size": 3},  # case and separators, ASCII text
    {"API\u212aEY": "v", "note": "\u00e9"},  # KELVIN SIGN lower-cases to k: "apikey"
])
def test_json_text_path_agrees_with_redact(value: dict[str, Any]) -> None:
    secrets = [KEY, 'pa"ss\\word-é1']
    hidden, text = redact_json(value, secrets)
    assert hidden == redact(value, secrets)
    assert json.loads(text) == hidden
    for secret in secrets:
        assert secret not in json.dumps(hidden, ensure_ascii=False)


@pytest.fixture
def restore_log_factory() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def test_log_records_hide_secrets(restore_log_factory: None,
                                  caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction(lambda: [KEY])
    install_log_redaction(lambda: [KEY, "hunter22"])  # a second install only updates the keys
    log = logging.getLogger("chatimg.test.redaction")
    with caplog.at_level(logging.INFO):
        log.info("calling %s with %s", "https://example.invalid", KEY)
        log.info("password hunter22")
        try:
            raise RuntimeError(f"provider echoed {KEY}")
        except RuntimeError:
            log.exception("request failed")
    assert KEY not in caplog.text and "hunter22" not in caplog.text
    assert "calling https://example.invalid with ***" in caplog.text
    assert "provider echoed ***" in caplog.text


async def test_studio_provider_client_and_bundle_share_the_rule(
    monkeypatch: pytest.MonkeyPatch, restore_log_factory: None,
) -> None:
    from chatimg.bundle.manifest import build_manifest
    from chatimg.engines.http import ProviderClient
    from chatimg.studio import Studio

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    studio = Studio.open()
    try:
        client = ProviderClient(studio.context, "openai", "OpenAI",
                                headers={"Authorization": f"Bearer {KEY}"})
        text = f"bad key {KEY} (Bearer {KEY})"
        assert studio.scrub(text) == redact(text, [KEY]) == "bad key *** (Bearer ***)"
        # The client also knows the header values it sends.
        assert client.clean(text) == redact(text, client.secrets) == "bad key *** (***)"
        data = {"echo": text, "headers": {"api-key": "anything"}}
        assert client.clean_data(data) == redact(data, client.secrets)
        assert client.clean_data(data)["headers"] == {"api-key": REDACTED}
        dump = {"conversation": {"title": text}, "messages": [], "generations": [],
                "assets": [], "validations": [], "picks": [{"api_key": "x"}]}
        manifest, _ = build_manifest(dump, app_version="0", exported_at=_now(),
                                     secrets=studio.settings.secret_values())
        assert manifest["conversation"] == redact(dump["conversation"], [KEY])
        assert manifest["picks"] == [{"api_key": REDACTED}]
    finally:
        await studio.aclose()


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, tzinfo=UTC)
