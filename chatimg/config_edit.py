"""Change one value of the config file in place, keeping the rest of the text as written.

Used by commands that switch a setting for the person (``chatimg storage migrate`` sets
``[storage] url``). The file is replaced atomically and parsed again before it is.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from pathlib import Path

from chatimg.errors import ConfigError

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-.\" ]+?)\s*\]\s*(#.*)?$")


def set_string(path: Path, table: str, key: str, value: str) -> None:
    """Set ``[table] key = "value"`` in the TOML file at ``path`` (created when missing).

    Raises:
        ConfigError: the file cannot be read, written, or would not parse afterwards.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    line = f"{key} = {json.dumps(value)}"
    lines = text.splitlines()
    current: str | None = None
    start: int | None = None
    end = len(lines)
    for number, raw in enumerate(lines):
        header = _HEADER.match(raw)
        if header:
            if current == table:
                end = number
                break
            current = header.group(1).strip().strip('"')
            if current == table:
                start = number
    if start is None:
        lines += ([""] if lines and lines[-1].strip() else []) + [f"[{table}]", line]
    else:
        assign = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start + 1, end):
            if assign.match(lines[number]):
                lines[number] = line
                break
        else:
            lines.insert(start + 1, line)
    new_text = "\n".join(lines) + "\n"
    try:
        tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: cannot set {table}.{key}: {exc}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".part", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new_text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write config file: {exc.strerror}") from None
