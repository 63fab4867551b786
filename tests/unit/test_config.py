"""Settings: defaults, file, environment, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatimg import paths
from chatimg.config import load_settings
from chatimg.errors import ConfigError


def test_defaults_without_a_file(home: Path) -> None:
    settings = load_settings()
    assert settings.default_model == "layout"
    assert settings.config_path == home / "config" / "config.toml"
    assert not (home / "config").exists(), "loading settings must not create folders"


def test_environment_wins_over_the_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text('default_model = "sd-turbo"\n[network]\nread_timeout = 5\n', encoding="utf-8")
    assert load_settings().default_model == "sd-turbo"
    monkeypatch.setenv("CHATIMG_DEFAULT_MODEL", "layout")
    monkeypatch.setenv("CHATIMG_NETWORK__READ_TIMEOUT", "9.5")
    settings = load_settings()
    assert settings.default_model == "layout"
    assert settings.network.read_timeout == 9.5


def test_model_tables(config_file: Path) -> None:
    config_file.write_text(
        '[models.my-tiny]\nengine = "diffusers"\nsource = "/m"\nscheduler = "DDIMScheduler"\n'
        'cost_per_image = 0.01\nworkflow_speed = "fast"\n', encoding="utf-8")
    entry = load_settings().models["my-tiny"]
    assert entry.engine == "diffusers" and entry.scheduler == "DDIMScheduler"
    assert entry.model_extra == {"workflow_speed": "fast"}


def test_keys_come_from_env_first_then_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text('[keys]\nideogram = "file-key-123"\n', encoding="utf-8")
    settings = load_settings()
    assert settings.api_key("ideogram") == "file-key-123"
    assert "file-key-123" not in repr(settings) and "file-key-123" not in str(settings.keys)
    monkeypatch.setenv("IDEOGRAM_API_KEY", "env-key-456")
    assert settings.api_key("ideogram") == "env-key-456"
    assert settings.secret_values() == ["file-key-123", "env-key-456"] or set(
        settings.secret_values()) == {"file-key-123", "env-key-456"}
    monkeypatch.setenv("GOOGLE_API_KEY", "g-key")
    assert settings.api_key("google") == "g-key"


def test_broken_file_error_is_one_line(config_file: Path) -> None:
    config_file.write_text("[models.a]\nengine = 'layout'\nsteps = 'many'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    text = caught.value.one_line()
    assert "\n" not in text and "line 3" in text and "models.a.steps" in text


def test_home_puts_everything_under_one_folder(home: Path) -> None:
    for location in (paths.data_dir(), paths.config_dir(), paths.cache_dir(),
                     paths.database_file(), paths.assets_dir(), paths.config_file()):
        assert location.is_relative_to(home)
