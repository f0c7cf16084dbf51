"""The asynchronous client: the same endpoints as :class:`DivergenceClient`, awaitable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
from httpx_sse import aconnect_sse

from divergence_client import _calls as c
from divergence_client._calls import Call, Event, with_key
from divergence_client._events import MAX_RECONNECTS, STREAM_TIMEOUT, Resume
from divergence_client._measures import add_measure_methods
from divergence_client.models.drift import CheckList, DriftCheck, Reference, ReferenceList
from divergence_client.models.estimators import (
    DivergenceEstimateResponse,
    EntropyEstimateResponse,
    KnnDivergenceResponse,
    KnnEntropyResponse,
    MutualInformationEstimateResponse,
)
from divergence_client.models.experiments import FINISHED, DatasetList, Experiment, ExperimentList
from divergence_client.models.joint import ConditionalInformationResponse, JointInformationResponse
from divergence_client.models.losses import LossResponse
from divergence_client.models.matrix import MatrixResponse, NearestResponse
from divergence_client.models.modelfit import ModelFitResponse
from divergence_client.models.parametric import ParametricResponse
from divergence_client.models.samples import HistogramResponse, SampleCompareResponse

__all__ = ["AsyncDivergenceClient"]


class AsyncDivergenceClient:
    """The endpoints of :class:`DivergenceClient`, awaitable; the measure methods likewise
    made from the measure catalogue."""

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
                call.method,
                call.path,
                json=call.json,
                params=call.params,
                headers=call.headers,
                content=call.content,
            )
            wait = c.backoff(response, attempt)
            if wait is None or attempt >= self.max_retries:
                return c.read(call, response)
            attempt += 1
            await asyncio.sleep(wait)

    async def parametric_kl(self, p: Any, q: Any, **options: Any) -> ParametricResponse:
        """As :meth:`DivergenceClient.parametric_kl`."""
        call = c.parametric("kl-divergence", p, q, options)
        return cast(ParametricResponse, await self.send(call))

    async def parametric_cross_entropy(self, p: Any, q: Any, **options: Any) -> ParametricResponse:
        """As :meth:`DivergenceClient.parametric_cross_entropy`."""
        call = c.parametric("cross-entropy", p, q, options)
        return cast(ParametricResponse, await self.send(call))

    async def parametric_entropy(self, p: Any, **options: Any) -> ParametricResponse:
        """As :meth:`DivergenceClient.parametric_entropy`."""
        call = c.parametric("entropy", p, None, options)
        return cast(ParametricResponse, await self.send(call))

    async def model_fit(self, **body: Any) -> ModelFitResponse:
        return cast(ModelFitResponse, await self.send(c.model_fit(body)))

    async def model_fit_plot(self, format: str = "svg", **body: Any) -> bytes:
        return cast(bytes, await self.send(c.model_fit_plot(body, format)))

    async def binary_entropy_plot(self, unit: str = "bits", format: str = "svg") -> bytes:
        return cast(bytes, await self.send(c.binary_entropy_plot(unit, format)))

    async def loss(self, name: str, labels: Any, predictions: Any, **options: Any) -> LossResponse:
        return cast(LossResponse, await self.send(c.loss(name, labels, predictions, options)))

    # -- joint tables and samples -----------------------------------------------------------

    async def joint_information(
        self, table: Any = None, **options: Any
    ) -> JointInformationResponse:
        """I(X; Y), entropies, VI and normalised MI of a 2-D table, or of paired samples
        ``x=``, ``y=``; options ``unit``, ``normalize``, ``tolerance``."""
        call = c.joint("information", table, options)
        return cast(JointInformationResponse, await self.send(call))

    async def conditional_mutual_information(
        self, table: Any = None, **options: Any
    ) -> ConditionalInformationResponse:
        """I(X; Y | Z) of a 3-D table ``P[x][y][z]``, or of paired samples ``x=, y=, z=``."""
        call = c.joint("conditional-mutual-information", table, options)
        return cast(ConditionalInformationResponse, await self.send(call))

    async def histogram(self, x: Any, y: Any, **options: Any) -> HistogramResponse:
        """Both samples on one support; options ``edges``, ``bins``, ``rule``, ``kind``, ..."""
        return cast(HistogramResponse, await self.send(c.samples("histogram", x, y, options)))

    async def compare_samples(self, x: Any, y: Any, **options: Any) -> SampleCompareResponse:
        """Measures (``measures=[...]``) of x's distribution against y's, binned as by
        :meth:`histogram`."""
        return cast(SampleCompareResponse, await self.send(c.samples("compare", x, y, options)))

    async def matrix(
        self, p: Any, q: Any = None, *, measure: str, top_k: int | None = None, **options: Any
    ) -> MatrixResponse | NearestResponse:
        """As :meth:`DivergenceClient.matrix`."""
        call = c.matrix(p, q, measure, top_k, options)
        return cast(MatrixResponse | NearestResponse, await self.send(call))

    # -- estimators -------------------------------------------------------------------------

    async def estimate_entropy(self, counts: Any, **options: Any) -> EntropyEstimateResponse:
        """Entropy estimators of counts (an array or a label map); options ``method``
        (plugin, miller_madow, grassberger, chao_shen, nsb, or all), ``categories``, ``unit``."""
        call = c.estimate("entropy", {"counts": counts, **options})
        return cast(EntropyEstimateResponse, await self.send(call))

    async def estimate_divergence(
        self, p: Any, q: Any, **options: Any
    ) -> DivergenceEstimateResponse:
        """Plug-in KL or JS of two samples' counts with its bias and a bootstrap interval;
        options ``measure`` (kl, js), ``unit``, ``bootstrap`` (a dict: ``resamples``,
        ``confidence``, ``seed``, ``method``: percentile or bca)."""
        call = c.estimate("divergence", {"p": p, "q": q, **options})
        return cast(DivergenceEstimateResponse, await self.send(call))

    async def estimate_mutual_information(
        self, table: Any, **options: Any
    ) -> MutualInformationEstimateResponse:
        """Plug-in I(X;Y) of a 2-D table of counts, its bias and a bootstrap interval."""
        call = c.estimate("mutual-information", {"table": table, **options})
        return cast(MutualInformationEstimateResponse, await self.send(call))

    async def estimate_knn_entropy(self, x: Any, **options: Any) -> KnnEntropyResponse:
        """Kozachenko-Leonenko entropy of a 1-D or n x d sample; options ``k``, ``unit``."""
        call = c.estimate("knn-entropy", {"x": x, **options})
        return cast(KnnEntropyResponse, await self.send(call))

    async def estimate_knn_divergence(
        self, x: Any, y: Any, **options: Any
    ) -> KnnDivergenceResponse:
        """Wang-Kulkarni-Verdu k-NN estimate of D(P || Q) from samples ``x ~ P``, ``y ~ Q``."""
        call = c.estimate("knn-divergence", {"x": x, "y": y, **options})
        return cast(KnnDivergenceResponse, await self.send(call))

    # -- drift monitoring -------------------------------------------------------------------

    async def create_drift_reference(
        self, name: str, features: dict[str, Any], **options: Any
    ) -> Reference:
        """As :meth:`DivergenceClient.create_drift_reference`."""
        return cast(Reference, await self.send(c.create_drift_reference(name, features, options)))

    async def drift_references(self, limit: int = 20, cursor: str | None = None) -> ReferenceList:
        return cast(ReferenceList, await self.send(c.drift_references(limit, cursor)))

    async def drift_reference(self, name: str, version: int | None = None) -> Reference:
        return cast(Reference, await self.send(c.drift_reference(name, version)))

    async def delete_drift_reference(self, name: str, version: int | None = None) -> None:
        await self.send(c.drift_reference(name, version, delete=True))

    async def check_drift(self, name: str, window: dict[str, Any], **options: Any) -> DriftCheck:
        """As :meth:`DivergenceClient.check_drift`."""
        return cast(DriftCheck, await self.send(c.drift_check(name, window, options)))

    async def drift_checks(
        self, name: str, since: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> CheckList:
        return cast(CheckList, await self.send(c.drift_checks(name, since, limit, cursor)))

    async def drift_plot(
        self, name: str, feature: str, format: str = "svg", limit: int = 100
    ) -> bytes:
        return cast(bytes, await self.send(c.drift_plot(name, feature, format, limit)))

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
