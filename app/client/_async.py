"""The asynchronous client: the same endpoints as :class:`DivergenceClient`, awaitable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
from httpx_sse import aconnect_sse

from app.client import _calls as c
from app.client._calls import Call, Event, with_key
from app.client._events import MAX_RECONNECTS, STREAM_TIMEOUT, Resume
from app.client._measures import add_measure_methods
from app.schemas.experiments import FINISHED, DatasetList, Experiment, ExperimentList
from app.schemas.losses import LossResponse
from app.schemas.modelfit import ModelFitResponse

__all__ = ["AsyncDivergenceClient"]


class AsyncDivergenceClient:
    """The endpoints of :class:`DivergenceClient`, awaitable; the measure methods likewise
    made from the measure registry."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_retries = max_retries
        headers = with_key(headers, api_key)
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, headers=headers, transport=transport
        )

    async def __aenter__(self) -> AsyncDivergenceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call) -> Any:
        attempt = 0
        while True:
            response = await self._http.request(
                call.method, call.path, json=call.json, params=call.params, headers=call.headers
            )
            wait = c.backoff(response, attempt)
            if wait is None or attempt >= self.max_retries:
                return c.read(call, response)
            attempt += 1
            await asyncio.sleep(wait)

    async def model_fit(self, **body: Any) -> ModelFitResponse:
        return cast(ModelFitResponse, await self.send(c.model_fit(body)))

    async def model_fit_plot(self, format: str = "svg", **body: Any) -> bytes:
        return cast(bytes, await self.send(c.model_fit_plot(body, format)))

    async def binary_entropy_plot(self, unit: str = "bits", format: str = "svg") -> bytes:
        return cast(bytes, await self.send(c.binary_entropy_plot(unit, format)))

    async def loss(self, name: str, labels: Any, predictions: Any, **options: Any) -> LossResponse:
        return cast(LossResponse, await self.send(c.loss(name, labels, predictions, options)))

    async def datasets(self) -> DatasetList:
        return cast(DatasetList, await self.send(c.datasets()))

    async def submit_experiment(self, **config: Any) -> Experiment:
        return cast(Experiment, await self.send(c.submit(config)))

    async def experiment(self, job_id: str) -> Experiment:
        return cast(Experiment, await self.send(c.experiment(job_id)))

    async def experiments(
        self, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> ExperimentList:
        return cast(ExperimentList, await self.send(c.experiments(status, limit, cursor)))

    async def cancel_experiment(self, job_id: str) -> Experiment:
        return cast(Experiment, await self.send(c.experiment(job_id, "cancel")))

    async def delete_experiment(self, job_id: str) -> None:
        await self.send(c.experiment(job_id, "delete"))

    async def experiment_plot(self, job_id: str) -> str:
        return cast(bytes, await self.send(c.experiment(job_id, "plot"))).decode()

    async def follow(
        self, job_id: str, max_reconnects: int = MAX_RECONNECTS
    ) -> AsyncIterator[Event]:
        """The experiment's Server-Sent Events, reconnecting as :meth:`DivergenceClient.follow`
        does."""
        resume = Resume(job_id, max_reconnects)
        while True:
            error: httpx.TransportError | None = None
            try:
                async with aconnect_sse(
                    self._http, "GET", resume.path, headers=resume.headers(), timeout=STREAM_TIMEOUT
                ) as source:
                    if source.response.status_code >= 400:
                        await source.response.aread()
                        c.read(c.experiment(job_id), source.response)
                    resume.opened()
                    async for sse in source.aiter_sse():
                        event = resume.accept(sse)
                        if event is not None:
                            yield event
                        if resume.ended:
                            return
            except httpx.TransportError as exc:
                error = exc
            await asyncio.sleep(resume.lost(error))

    async def wait(
        self, job_id: str, poll: float = 1.0, timeout: float | None = None
    ) -> Experiment:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (job := await self.experiment(job_id)).status not in FINISHED:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"experiment {job_id} is still {job.status}")
            await asyncio.sleep(poll)
        return job


add_measure_methods(AsyncDivergenceClient, asynchronous=True)
