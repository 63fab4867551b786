"""Where chatimg keeps its files. Every location is a function; nothing is created at import.

``CHATIMG_HOME=<dir>`` puts the database, assets, config file and cache under that one folder.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "chatimg"


def home_override() -> Path | None:
    """The folder named by ``CHATIMG_HOME``, if set."""
    value = os.environ.get("CHATIMG_HOME")
    return Path(value).expanduser().resolve() if value else None


def data_dir() -> Path:
    """Database and assets live here."""
    home = home_override()
    if home is not None:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """``config.toml`` and user themes live here."""
    home = home_override()
    if home is not None:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Thumbnails and other throw-away files."""
    home = home_override()
    if home is not None:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    """The config file: ``CHATIMG_CONFIG`` if set, else ``config.toml`` in the config dir."""
    value = os.environ.get("CHATIMG_CONFIG")
    if value:
        return Path(value).expanduser()
    return config_dir() / "config.toml"


def database_file() -> Path:
    """The default SQLite database file."""
    return data_dir() / "chatimg.db"


def assets_dir() -> Path:
    """The content-addressed image store."""
    return data_dir() / "assets"


def user_themes_dir() -> Path:
    """User theme files (``*.toml``)."""
    return config_dir() / "themes"


def state_file() -> Path:
    """Small UI state (last conversation, scroll position, theme)."""
    return data_dir() / "state.json"


def log_file() -> Path:
    """The app's log (failed background tasks with their tracebacks)."""
    return cache_dir() / "chatimg.log"
