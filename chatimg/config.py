"""Settings: defaults, then ``config.toml``, then ``CHATIMG_*`` environment variables.

A broken config file is reported as one line naming the file, the line and the key.
API keys are secrets: they are read from the environment or the config file and never written
anywhere else (not the database, not logs, not bundles).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from chatimg import paths
from chatimg.errors import ConfigError

#: Environment variables that hold provider keys, in lookup order, per provider.
KEY_ENV_VARS: dict[str, tuple[str, ...]] = {
    "ideogram": ("IDEOGRAM_API_KEY",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "openai": ("OPENAI_API_KEY",),
    "a1111": ("A1111_AUTH",),
    "comfyui": ("COMFYUI_API_KEY",),
    "ray": ("CHATIMG_RAY_TOKEN",),
}


class KeysSection(BaseModel):
    """API keys. Prefer environment variables; values here are secrets and are never stored."""

    model_config = ConfigDict(extra="forbid")

    ideogram: SecretStr | None = None
    """Ideogram ``Api-Key`` (env ``IDEOGRAM_API_KEY``)."""
    google: SecretStr | None = None
    """Gemini API key (env ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY``)."""
    openai: SecretStr | None = None
    """OpenAI or compatible server key (env ``OPENAI_API_KEY``)."""
    a1111: SecretStr | None = None
    """AUTOMATIC1111/Forge basic auth as ``user:password`` (env ``A1111_AUTH``)."""
    comfyui: SecretStr | None = None
    """Optional bearer token for a ComfyUI behind a proxy (env ``COMFYUI_API_KEY``)."""
    ray: SecretStr | None = None
    """The bearer token of chatimg's Ray Serve app (env ``CHATIMG_RAY_TOKEN``)."""


class ModelEntry(BaseModel):
    """One ``[models.NAME]`` table: a model the catalog offers, on a given engine."""

    model_config = ConfigDict(extra="allow")

    engine: str
    """Engine kind: ``layout``, ``diffusers``, ``ideogram``, ``google``, ``imagen``, ``openai``,
    ``comfyui``, ``a1111`` or a plugin's kind."""
    source: str | None = None
    """Hub id, local folder or single-file checkpoint (diffusers), or a workflow file (ComfyUI)."""
    model: str | None = None
    """The provider's model string for remote engines (e.g. ``V_2_TURBO``, ``gpt-image-2``)."""
    revision: str | None = None
    """Hub revision (branch, tag or commit) for diffusers models."""
    dtype: str | None = None
    """``float32``, ``float16`` or ``bfloat16``; default: fp32 on CPU, fp16 on GPU."""
    device: str | None = None
    """``cuda``, ``mps`` or ``cpu``; default: the best available."""
    scheduler: str | None = None
    """Scheduler class name, within the pipeline's compatible schedulers."""
    base_url: str | None = None
    """Server URL for remote and self-hosted engines."""
    cost_per_image: float | None = None
    """USD per image, recorded on each generation."""
    steps: int | None = None
    """Default number of inference steps."""
    guidance: float | None = None
    """Default guidance scale."""
    width: int | None = None
    """Default width in pixels."""
    height: int | None = None
    """Default height in pixels."""
    description: str | None = None
    """A short description shown in the model picker."""
    licence: str | None = None
    """The weights' licence (hub models), shown by ``chatimg models`` and the picker."""
    download_gb: float | None = None
    """About how many GB ``chatimg models pull`` fetches (fp16 files where the repo has them)."""


class RouteRule(BaseModel):
    """One routing rule: when the request matches, use ``model``."""

    model_config = ConfigDict(extra="forbid")

    when: Literal["quoted_text", "draft", "inpaint", "budget", "always"]
    """What the request needs."""
    model: str | None = None
    """The model to use when the rule matches (not needed for ``budget``)."""
    max_cost: float | None = None
    """For ``budget``: the most a message may cost, in USD (else the message's own budget)."""
    models: list[str] = Field(default_factory=list)
    """For ``budget``: the candidates (default: every model the policy names)."""


