"""API fuzzing: schemathesis against the app's own OpenAPI document, every operation, a fixed
seed and a bounded number of examples. No 5xx, every answer conforms to the schema (status,
content type, body, headers), and data that breaks the schema is refused."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.config import Settings
from app.main import create_app

DATA = Path(__file__).resolve().parent / ".fuzz-data"
KEY = "fuzz-key"

app = create_app(
    Settings(
        data_dir=DATA,
        keras_home=DATA / "keras",
        experiment_rate_per_minute=10**6,
        max_queued_per_client=10**6,
        api_keys=KEY,
        numeric_access="keyed",
    )
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

# Following a job's events waits for it to end, and no worker runs here; its other behaviour
# is covered by the end-to-end tests.
schema = schema.exclude(path_regex=r".*/events$")


@pytest.fixture(scope="module", autouse=True)
def _clean_data() -> object:
    yield
    import shutil

    shutil.rmtree(DATA, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api(case: schemathesis.Case) -> None:
    # Every default check but "schema-valid data is accepted": the schema cannot say that a
    # distribution must sum to 1, so such requests rightly get 422.
    # Keys are configured, so the checks that send wrong or no credentials expect 401/403.
    case.call_and_validate(headers={"X-API-Key": KEY}, excluded_checks=[positive_data_acceptance])
