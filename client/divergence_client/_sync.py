"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
from httpx_sse import connect_sse

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

__all__ = ["DivergenceClient"]


class DivergenceClient:
    """Every endpoint of the service. Options (``unit``, ``normalize``, ``tolerance``,
    ``smoothing``, ...) are keyword arguments named as in the API.

    The measures (``information``, ``entropy``, ``kl_divergence``, ... ``hellinger_distance``)
    are one method each, made from the measure catalogue (``divergence_client._measures``)."""

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
            time.sleep(wait)

    # -- model fitting, losses, pictures ----------------------------------------------------

    # -- parametric laws --------------------------------------------------------------------

    def parametric_kl(self, p: Any, q: Any, **options: Any) -> ParametricResponse:
        """D(P || Q) of laws given as dicts, e.g. ``{"family": "normal", "mean": 0, "std": 1}``;
        options ``unit``, ``draws``, ``seed`` (Monte Carlo, for mixtures), ``tolerance``."""
        return cast(ParametricResponse, self.send(c.parametric("kl-divergence", p, q, options)))

    def parametric_cross_entropy(self, p: Any, q: Any, **options: Any) -> ParametricResponse:
        """H(P, Q) = -E_P log q(X) of laws given as dicts; options as :meth:`parametric_kl`."""
        return cast(ParametricResponse, self.send(c.parametric("cross-entropy", p, q, options)))

    def parametric_entropy(self, p: Any, **options: Any) -> ParametricResponse:
        """H(P) of a law given as a dict (differential for densities: it can be negative)."""
        return cast(ParametricResponse, self.send(c.parametric("entropy", p, None, options)))

    def model_fit(self, **body: Any) -> ModelFitResponse:
        return cast(ModelFitResponse, self.send(c.model_fit(body)))

    def model_fit_plot(self, format: str = "svg", **body: Any) -> bytes:
        return cast(bytes, self.send(c.model_fit_plot(body, format)))

    def binary_entropy_plot(self, unit: str = "bits", format: str = "svg") -> bytes:
        return cast(bytes, self.send(c.binary_entropy_plot(unit, format)))

    def loss(self, name: str, labels: Any, predictions: Any, **options: Any) -> LossResponse:
        """``name``: binary-cross-entropy, categorical-cross-entropy or kl-divergence."""
        return cast(LossResponse, self.send(c.loss(name, labels, predictions, options)))

    # -- joint tables and samples -----------------------------------------------------------

    def joint_information(self, table: Any = None, **options: Any) -> JointInformationResponse:
        """I(X; Y), entropies, VI and normalised MI of a 2-D table, or of paired samples
        ``x=``, ``y=``; options ``unit``, ``normalize``, ``tolerance``."""
        call = c.joint("information", table, options)
        return cast(JointInformationResponse, self.send(call))

    def conditional_mutual_information(
        self, table: Any = None, **options: Any
    ) -> ConditionalInformationResponse:
        """I(X; Y | Z) of a 3-D table ``P[x][y][z]``, or of paired samples ``x=, y=, z=``."""
        call = c.joint("conditional-mutual-information", table, options)
        return cast(ConditionalInformationResponse, self.send(call))

    def histogram(self, x: Any, y: Any, **options: Any) -> HistogramResponse:
        """Both samples on one support; options ``edges``, ``bins``, ``rule``, ``kind``, ..."""
        return cast(HistogramResponse, self.send(c.samples("histogram", x, y, options)))

    def compare_samples(self, x: Any, y: Any, **options: Any) -> SampleCompareResponse:
        """Measures (``measures=[...]``) of x's distribution against y's, binned as by
        :meth:`histogram`."""
        return cast(SampleCompareResponse, self.send(c.samples("compare", x, y, options)))

    # -- matrices ---------------------------------------------------------------------------

    def matrix(
        self, p: Any, q: Any = None, *, measure: str, top_k: int | None = None, **options: Any
    ) -> MatrixResponse | NearestResponse:
        """``POST /v1/matrix``: ``measure(p_i, q_j)`` for every row of ``p`` and of ``q``
        (omitted: ``p`` itself) as a :class:`MatrixResponse`, or with ``top_k`` the nearest
        rows of ``q`` per row of ``p`` as a :class:`NearestResponse`. ``measure``:
        ``kl_divergence``, ``js_divergence``, ...; options ``unit``, ``normalize``,
        ``tolerance``, ``smoothing``. numpy arrays go as one ``.npy`` body."""
        call = c.matrix(p, q, measure, top_k, options)
        return cast(MatrixResponse | NearestResponse, self.send(call))

    # -- estimators -------------------------------------------------------------------------

    def estimate_entropy(self, counts: Any, **options: Any) -> EntropyEstimateResponse:
        """Entropy estimators of counts (an array or a label map); options ``method``
        (plugin, miller_madow, grassberger, chao_shen, nsb, or all), ``categories``, ``unit``."""
        call = c.estimate("entropy", {"counts": counts, **options})
        return cast(EntropyEstimateResponse, self.send(call))

    def estimate_divergence(self, p: Any, q: Any, **options: Any) -> DivergenceEstimateResponse:
        """Plug-in KL or JS of two samples' counts with its bias and a bootstrap interval;
        options ``measure`` (kl, js), ``unit``, ``bootstrap`` (a dict: ``resamples``,
        ``confidence``, ``seed``, ``method``: percentile or bca)."""
        call = c.estimate("divergence", {"p": p, "q": q, **options})
        return cast(DivergenceEstimateResponse, self.send(call))

    def estimate_mutual_information(
        self, table: Any, **options: Any
    ) -> MutualInformationEstimateResponse:
        """Plug-in I(X;Y) of a 2-D table of counts, its bias and a bootstrap interval."""
        call = c.estimate("mutual-information", {"table": table, **options})
        return cast(MutualInformationEstimateResponse, self.send(call))

    def estimate_knn_entropy(self, x: Any, **options: Any) -> KnnEntropyResponse:
        """Kozachenko-Leonenko entropy of a 1-D or n x d sample; options ``k``, ``unit``."""
        call = c.estimate("knn-entropy", {"x": x, **options})
        return cast(KnnEntropyResponse, self.send(call))

    def estimate_knn_divergence(self, x: Any, y: Any, **options: Any) -> KnnDivergenceResponse:
        """Wang-Kulkarni-Verdu k-NN estimate of D(P || Q) from samples ``x ~ P``, ``y ~ Q``."""
        call = c.estimate("knn-divergence", {"x": x, "y": y, **options})
        return cast(KnnDivergenceResponse, self.send(call))

    # -- drift monitoring -------------------------------------------------------------------

    def create_drift_reference(
        self, name: str, features: dict[str, Any], **options: Any
    ) -> Reference:
        """A reference (or its name's next version): features as
        ``{"kind": "numeric", "samples": [...]}`` or ``{"kind": "categorical", "counts":
        {...}}``; options ``thresholds``, ``description``."""
        return cast(Reference, self.send(c.create_drift_reference(name, features, options)))

    def drift_references(self, limit: int = 20, cursor: str | None = None) -> ReferenceList:
        return cast(ReferenceList, self.send(c.drift_references(limit, cursor)))

    def drift_reference(self, name: str, version: int | None = None) -> Reference:
        return cast(Reference, self.send(c.drift_reference(name, version)))

    def delete_drift_reference(self, name: str, version: int | None = None) -> None:
        self.send(c.drift_reference(name, version, delete=True))

    def check_drift(self, name: str, window: dict[str, Any], **options: Any) -> DriftCheck:
        """Check a window (per feature: a sample, or counts); options ``measures``,
        ``bootstrap`` (``{"resamples", "seed", "confidence"}``), ``smoothing``, ``version``."""
        return cast(DriftCheck, self.send(c.drift_check(name, window, options)))

    def drift_checks(
        self, name: str, since: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> CheckList:
        return cast(CheckList, self.send(c.drift_checks(name, since, limit, cursor)))

    def drift_plot(self, name: str, feature: str, format: str = "svg", limit: int = 100) -> bytes:
        return cast(bytes, self.send(c.drift_plot(name, feature, format, limit)))

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