class RoutePolicy(BaseModel):
    """A ``[routes.NAME]`` table: ordered rules, a default and a fallback chain."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RouteRule] = Field(default_factory=list)
    """Checked in order; the first that matches picks the model."""
    default: str = "layout"
    """The model when no rule matches."""
    fallback: list[str] = Field(default_factory=list)
    """Models tried in order when the chosen one fails."""
    fallback_on_validation: bool = False
    """Also fall back when the image fails validation."""
    repair_on_validation: bool = False
    """When the chain ends on an image whose typography check failed, repair its text
    (``/fixtext``) as the chain's last step."""


class DiffusersSection(BaseModel):
    """Local diffusers pipelines."""

    model_config = ConfigDict(extra="forbid")

    memory_budget_gb: float = 12.0
    """Loaded pipelines are evicted, least recently used first, above this many GB."""
    device: str | None = None
    """Force a device for every local model (``cpu``, ``cuda``, ``mps``)."""
    threads: int | None = None
    """torch CPU threads; recorded in receipts (outputs differ slightly with the thread count)."""


class NetworkSection(BaseModel):
    """Remote engines."""

    model_config = ConfigDict(extra="forbid")

    connect_timeout: float = 10.0
    """Seconds to wait for a connection."""
    read_timeout: float = 120.0
    """Seconds to wait for a response."""
    max_retries: int = 3
    """Retries on 429, 5xx and connection errors."""
    max_retry_seconds: float = 60.0
    """Upper bound on the total time spent waiting between retries."""
    max_in_flight: int = 4
    """Requests in flight per provider (Ideogram counts images)."""


