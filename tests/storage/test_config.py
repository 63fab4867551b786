"""``[storage]`` settings: backends from urls, credentials from env or file (secrets kept
secret), and the config file edited in place by ``storage migrate``."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from chatimg.config import StorageSection, load_settings
from chatimg.config_edit import set_string
from chatimg.errors import ConfigError
from chatimg.store.backends import open_asset_store, s3_config
from chatimg.store.objects import ObjectAssetStore


def test_env_credentials_win_over_the_file_and_secrets_stay_hidden(
    config_file: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_file.write_text('[storage]\nurl = "s3://team/images"\nendpoint = "http://127.0.0.1:9"\n'
                           'access_key_id = "FILEKEY"\nsecret_access_key = "file-secret-123"\n'
                           'region = "eu-west-1"\n')
    settings = load_settings()
    assert "file-secret-123" not in repr(settings) and "file-secret-123" not in str(
        settings.model_dump())
    assert "file-secret-123" in settings.secret_values()  # so logs scrub it
    config = s3_config(settings.storage)
    assert config["access_key_id"] == "FILEKEY" and config["region"] == "eu-west-1"
    assert config["virtual_hosted_style_request"] is True
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-456")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    config = s3_config(settings.storage)
    assert (config["access_key_id"], config["secret_access_key"]) == ("ENVKEY", "env-secret-456")
    assert config["region"] == "us-west-2"
    assert "env-secret-456" in load_settings().secret_values()
    store = open_asset_store(settings.storage)
    assert isinstance(store, ObjectAssetStore) and store.url == "s3://team/images"
    assert "secret" not in store.url


def test_gcs_urls_make_a_gcs_store_that_can_sign(home: Path, tmp_path: Path) -> None:
    from obstore.store import GCSStore

    store = open_asset_store(StorageSection(url="gs://bucket/pre"))
    assert isinstance(store, ObjectAssetStore) and isinstance(store.store, GCSStore)
    memory = open_asset_store(StorageSection(url="memory://links"))
    assert memory.sign_url("ab/" + "ab" * 32 + ".png", timedelta(hours=1)) is None


def test_bad_file_urls_are_refused(home: Path) -> None:
    with pytest.raises(ConfigError, match="local folder"):
        open_asset_store(StorageSection(url="file://otherhost/x"))
    store = open_asset_store(StorageSection(url=f"file://{home / 'elsewhere'}"))
    assert store.root == home / "elsewhere" and not store.is_remote
    assert store.url == (home / "elsewhere").as_uri()


def test_set_string_edits_one_key_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    set_string(path, "storage", "url", "s3://a/b")
    assert tomllib.loads(path.read_text()) == {"storage": {"url": "s3://a/b"}}
    path.write_text('# mine\ntheme = "x"\n\n[storage]\ncache_mb = 5\nurl = "old"\n\n'
                    '[validation]\nenabled = []\n')
    set_string(path, "storage", "url", 'gs://c/"d"')
    text = path.read_text()
    assert text.startswith("# mine\n")
    assert tomllib.loads(text) == {"theme": "x", "storage": {"cache_mb": 5, "url": 'gs://c/"d"'},
                                   "validation": {"enabled": []}}
    path.write_text('[validation]\nenabled = []\n')
    set_string(path, "storage", "url", "memory://")
    assert tomllib.loads(path.read_text())["storage"] == {"url": "memory://"}


def test_a_secret_in_the_file_is_a_secret_str(config_file: Path) -> None:
    config_file.write_text('[storage]\nsecret_access_key = "abc"\n')
    secret = load_settings().storage.secret_access_key
    assert isinstance(secret, SecretStr) and str(secret) == "**********"
