"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
from httpx_sse import connect_sse

from app.client import _calls as c
from app.client._calls import Call, Event, with_key
from app.client._events import MAX_RECONNECTS, STREAM_TIMEOUT, Resume
from app.client._measures import add_measure_methods
from app.schemas.experiments import FINISHED, DatasetList, Experiment, ExperimentList
from app.schemas.losses import LossResponse
from app.schemas.modelfit import ModelFitResponse

__all__ = ["DivergenceClient"]


class DivergenceClient:
    """Every endpoint of the service. Options (``unit``, ``normalize``, ``tolerance``,
    ``smoothing``, ...) are keyword arguments named as in the API.

    The measures (``information``, ``entropy``, ``kl_divergence``, ... ``hellinger_distance``)
    are one method each, made from the measure registry (``app.client._measures``)."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_retries = max_retries
        headers = with_key(headers, api_key)
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, headers=headers, transport=transport
        )

    def __enter__(self) -> DivergenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call) -> Any:
        """Send one request, retrying 429 and 503 with backoff; parse or raise."""
        attempt = 0
        while True:
            response = self._http.request(
                call.method, call.path, json=call.json, params=call.params, headers=call.headers
            )
            wait = c.backoff(response, attempt)
            if wait is None or attempt >= self.max_retries:
                return c.read(call, response)
            attempt += 1
            time.sleep(wait)

    # -- model fitting, losses, pictures ----------------------------------------------------

    def model_fit(self, **body: Any) -> ModelFitResponse:
        return cast(ModelFitResponse, self.send(c.model_fit(body)))

    def model_fit_plot(self, format: str = "svg", **body: Any) -> bytes:
        return cast(bytes, self.send(c.model_fit_plot(body, format)))

    def binary_entropy_plot(self, unit: str = "bits", format: str = "svg") -> bytes:
        return cast(bytes, self.send(c.binary_entropy_plot(unit, format)))

    def loss(self, name: str, labels: Any, predictions: Any, **options: Any) -> LossResponse:
        """``name``: binary-cross-entropy, categorical-cross-entropy or kl-divergence."""
        return cast(LossResponse, self.send(c.loss(name, labels, predictions, options)))

    # -- experiments ------------------------------------------------------------------------

    def datasets(self) -> DatasetList:
        return cast(DatasetList, self.send(c.datasets()))

    def submit_experiment(self, **config: Any) -> Experiment:
        return cast(Experiment, self.send(c.submit(config)))

    def experiment(self, job_id: str) -> Experiment:
        return cast(Experiment, self.send(c.experiment(job_id)))

    def experiments(
        self, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> ExperimentList:
        return cast(ExperimentList, self.send(c.experiments(status, limit, cursor)))

    def cancel_experiment(self, job_id: str) -> Experiment:
        return cast(Experiment, self.send(c.experiment(job_id, "cancel")))

    def delete_experiment(self, job_id: str) -> None:
        self.send(c.experiment(job_id, "delete"))

    def experiment_plot(self, job_id: str) -> str:
        return cast(bytes, self.send(c.experiment(job_id, "plot"))).decode()

    def follow(self, job_id: str, max_reconnects: int = MAX_RECONNECTS) -> Iterator[Event]:
        """The experiment's Server-Sent Events: ``progress`` per epoch, then ``end``.

        A connection lost before ``end`` is reopened with ``Last-Event-ID``, so each event
        comes once, in order; after ``max_reconnects`` reconnects in a row without a new
        event the error is raised (an ``httpx.TransportError``).
        """
        resume = Resume(job_id, max_reconnects)
        while True:
            error: httpx.TransportError | None = None
            try:
                with connect_sse(
                    self._http, "GET", resume.path, headers=resume.headers(), timeout=STREAM_TIMEOUT
                ) as source:
                    if source.response.status_code >= 400:
                        source.response.read()
                        c.read(c.experiment(job_id), source.response)
                    resume.opened()
                    for sse in source.iter_sse():
                        event = resume.accept(sse)
                        if event is not None:
                            yield event
                        if resume.ended:
                            return
            except httpx.TransportError as exc:
                error = exc
            time.sleep(resume.lost(error))

    def wait(self, job_id: str, poll: float = 1.0, timeout: float | None = None) -> Experiment:
        """Poll until the experiment has finished; TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (job := self.experiment(job_id)).status not in FINISHED:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"experiment {job_id} is still {job.status}")
            time.sleep(poll)
        return job


add_measure_methods(DivergenceClient, asynchronous=False)