class RaySection(BaseModel):
    """``chatimg ray serve``: local diffusers models served by Ray Serve."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = None
    """An existing Ray cluster (``auto`` or ``ray://...``); default: start a local one."""
    host: str = "127.0.0.1"
    """Where the HTTP endpoint listens (``0.0.0.0`` exposes it: keep the token secret)."""
    port: int = Field(default=8000, ge=1, le=65535)
    route_prefix: str = "/chatimg"
    models: list[str] | None = None
    """Diffusers models to serve (default: every ``diffusers`` model of the config)."""
    families: dict[str, list[str]] = Field(default_factory=dict)
    """Deployment name → models; models not named here share the ``diffusers`` deployment."""
    num_gpus: float = Field(default=0.0, ge=0)
    """GPUs per replica (fractions share one GPU)."""
    num_cpus: float = Field(default=1.0, ge=0)
    """CPUs per replica."""
    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int = Field(default=1, ge=1)
    """Autoscaling bounds per deployment (equal: a fixed number of replicas)."""
    models_per_replica: int = Field(default=2, ge=1)
    """Models a replica keeps loaded (least recently used first out)."""
    request_timeout: float = Field(default=600.0, gt=0)
    """Seconds one request of ``bench --executor ray`` (model load included), or the checks of
    its images, may take on Ray; past it the result is recorded as failed (``--resume`` redoes
    it), so a hung replica cannot stall a bench."""
    check_cpus: float = Field(default=1.0, ge=0)
    """CPUs each check task (OCR and the other validators) of ``bench --executor ray`` asks
    Ray for; the checks run as Ray tasks beside the generation replicas."""


class ValidationSection(BaseModel):
    """Checks that run after each generation."""

    model_config = ConfigDict(extra="forbid")

    enabled: list[str] = Field(default_factory=lambda: ["blank", "size", "typography"])
    """Validator names to run after each generation."""
    typography_max_cer: float = 0.05
    """Typography passes when the character error rate is at most this (0.05: one wrong letter
    in a sign of up to 20 characters fails; OCR noise on longer text is tolerated)."""
    typography_strict: bool = False
    """Count text the prompt did not ask for (a tagline, small print) as typography errors;
    by default it is reported as ``extra`` and does not fail the check."""


class LimitsSection(BaseModel):
    """Bounds on what one request may ask for, so no input runs for minutes."""

    model_config = ConfigDict(extra="forbid")

    max_prompt_chars: int = Field(default=20_000, ge=1)
    """Longest prompt accepted, in characters (real prompts are far shorter)."""


class StorageSection(BaseModel):
    """Where images live: the content-addressed asset store and its local cache."""

    model_config = ConfigDict(extra="forbid")

    url: str = ""
    """``file:///folder`` (default: the data dir's ``assets``), ``s3://bucket/prefix``,
    ``gs://bucket/prefix`` or ``memory://`` (tests)."""
    endpoint: str | None = None
    """S3-compatible server URL (SeaweedFS, Garage, Ceph RGW); env ``AWS_ENDPOINT_URL``."""
    region: str | None = None
    """S3 region (env ``AWS_REGION``/``AWS_DEFAULT_REGION``; default ``us-east-1``)."""
    path_style: bool = False
    """Path-style requests (``endpoint/bucket/key``) instead of virtual-hosted buckets."""
    access_key_id: str | None = None
    """S3 access key id (env ``AWS_ACCESS_KEY_ID`` wins)."""
    secret_access_key: SecretStr | None = None
    """S3 secret key (env ``AWS_SECRET_ACCESS_KEY`` wins); a secret, never stored or shown."""
    service_account: str | None = None
    """GCS service-account JSON file (env ``GOOGLE_APPLICATION_CREDENTIALS``)."""
    cache_mb: int = Field(default=1024, ge=0)
    """Local copies of remote images are kept up to this many MB (oldest dropped first)."""
    concurrency: int = Field(default=16, ge=1, le=256)
    """Transfers in flight for ``chatimg storage migrate`` and bundle imports."""


class UiSection(BaseModel):
    """How the terminal app draws things."""

    model_config = ConfigDict(extra="forbid")

    image_max_columns: int = Field(default=120, ge=8, le=1000)
    """Widest a card image is drawn, in terminal columns (images otherwise take the width
    the card has, and about the thread's visible height)."""


class Settings(BaseSettings):
    """Everything chatimg can be told. Environment variables use the ``CHATIMG_`` prefix and
    ``__`` for nesting (``CHATIMG_NETWORK__READ_TIMEOUT=30``)."""

    model_config = SettingsConfigDict(
        env_prefix="CHATIMG_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    database_url: str | None = None
    """SQLAlchemy URL; default: SQLite in the data dir. ``postgresql+psycopg://...`` for teams."""
    default_model: str = "layout"
    """The model a new conversation starts on."""
    theme: str = "chatimg-dark"
    """The TUI theme."""
    keys: KeysSection = Field(default_factory=KeysSection)
    models: dict[str, ModelEntry] = Field(default_factory=dict)
    routes: dict[str, RoutePolicy] = Field(default_factory=dict)
    diffusers: DiffusersSection = Field(default_factory=DiffusersSection)
    network: NetworkSection = Field(default_factory=NetworkSection)
    ray: RaySection = Field(default_factory=RaySection)
    validation: ValidationSection = Field(default_factory=ValidationSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    storage: StorageSection = Field(default_factory=StorageSection)
    ui: UiSection = Field(default_factory=UiSection)
    keymap: dict[str, str] = Field(default_factory=dict)
    """Binding id → keys, e.g. ``send = "ctrl+s"``."""

    # Not a setting: where this came from, for messages.
    config_path: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init kwargs carry the parsed TOML file (see load_settings); env wins over it.
        return (env_settings, init_settings)

    def api_key(self, provider: str) -> str | None:
        """The key for ``provider`` from its environment variable, else from the config file."""
        for var in KEY_ENV_VARS.get(provider, ()):
            value = os.environ.get(var)
            if value:
                return value
        secret = getattr(self.keys, provider, None)
        return secret.get_secret_value() if secret is not None else None

    def secret_values(self) -> list[str]:
        """Every key currently known (env or config), so callers can scrub them from text."""
        found: list[str] = []
        for provider in KEY_ENV_VARS:
            value = self.api_key(provider)
            if value:
                found.append(value)
            secret = getattr(self.keys, provider, None)
            if secret is not None and secret.get_secret_value():
                found.append(secret.get_secret_value())
        storage_secret = self.storage.secret_access_key
        for value in (os.environ.get("AWS_SECRET_ACCESS_KEY"),
                      storage_secret.get_secret_value() if storage_secret else None):
            if value:
                found.append(value)
        return sorted(set(found), key=len, reverse=True)


def _toml_error_location(exc: tomllib.TOMLDecodeError) -> str:
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    return f"line {match.group(1)}" if match else "unknown line"


def key_location(path: Path | None, loc: tuple[int | str, ...]) -> str:
    """``FILE, line N`` for a key of a config file (just the file when the line is unknown)."""
    if path is None:
        return "config"
    try:
        line = _find_key_line(path.read_text(encoding="utf-8"), loc)
    except OSError:
        line = None
    return f"{path}, line {line}" if line else str(path)


def _find_key_line(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best effort: the line of ``loc`` (a pydantic error location) in TOML text."""
    keys = [str(part) for part in loc if not isinstance(part, int)]
    if not keys:
        return None
    table: list[str] = []
    leaf = keys[-1]
    wanted_tables = [keys[:i] for i in range(len(keys) - 1, -1, -1)]
    header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*(#.*)?$")
    assign = re.compile(r"^\s*([A-Za-z0-9_\-\".]+)\s*=")
    best: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        head = header.match(line)
        if head:
            table = [part.strip().strip('"') for part in head.group(1).split(".")]
            if table == keys:
                best = best or number
            continue
        found = assign.match(line)
        if not found:
            continue
        dotted = [part.strip().strip('"') for part in found.group(1).split(".")]
        full = table + dotted
        if full == keys:
            return number
        if full[-1] == leaf and any(full[: len(t)] == t for t in wanted_tables if t):
            best = best or number
    return best


def _describe_validation_error(exc: ValidationError, file: Path, text: str | None) -> str:
    first = exc.errors()[0]
    loc = tuple(first.get("loc", ()))
    key = ".".join(str(part) for part in loc) or "(top level)"
    reason = first.get("msg", "invalid value")
    if first.get("type") == "extra_forbidden":
        reason = "unknown key"
    line = _find_key_line(text, loc) if text is not None else None
    if text is not None and line is not None:
        return f"{file}: line {line}: key '{key}': {reason}"
    env_name = "CHATIMG_" + "__".join(str(part).upper() for part in loc)
    if env_name in os.environ:
        return f"environment variable {env_name}: {reason}"
    where = f"{file}: " if text is not None else ""
    return f"{where}key '{key}': {reason}"


def read_config_file(path: Path) -> tuple[dict[str, Any], str | None]:
    """Parse the TOML file at ``path``; a missing file is an empty config.

    Raises:
        ConfigError: the file cannot be read or is not valid TOML.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).split(" (at line")[0]
        raise ConfigError(
            f"{path}: {_toml_error_location(exc)}: invalid TOML: {message}",
            "fix the file or point CHATIMG_CONFIG at another one",
        ) from None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Build ``Settings`` from the config file and the environment.

    Args:
        path: The config file; default ``paths.config_file()``.
        **overrides: Values that win over the file (tests, CLI flags).

    Raises:
        ConfigError: with a one-line message naming the file, line and key.
    """
    file = path or paths.config_file()
    data, text = read_config_file(file)
    if not isinstance(data, dict):  # pragma: no cover - tomllib always gives a dict
        raise ConfigError(f"{file}: the config must be a TOML table")
    data = {**data, **overrides}
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(
            _describe_validation_error(exc, file, text),
            "see README.md, section Configuration",
        ) from None
    settings.config_path = file
    return settings
