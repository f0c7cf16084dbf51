"""Service settings: one ``Settings`` class, read from ``DIVERGENCE_*`` environment variables.

Bad values (a port out of range, an unknown log level, a malformed database or queue URL)
are refused when the settings are read, so a misconfigured service fails at start with a
message that names the variable.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.catalog import default_data_dirs

__all__ = ["Settings", "get_settings", "settings_or_exit"]


class Settings(BaseSettings):
    """Every knob of the service, with its default."""

    model_config = SettingsConfigDict(env_prefix="DIVERGENCE_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port the API listens on.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="Log level of the API and the worker."
    )
    access_log: bool = Field(
        False,
        description="One log line per request (uvicorn's access log). Off by default, as in "
        "gunicorn: /metrics counts every request, and the lines cost about a third of "
        "small-request throughput.",
    )
    default_tolerance: float = Field(
        1e-6, ge=0.0, le=0.5, description="Allowed |sum - 1| when a request gives none."
    )

    data_dir: Path = Field(
        Path("data"), description="Directory of the embedded job database and queue."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the job records; default: SQLite file in data_dir.",
    )
    queue_url: str | None = Field(
        None,
        description="redis://... for RedisHuey; default: SqliteHuey file in data_dir.",
    )
    queue_name: str = Field(
        "divergence",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Name of the queue: its Redis key prefix, or its SQLite table's name.",
    )
    keras_home: Path = Field(
        Path("~/.keras"), description="Keras cache (KERAS_HOME); data sets live in datasets/."
    )
    data_dirs: str | None = Field(
        None,
        description="Comma-separated directories searched in order for the data sets' files "
        "(Debian's layout, fashion-mnist/*.gz, or Keras' cache layout); default: "
        "/usr/share/datasets, then datasets/ in keras_home.",
    )
    worker_alive_file: Path | None = Field(
        None,
        description="A worker touches this file while alive (the health checks read it); "
        "default: worker.alive in data_dir, so instances on one host do not share one.",
    )
    embedded_worker: bool = Field(
        True, description="`python -m app` also starts one worker process."
    )

    body_read_timeout: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Seconds a client may take to send a request body (408 beyond).",
    )
    max_json_bytes: int = Field(
        64 * 2**20, ge=1024, description="Largest JSON request body, in bytes (413 beyond)."
    )
    max_binary_bytes: int = Field(
        512 * 2**20, ge=1024, description="Largest application/x-npy body, in bytes (413 beyond)."
    )
    max_document_bytes: int = Field(
        4 * 2**20,
        ge=1024,
        description=(
            "Largest JSON body of the endpoints that take a JSON document rather than arrays "
            "(losses, model fit, experiments), in bytes (413 beyond): such bodies become "
            "Python objects."
        ),
    )
    api_keys: str = Field(
        "", description="Comma-separated API keys; empty (and no key file): no keys needed."
    )
    api_keys_file: Path | None = Field(None, description="A file of API keys, one per line.")
    admin_api_keys: str = Field(
        "",
        description="Comma-separated admin keys: valid keys that see and change every "
        "client's experiments.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses whose X-Forwarded-For/-Proto headers are "
        "believed; empty: none, the peer address is the client.",
    )
    numeric_access: Literal["open", "keyed"] = Field(
        "open", description="Whether the numeric endpoints need a key too."
    )
    experiment_rate_per_minute: int = Field(
        30, ge=1, description="Experiments a client may submit a minute (429 beyond)."
    )
    max_queued_per_client: int = Field(
        20, ge=1, description="Queued experiments a client may have at once (429 beyond)."
    )
    heartbeat_interval: float = Field(
        2.0, gt=0, le=60, description="Seconds between a running job's heartbeats."
    )
    heartbeat_timeout: float = Field(
        30.0, gt=0, le=3600, description="A running job silent this long is reaped."
    )
    max_attempts: int = Field(
        2, ge=1, le=10, description="Runs a job gets before a lost worker fails it."
    )

    db_connect_timeout: float = Field(
        3.0, gt=0, le=60, description="Seconds to wait for the job database or Redis to connect."
    )
    dependency_retry_after: int = Field(
        5, ge=1, le=3600, description="Retry-After (seconds) of a 503 when a dependency is down."
    )
    max_bootstrap_work: int = Field(
        10**7,
        ge=1000,
        description="Largest support size x bootstrap resamples of one model fit (422 beyond).",
    )
    max_classes: int = Field(
        100_000, ge=2, description="Most classes (columns) a loss request may have (422 beyond)."
    )

    max_epochs: int = Field(100, ge=1, description="Upper bound of an experiment's epochs.")
    max_train_samples: int = Field(60000, ge=10, description="Upper bound of train_samples.")
    max_test_samples: int = Field(10000, ge=10, description="Upper bound of test_samples.")
    max_batch_size: int = Field(4096, ge=1, description="Upper bound of batch_size.")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {exc}") from None
        return value

    @field_validator("queue_url")
    @classmethod
    def _queue_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("the queue URL must start with redis://, rediss:// or unix://")
        return value

    @field_validator("api_keys_file")
    @classmethod
    def _key_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'jobs.db'}"

    @property
    def alive_file(self) -> Path:
        """The worker's sign-of-life file (``worker_alive_file``, else one per data dir)."""
        if self.worker_alive_file is not None:
            return self.worker_alive_file
        return self.data_dir.resolve() / "worker.alive"

    @property
    def keras_cache(self) -> Path:
        return self.keras_home.expanduser()

    @property
    def dataset_dirs(self) -> tuple[Path, ...]:
        """Where data set files are looked for, in order (``data_dirs``, else the default)."""
        if self.data_dirs is None:
            return default_data_dirs(self.keras_cache)
        return tuple(Path(d.strip()).expanduser() for d in self.data_dirs.split(",") if d.strip())


def settings_or_exit() -> Settings:
    """The settings, or a one-line message per bad variable and exit status 2 (for mains)."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            variable = f"DIVERGENCE_{field.upper()}"
            got = os.environ.get(variable, "")
            print(f"configuration error: {variable}={got!r}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()


_TABLE_START, _TABLE_END = "<!-- settings table: make docs -->", "<!-- end of settings table -->"


def settings_table() -> str:
    """Every setting as a Markdown table row: variable, default, description."""

    def shown(value: object) -> str:
        if value is None:
            return "none"
        if value == "":
            return "empty"
        if isinstance(value, bool):
            return f"`{str(value).lower()}`"
        return f"`{value}`"

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `DIVERGENCE_{name.upper()}` | {shown(field.default)} | {meaning} |")
    return "\n".join(rows)


def between_markers(document: str, start: str, end: str, table: str) -> str:
    """``document`` with the text between ``start`` and ``end`` replaced by ``table`` (the
    generated tables of the docs: settings here, measures in ``app.measures``)."""
    head, _, rest = document.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{table}\n{end}{tail}"


def with_settings_table(document: str) -> str:
    """``document`` with the text between its settings-table markers replaced by the table."""
    return between_markers(document, _TABLE_START, _TABLE_END, settings_table())


if __name__ == "__main__":  # `make docs`: python -m app.config FILE rewrites FILE's table
    target = Path(sys.argv[1])
    target.write_text(with_settings_table(target.read_text()))
