"""X-Forwarded-For is believed only from configured proxies: a client cannot dodge the
per-client rate limit by inventing addresses."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.services import Services

BODY = {"dataset": "synthetic", "epochs": 1, "train_samples": 100, "test_samples": 20}


def _submit_as(svc: Services, address: str) -> int:
    r = svc.http.post("/v1/experiments", json=BODY, headers={"x-forwarded-for": address})
    return r.status_code


def test_forwarded_for_is_ignored_by_default(tmp_path: Path) -> None:
    svc = Services(tmp_path, DIVERGENCE_EXPERIMENT_RATE_PER_MINUTE="2")
    try:
        svc.start_api()
        codes = [_submit_as(svc, f"203.0.113.{i}") for i in range(3)]
        # three invented addresses, one real client: the third submit is over the limit
        assert codes == [202, 202, 429]
    finally:
        svc.close()


def test_forwarded_for_is_believed_from_a_configured_proxy(tmp_path: Path) -> None:
    svc = Services(
        tmp_path,
        DIVERGENCE_EXPERIMENT_RATE_PER_MINUTE="2",
        DIVERGENCE_TRUSTED_PROXIES="127.0.0.1",
    )
    try:
        svc.start_api()
        # behind a trusted proxy each forwarded address is a client of its own ...
        assert [_submit_as(svc, f"203.0.113.{i}") for i in range(3)] == [202, 202, 202]
        # ... and one forwarded address still meets the limit
        assert [_submit_as(svc, "198.51.100.7") for _ in range(3)] == [202, 202, 429]
    finally:
        svc.close()
