"""The one rule for hiding secrets, wherever text or data leaves chatimg's hands.

Two things are hidden, with the same rule everywhere (studio errors, engine receipts and provider
text, bundle manifests, log records):

- every known secret value (API keys from the environment or the config file, the header and
  auth values an HTTP client sends) wherever it appears inside a string, including dict keys;
- the value of any member whose *name* says it is a credential (``Authorization``, ``api_key``,
  ``x-goog-api-key``, ``password``, ``client_secret``, ...), even when the value is unknown.

Both become ``***``. Secrets shorter than ``MIN_SECRET_LENGTH`` characters are ignored: no real
key is that short, and hiding every ``a`` would destroy the text around it.
"""

from __future__ import annotations

import json
import logging
import re
import string
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, TypeVar

REDACTED = "***"
MIN_SECRET_LENGTH = 4

#: Member names that are credentials wherever they appear (compared after dropping case, ``-``,
#: ``_`` and spaces); names ending in ``apikey``, ``token``, ``password`` or ``secret`` too.
_SECRET_KEYS = frozenset({
    "apikey", "authorization", "xgoogapikey", "xapikey", "password", "passwd", "passphrase",
    "secret", "token", "accesstoken", "bearer", "auth", "cookie", "setcookie",
})
_SECRET_SUFFIXES = ("apikey", "token", "password", "secret")
#: A member name containing one of the words every credential-like name contains once
#: flattened: a cheap first check on flattened JSON text (values are not followed by ``:``).
_CREDENTIAL_NAMES = [
    (word, re.compile(word + r'[^"\\]{0,80}"\s*:'))
    for word in ("key", "auth", "token", "secret", "passw", "passp", "bearer", "cookie")
]
#: ASCII letters to lower case, ``-``, ``_`` and spaces dropped: ``_flatten`` in one pass.
_FLATTEN = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, "-_ ")

T = TypeVar("T")


@lru_cache(maxsize=4096)
def is_credential_name(name: str) -> bool:
    """Whether a member called ``name`` holds a credential (``X-Api-Key``, ``access_token``)."""
    flat = re.sub(r"[-_\s]", "", name).lower()
    return flat in _SECRET_KEYS or flat.endswith(_SECRET_SUFFIXES)


def _usable(secrets: Iterable[str]) -> list[str]:
    """Distinct secrets long enough to hide, longest first (so a key's prefix never wins)."""
    return sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len,
                  reverse=True)


def _text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _walk(value: Any, secrets: list[str]) -> Any:
    """``value`` with secrets hidden; containers are copied only when something changed."""
    if isinstance(value, str):
        return _text(value, secrets)
    if isinstance(value, dict):
        out: dict[Any, Any] | None = None
        for key, item in value.items():
            new_key = _text(key, secrets) if isinstance(key, str) else key
            if item is not None and isinstance(key, str) and is_credential_name(key):
                new_item: Any = REDACTED
            else:
                new_item = _walk(item, secrets)
            if new_key is not key or new_item is not item:
                if out is None:
                    out = {}
                    for earlier, kept in value.items():
                        if earlier is key:
                            break
                        out[earlier] = kept
                out[new_key] = new_item
            elif out is not None:
                out[key] = item
        return value if out is None else out
    if isinstance(value, list | tuple):
        items = [_walk(item, secrets) for item in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items) if isinstance(value, tuple) else items
    return value


def redact(value: T, secrets: Iterable[str]) -> T:
    """``value`` with every secret and every credential-named member hidden.

    Args:
        value: A string, or a JSON-like value (dicts, lists, tuples, scalars). It is never
            changed in place; unchanged parts of a container are shared with the result.
        secrets: Known secret values (e.g. ``Settings.secret_values()``).

    Returns:
        The same type as ``value``: text with each secret replaced by ``***``; containers with
        credential-named members set to ``***`` and secrets hidden in every string.
    """
    return _walk(value, _usable(secrets))  # type: ignore[no-any-return]


def _flatten(text: str) -> str:
    """``text`` lower-cased without ``-``, ``_`` and spaces (as ``is_credential_name`` sees a
    name). ASCII text, the usual case, takes one ``translate`` pass (``translate`` is slow on
    other text, and ``lower`` must see it: KELVIN SIGN lower-cases to ``k``)."""
    if text.isascii():
        return text.translate(_FLATTEN)
    return text.lower().replace("-", "").replace("_", "").replace(" ", "")


def _names_a_credential(flat: str) -> bool:
    """Whether flattened JSON text has a member name with a credential word in it.

    The same test as ``pattern.search`` for each of ``_CREDENTIAL_NAMES``, done by trying the
    pattern only where its word occurs (``str.find`` skips through text much faster).
    """
    for word, pattern in _CREDENTIAL_NAMES:
        at = flat.find(word)
        while at >= 0:
            if pattern.match(flat, at):
                return True
            at = flat.find(word, at + 1)
    return False


def may_name_credentials(text: str) -> bool:
    """Whether JSON text has a member name that might be a credential's.

    A cheap test with no false negatives: every name ``is_credential_name`` accepts makes it
    true, and so do some others (``monkey``); string values never do. ``redact_json`` runs it
    over its whole text unless told the answer.
    """
    return _names_a_credential(_flatten(text))


def redact_json(value: Any, secrets: Iterable[str], *,
                splice: Callable[[str], str] = str,
                named: bool | None = None) -> tuple[Any, str]:
    """``redact(value)`` and its JSON text, serializing only once when nothing is hidden.

    The result is what ``redact`` returns (and ``json.dumps`` of it), found faster for large
    values: the JSON text is scanned for credential-like member names and for the secrets
    (in their JSON-escaped forms) before anything is walked.

    Args:
        value: A JSON-ready value.
        secrets: Known secret values.
        splice: Applied to the serialized text before it is scanned (the bundle manifest uses
            it to put receipts that stayed JSON text back in place).
        named: ``may_name_credentials`` of the text, when the caller found it more cheaply
            (over only the parts of ``value`` whose member names are not fixed by code);
            None: the whole text is scanned.

    Returns:
        The redacted value and its JSON text (``ensure_ascii=False``).
    """
    usable = _usable(secrets)
    # A JSON-ready value is a tree: the encoder's check for cycles (a set entry per
    # container) only costs time here.
    text = splice(json.dumps(value, ensure_ascii=False, check_circular=False))
    if named is None:
        named = may_name_credentials(text)
    forms = {form for secret in usable
             for form in (json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(secret)[1:-1])}
    if not named and not any(form in text for form in forms):
        return value, text
    hidden = _walk(json.loads(text), usable)
    return hidden, json.dumps(hidden, ensure_ascii=False)


class RedactingRecords:
    """A log record factory that hides secrets in every record's message and exception text.

    Install with ``install_log_redaction``; the secrets are read when each record is made, so
    keys that change while the program runs are covered.
    """

    def __init__(self, secrets: Callable[[], Iterable[str]],
                 factory: Callable[..., logging.LogRecord]) -> None:
        self.secrets = secrets
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        secrets = _usable(self.secrets())
        if not secrets:
            return record
        message = record.getMessage()
        hidden = _text(message, secrets)
        if hidden != message:
            record.msg, record.args = hidden, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = _text(text, secrets)
        return record


def install_log_redaction(secrets: Callable[[], Iterable[str]]) -> None:
    """Hide ``secrets()`` in every log record made from now on (any logger, any handler)."""
    current = logging.getLogRecordFactory()
    if isinstance(current, RedactingRecords):
        current.secrets = secrets
        return
    logging.setLogRecordFactory(RedactingRecords(secrets, current))
