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
    keras_backend: Literal["tensorflow", "jax", "torch"] = Field(
        "tensorflow",
        description="Keras backend of the workers (KERAS_BACKEND): tensorflow (CPU, the "
        "default), or jax or torch for GPU workers, whose packages the worker's environment "
        "must have (a worker without them exits at start with status 2). The gradient check "
        "of an experiment needs tensorflow.",
    )
    worker_alive_file: Path | None = Field(
        None,
        description="A worker touches this file while alive (the health checks read it); "
        "default: worker.alive in data_dir, so instances on one host do not share one.",
    )
    embedded_worker: bool = Field(
        True, description="`python -m app` also starts one worker process."
    )
    kernel_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="Threads one large entropy, cross-entropy, KL or JS computation is split "
        "across (inputs of 2 x 2^18 numbers and more; numpy releases the GIL): 0 one per core, "
        "1 never split.",
    )
    blas_threads: int = Field(
        1,
        ge=1,
        le=256,
        description="BLAS threads of each API process (OPENBLAS_NUM_THREADS and the like, set "
        "by `python -m app` before numpy loads, unless the environment sets them): 1 lets "
        "concurrent matrix requests share the cores instead of fighting over them.",
    )
    api_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="API processes `python -m app` runs on the one port (uvicorn's workers, "
        "accepting from one shared socket). /metrics sums their request series; without Redis "
        "each keeps its own experiment rate limit (docs/deploy.md).",
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
    progress_interval: float = Field(
        1.0,
        ge=0,
        le=3600,
        description="Least seconds between a worker's progress reports within an epoch "
        "(0: before every batch); every epoch's end is reported too. No batch's metrics are "
        "read, so reporting forces no device sync.",
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
    max_estimator_work: int = Field(
        10**7,
        ge=1000,
        description="Largest bootstrap of one /v1/estimates request: resamples x categories "
        "(of both samples, or the table's cells), plus for BCa the jackknife's seen categories "
        "x categories (422 beyond); about a second per 10^7.",
    )
    max_nsb_distinct: int = Field(
        200,
        ge=1,
        description="Most distinct count values (of the counts above 0) NSB takes in one "
        "/v1/estimates/entropy request: 422 naming `counts` for method nsb, NSB skipped with a "
        "warning for method all. The cost grows linearly with them: up to about 5 s at 200 "
        "(2 busy cores).",
    )
    max_knn_values: int = Field(
        1_000_000,
        ge=100,
        description="Most numbers (points x dimension, x and y together) of one k-NN estimate "
        "(422 beyond).",
    )
    max_knn_k: int = Field(
        32,
        ge=1,
        description="Largest neighbour order k of a k-NN estimate (422 beyond); in d > 1 "
        "dimensions the cost grows as points x k (about 5 s at 5 x 10^5 points, k = 32).",
    )
    max_classes: int = Field(
        100_000, ge=2, description="Most classes (columns) a loss request may have (422 beyond)."
    )
    max_matrix_cells: int = Field(
        25_000_000,
        ge=1,
        description="Largest m x k (rows of p times rows of q) of one /v1/matrix request, "
        "top_k or not (413 beyond); the .npy answer takes 8 bytes a cell.",
    )
    max_matrix_json_cells: int = Field(
        1_000_000,
        ge=1,
        description="Largest /v1/matrix answer written as JSON, in values (m x k, or m x top_k "
        "with top_k; 413 beyond): about 20 bytes a value; larger answers as .npy.",
    )
    max_matrix_work: int = Field(
        4 * 10**9,
        ge=1,
        description="Largest m x k x n (pairs times events) of one /v1/matrix request "
        "(413 beyond): per 10^9, about 0.2 s for the BLAS measures (KL, Hellinger) and 10 s "
        "for JS on 2 cores.",
    )
    max_table_cells: int = Field(
        4_000_000,
        ge=4,
        description="Most cells of a joint table (the product of its sides; for label maps and "
        "paired samples, of their numbers of labels) (422 beyond; 413 for a larger .npy body).",
    )
    max_sample_size: int = Field(
        1_000_000,
        ge=2,
        description="Most values in one sample (x, y or z) of the samples and joint endpoints "
        "(422 beyond).",
    )
    max_bins: int = Field(
        10_000, ge=1, description="Most bins of the histograms of two samples (422 beyond)."
    )

    parametric_max_draws: int = Field(
        1_000_000,
        ge=1000,
        description="Most Monte Carlo draws of one /v1/parametric request (mixtures of "
        "normals; 422 beyond).",
    )
    parametric_max_work: int = Field(
        200_000_000,
        ge=1000,
        description="Largest Monte Carlo work of one /v1/parametric request: draws x mixture "
        "components (P and Q) x max(dimension^2, 8) (422 beyond); the default is about a "
        "second of one core.",
    )
    parametric_max_terms: int = Field(
        1_000_000,
        ge=1000,
        le=10**9,
        description="Most terms of an exact sum over an integer support (binomial, Poisson, "
        "geometric laws without a closed form; 422 beyond). At most 10^9, which keeps every "
        "summed k below 2^53 (exact in float64).",
    )
    parametric_max_dimension: int = Field(
        256,
        ge=2,
        description="Largest dimension of a multivariate normal (its covariance costs d^3) or "
        "a Dirichlet in /v1/parametric (422 beyond).",
    )

    max_epochs: int = Field(100, ge=1, description="Upper bound of an experiment's epochs.")
    max_train_samples: int = Field(60000, ge=10, description="Upper bound of train_samples.")
    max_test_samples: int = Field(10000, ge=10, description="Upper bound of test_samples.")
    max_batch_size: int = Field(4096, ge=1, description="Upper bound of batch_size.")
    max_repeats: int = Field(
        10,
        ge=1,
        le=100,
        description="Most seeds an experiment may train every loss under (repeats, or the "
        "length of seeds; 422 beyond).",
    )

    drift_max_features: int = Field(
        1000, ge=1, description="Most features of a drift reference or window (422 beyond)."
    )
    drift_max_samples: int = Field(
        1_000_000,
        ge=2,
        description="Most values (or labels) given for one feature of a drift reference or "
        "window (422 beyond).",
    )
    drift_max_bins: int = Field(
        1000, ge=1, description="Most bins (or labels) of one drift feature (422 beyond)."
    )
    drift_max_resamples: int = Field(
        10_000, ge=0, description="Most bootstrap resamples of one drift check (422 beyond)."
    )
    drift_max_bootstrap_work: int = Field(
        5_000_000,
        ge=1000,
        description="Largest bootstrap of one drift check: resamples x the slots (bins plus "
        "2, or labels plus 1, rounded up to a multiple of 4) of its features (422 beyond); "
        "about a second per 10^6.",
    )
    drift_max_references: int = Field(
        100,
        ge=1,
        description="Drift reference versions a client may store (409 beyond: delete some).",
    )
    drift_max_checks: int = Field(
        1000,
        ge=1,
        description="Checks kept per drift reference version: a new check drops the oldest.",
    )
    drift_metrics_max_series: int = Field(
        0,
        ge=0,
        description="Most drift series (reference x feature x measure) /metrics exports, the "
        "most recently checked references first; 0 (the default): none. /metrics needs no "
        "key: when on, anyone who reaches it sees every client's reference, feature and "
        "measure names, values and verdicts (owners as key fingerprints, or `anonymous` "
        "when keys are off, never addresses), so let only the scraper reach /metrics.",
    )

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
