"""The Python client, sync and async, against a live API and worker that the tests start."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator

import httpx
import pytest

from app.schemas.experiments import Experiment
from app.schemas.measures import DivergenceResponse
from divergence_client import AsyncDivergenceClient, DivergenceClient, DivergenceError
from tests.e2e.services import Services

TINY = {"dataset": "synthetic", "epochs": 2, "train_samples": 200, "test_samples": 40,
        "batch_size": 50}  # fmt: skip


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(tmp_path_factory.mktemp("client"))
    svc.start_api()
    svc.start_worker()
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def client(live: Services) -> Iterator[DivergenceClient]:
    with DivergenceClient(f"http://127.0.0.1:{live.port}") as c:
        yield c


def test_measures_are_typed_and_exact(client: DivergenceClient) -> None:
    kl = client.kl_divergence([0.5, 0.5], [0.9, 0.1], unit="bits")
    assert isinstance(kl, DivergenceResponse)
    assert kl.value == pytest.approx(0.5 * math.log2(0.5 / 0.9) + 0.5 * math.log2(0.5 / 0.1))
    assert client.kl_divergence([0.5, 0.5], [1.0, 0.0]).value == math.inf
    assert client.entropy({"a": 3, "b": 1}, normalize=True, unit="bits").value == pytest.approx(
        0.8112781244591328
    )
    assert client.information([0.5, 0.25, 0.25], unit="bits").value == [1.0, 2.0, 2.0]
    assert client.cross_entropy([[1, 0], [0.5, 0.5]], [0.5, 0.5], unit="bits").value == [1.0, 1.0]
    js = client.js_divergence([1, 0], [0, 1], unit="bits")
    assert (js.value, js.distance) == (1.0, 1.0)
    compare = client.compare([0.8, 0.2], [0.5, 0.5])
    assert compare.value.kl_pq != compare.value.kl_qp


def test_errors_carry_the_problem(client: DivergenceClient) -> None:
    with pytest.raises(DivergenceError) as caught:
        client.kl_divergence([0.5, -0.5], [0.5, 0.5])
    error = caught.value
    assert error.status == 422 and error.problem is not None
    assert error.problem.title == "Unprocessable Content"
    assert error.errors[0]["loc"] == ["body", "p", 1]
    with pytest.raises(DivergenceError) as missing:
        client.experiment("no-such-id")
    assert missing.value.status == 404


def test_fitting_losses_and_pictures(client: DivergenceClient) -> None:
    fit = client.model_fit(
        counts=[2, 3, 5, 14, 16, 15, 12, 8, 10, 8, 7], bootstrap={"resamples": 50}
    )
    assert fit.best == "poisson" and fit.models[0].interval is not None
    loss = client.loss("binary-cross-entropy", [1, 0], [0.8, 0.3], reduction="none")
    assert loss.per_sample == pytest.approx([-math.log(0.8), -math.log(0.7)])
    assert client.model_fit_plot(counts=[1, 2, 3]).startswith(b"<svg")
    assert client.binary_entropy_plot(format="png").startswith(b"\x89PNG")
    assert {d.name for d in client.datasets().items} >= {"synthetic", "cifar10"}


def test_submit_follow_wait_plot_delete(client: DivergenceClient) -> None:
    job = client.submit_experiment(**TINY)
    assert isinstance(job, Experiment) and job.status == "queued"
    events = list(client.follow(job.id))
    assert [e.name for e in events] == ["progress"] * 4 + ["end"]
    assert [e.data["progress"]["fraction"] for e in events[:4]] == [0.25, 0.5, 0.75, 1.0]
    end = events[-1].data
    assert isinstance(end, Experiment) and end.status == "succeeded"
    assert client.wait(job.id, poll=0.1).status == "succeeded"
    assert client.experiment_plot(job.id).startswith("<svg")
    assert job.id in {j.id for j in client.experiments(status="succeeded").items}
    with pytest.raises(DivergenceError) as conflict:
        client.cancel_experiment(job.id)
    assert conflict.value.status == 409
    client.delete_experiment(job.id)
    with pytest.raises(DivergenceError):
        client.experiment(job.id)


def test_cancel_a_queued_experiment(client: DivergenceClient, live: Services) -> None:
    first = client.submit_experiment(**{**TINY, "epochs": 30, "train_samples": 400})
    second = client.submit_experiment(**TINY)  # waits behind the first
    assert client.cancel_experiment(second.id).status == "cancelled"
    client.cancel_experiment(first.id)
    assert client.wait(first.id, poll=0.2, timeout=60).status == "cancelled"
    assert client.experiment(second.id).started_at is None


def test_async_client(live: Services) -> None:
    async def scenario() -> tuple[float, list[str], str]:
        async with AsyncDivergenceClient(f"http://127.0.0.1:{live.port}") as client:
            kl = await client.kl_divergence([0.5, 0.5], [0.25, 0.75], unit="bits")
            job = await client.submit_experiment(**{**TINY, "epochs": 1})
            names = [event.name async for event in client.follow(job.id)]
            done = await client.wait(job.id, poll=0.1)
            try:
                await client.entropy([])
            except DivergenceError as exc:
                assert exc.status == 422
            return float(kl.value), names, done.status  # type: ignore[arg-type]

    value, names, status = asyncio.run(scenario())
    assert value == pytest.approx(0.5 * math.log2(2) + 0.5 * math.log2(0.5 / 0.75))
    assert names == ["progress", "progress", "end"] and status == "succeeded"


def _flaky(statuses: list[int]) -> tuple[httpx.MockTransport, list[int]]:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses[min(len(seen), len(statuses) - 1)]
        seen.append(status)
        if status == 200:
            return httpx.Response(200, json={"status": "ok", "checks": {}})
        headers = {"retry-after": "0"} if status == 429 else {}
        problem = {"type": "about:blank", "title": "busy", "status": status, "detail": "busy",
                   "instance": request.url.path}  # fmt: skip
        return httpx.Response(status, json=problem, headers=headers)

    return httpx.MockTransport(handler), seen


def test_retries_429_and_503_with_backoff() -> None:
    from divergence_client._calls import Call

    transport, seen = _flaky([503, 429, 200])
    with DivergenceClient("http://service", transport=transport) as client:
        assert client.send(Call("GET", "/healthz")) is not None
    assert seen == [503, 429, 200]
    transport, seen = _flaky([503])
    client = DivergenceClient("http://service", transport=transport, max_retries=2)
    with client, pytest.raises(DivergenceError) as caught:
        client.send(Call("GET", "/healthz"))
    assert caught.value.status == 503 and seen == [503, 503, 503]
    transport, seen = _flaky([400])
    client = DivergenceClient("http://service", transport=transport)
    with client, pytest.raises(DivergenceError):
        client.send(Call("GET", "/healthz"))
    assert seen == [400]  # other errors are not retried
