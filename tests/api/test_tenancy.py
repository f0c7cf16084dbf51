"""Tenants: a job belongs to the client that submitted it; admin keys see and change all."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.api.security import Caller, KeyGate, UnauthorizedError, identify
from app.config import Settings
from app.jobs.wiring import get_store
from app.main import create_app
from app.services.experiments import public_error

JOB = {"dataset": "synthetic", "epochs": 1}
ALPHA, BETA, ADMIN = {"x-api-key": "alpha"}, {"x-api-key": "beta"}, {"x-api-key": "root"}
TRACEBACK = (
    "OSError: [Errno 28] No space left on device: '/srv/divergence/data/ckpt/run.keras'\n"
    'Traceback (most recent call last):\n  File "/srv/divergence/app/worker/runner.py", line 9'
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        keras_home=tmp_path / "keras",
        api_keys="alpha,beta",
        admin_api_keys="root",
    )


@pytest.fixture
def keyed(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _submit(client: TestClient, headers: dict[str, str]) -> str:
    r = client.post("/v1/experiments", json=JOB, headers=headers)
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _ids(client: TestClient, headers: dict[str, str]) -> set[str]:
    r = client.get("/v1/experiments", headers=headers)
    assert r.status_code == 200
    return {job["id"] for job in r.json()["items"]}


def _without_id(body: dict[str, Any], job_id: str) -> dict[str, Any]:
    return {k: str(v).replace(job_id, "ID") for k, v in body.items()}


def test_a_client_sees_and_lists_only_its_own_jobs(keyed: TestClient) -> None:
    mine, theirs = _submit(keyed, ALPHA), _submit(keyed, BETA)
    assert _ids(keyed, ALPHA) == {mine}
    assert _ids(keyed, BETA) == {theirs}
    assert _ids(keyed, ADMIN) == {mine, theirs}
    assert keyed.get(f"/v1/experiments/{mine}", headers=ALPHA).json()["id"] == mine
    missing = "00000000-0000-0000-0000-000000000000"
    for method, template in [
        ("GET", "/v1/experiments/{}"),
        ("GET", "/v1/experiments/{}/events"),
        ("GET", "/v1/experiments/{}/plot.svg"),
        ("POST", "/v1/experiments/{}/cancel"),
        ("DELETE", "/v1/experiments/{}"),
    ]:
        other = keyed.request(method, template.format(theirs), headers=ALPHA)
        absent = keyed.request(method, template.format(missing), headers=ALPHA)
        assert other.status_code == absent.status_code == 404, (method, template)
        # the same answer as for an id that does not exist: existence is not revealed
        assert _without_id(other.json(), theirs) == _without_id(absent.json(), missing)
    # beta's job is untouched by alpha's attempts
    assert keyed.get(f"/v1/experiments/{theirs}", headers=BETA).json()["status"] == "queued"


def test_reads_need_a_key_when_keys_are_configured(keyed: TestClient) -> None:
    job_id = _submit(keyed, ALPHA)
    for path in ("", f"/{job_id}", f"/{job_id}/events", f"/{job_id}/plot.svg"):
        r = keyed.get(f"/v1/experiments{path}")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer"), path
        r = keyed.get(f"/v1/experiments{path}", headers={"x-api-key": "wrong"})
        assert r.status_code == 403, path


def test_an_admin_key_reads_cancels_and_deletes_every_job(keyed: TestClient) -> None:
    job_id = _submit(keyed, BETA)
    assert keyed.get(f"/v1/experiments/{job_id}", headers=ADMIN).status_code == 200
    r = keyed.post(f"/v1/experiments/{job_id}/cancel", headers=ADMIN)
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    assert keyed.delete(f"/v1/experiments/{job_id}", headers=ADMIN).status_code == 204
    assert keyed.get(f"/v1/experiments/{job_id}", headers=BETA).status_code == 404
    # an admin's own submissions are its own, not anybody else's
    own = _submit(keyed, ADMIN)
    assert _ids(keyed, ALPHA) == set() and own in _ids(keyed, ADMIN)


def test_worker_and_raw_error_are_for_admins_only(keyed: TestClient, settings: Settings) -> None:
    job_id = _submit(keyed, ALPHA)
    store = get_store(settings)
    assert store.claim(job_id, "gpu-host-7:4242") is not None
    assert store.finish(job_id, "gpu-host-7:4242", "failed", None, error=TRACEBACK)
    owner = keyed.get(f"/v1/experiments/{job_id}", headers=ALPHA).json()
    assert owner["worker"] is None
    assert owner["error"] == "OSError: [Errno 28] No space left on device: '<path>'"
    listed = keyed.get("/v1/experiments", headers=ALPHA).json()["items"][0]
    assert (listed["worker"], listed["error"]) == (None, owner["error"])
    admin = keyed.get(f"/v1/experiments/{job_id}", headers=ADMIN).json()
    assert admin["worker"] == "gpu-host-7:4242" and admin["error"] == TRACEBACK
    # the stream's final event carries the same reduced view
    stream = keyed.get(f"/v1/experiments/{job_id}/events", headers=ALPHA).text
    assert "gpu-host-7" not in stream and "/srv/" not in stream and "<path>" in stream


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (None, None),
        ("worker web-3:77 lost: no heartbeat for 4 s; requeued", "worker lost: no heartbeat for 4 s; requeued"),
        ("its worker shut down; requeued", "its worker shut down; requeued"),
        ("ValueError: x\n  File \"/a/b.py\"", "ValueError: x"),
        (
            "not in the Keras cache under /root/.keras/datasets; see https://example.org/a/b",
            "not in the Keras cache under <path>; see https://example.org/a/b",
        ),
        ("the ratio 1 / 2 and ~/secret/file", "the ratio 1 / 2 and <path>"),
        ("", ""),
    ],
)  # fmt: skip
def test_public_error_keeps_the_message_and_drops_paths(raw: str | None, shown: str | None) -> None:
    assert public_error(raw) == shown


def test_without_keys_each_address_is_a_client(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data", keras_home=tmp_path / "keras"))
    with (
        TestClient(app, client=("10.0.0.1", 5000)) as one,
        TestClient(app, client=("10.0.0.2", 5000)) as two,
    ):
        job_id = _submit(one, {})
        assert _ids(one, {}) == {job_id} and _ids(two, {}) == set()
        assert two.get(f"/v1/experiments/{job_id}").status_code == 404
        assert two.post(f"/v1/experiments/{job_id}/cancel").status_code == 404
        job = one.get(f"/v1/experiments/{job_id}").json()
        assert job["status"] == "queued" and job["worker"] is None
        assert one.post(f"/v1/experiments/{job_id}/cancel").status_code == 202


def test_identify_names_admins_and_compares_every_key(settings: Settings) -> None:
    assert identify(settings, "root", "10.0.0.1").admin
    alpha = identify(settings, "alpha", "10.0.0.1")
    assert alpha == identify(settings, "alpha", "10.0.0.9")  # the key, not the address
    assert not alpha.admin and alpha.owner.startswith("key:") and "alpha" not in alpha.owner
    assert Caller("ip:1.2.3.4").may_see("ip:1.2.3.4") and not Caller("a").may_see("b")
    assert Caller("a", admin=True).may_see(None)
    # admin keys alone turn keys on: nobody else gets in
    admins_only = Settings(data_dir=settings.data_dir, admin_api_keys="root")
    with pytest.raises(UnauthorizedError):
        identify(admins_only, None, "10.0.0.1")
    assert identify(admins_only, "root", "10.0.0.1").admin


def _gate_answer(settings: Settings, method: str, path: str, headers: list[Any]) -> Any:
    """Run one request through the gate alone; the body may not be read if it refuses."""
    sent: list[dict[str, Any]] = []
    reached: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    async def receive() -> dict[str, Any]:
        raise AssertionError("the gate read the body")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers,
             "client": ("10.0.0.1", 1), "query_string": b""}  # fmt: skip
    asyncio.run(KeyGate(inner, settings)(scope, receive, send))
    return (sent[0]["status"] if sent else None), reached


def test_the_gate_refuses_before_reading_the_body(settings: Settings) -> None:
    keyed = settings.model_copy(update={"numeric_access": "keyed"})
    for path in ("/v1/experiments", "/v1/losses/kl-divergence", "/v1/model-fit"):
        assert _gate_answer(keyed, "POST", path, []) == (401, [])
        wrong = [(b"authorization", b"Bearer nope")]
        assert _gate_answer(keyed, "POST", path, wrong) == (403, [])
        good = [(b"authorization", b"Bearer alpha")]
        assert _gate_answer(keyed, "POST", path, good) == (None, [path])
    assert _gate_answer(keyed, "DELETE", "/v1/experiments/x", []) == (401, [])
    # numeric endpoints are open unless DIVERGENCE_NUMERIC_ACCESS=keyed; reads pass to the route
    assert _gate_answer(settings, "POST", "/v1/model-fit", []) == (None, ["/v1/model-fit"])
    assert _gate_answer(settings, "GET", "/v1/experiments", []) == (None, ["/v1/experiments"])
    open_service = Settings(data_dir=settings.data_dir)
    assert _gate_answer(open_service, "POST", "/v1/experiments", []) == (None, ["/v1/experiments"])
