"""What both clients share: the request of every endpoint, errors, retries.

numpy is optional: arrays and numpy numbers are sent as JSON lists and numbers (anything with
``tolist``), and a matrix whose ``p`` or ``q`` is a numpy array goes as one ``.npy`` body. The
client never imports numpy itself: a caller who passes an array has imported it already.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel

from divergence_client.catalogue import Measure
from divergence_client.models.drift import CheckList, DriftCheck, Reference, ReferenceList
from divergence_client.models.estimators import (
    DivergenceEstimateResponse,
    EntropyEstimateResponse,
    KnnDivergenceResponse,
    KnnEntropyResponse,
    MutualInformationEstimateResponse,
)
from divergence_client.models.experiments import DatasetList, Experiment, ExperimentList
from divergence_client.models.joint import ConditionalInformationResponse, JointInformationResponse
from divergence_client.models.losses import LossResponse
from divergence_client.models.matrix import MatrixResponse, NearestResponse
from divergence_client.models.modelfit import ModelFitResponse
from divergence_client.models.parametric import ParametricResponse
from divergence_client.models.problems import Problem
from divergence_client.models.samples import HistogramResponse, SampleCompareResponse

__all__ = [
    "Call",
    "DivergenceError",
    "Event",
    "backoff",
    "read",
    "with_key",
]

RETRY_STATUSES = (429, 503)


class DivergenceError(Exception):
    """An error answer from the service; ``problem`` is its problem+json document."""

    def __init__(self, status: int, problem: Problem | None, text: str) -> None:
        self.status = status
        self.problem = problem
        detail = problem.detail if problem is not None else text[:200]
        super().__init__(f"{status}: {detail}")

    @property
    def errors(self) -> list[dict[str, Any]]:
        if self.problem is None or self.problem.errors is None:
            return []
        return [e.model_dump() for e in self.problem.errors]


@dataclass(frozen=True)
class Call:
    """One HTTP request, and how to read its answer."""

    method: str
    path: str
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    model: type[BaseModel] | None = None  # None: the raw body (bytes)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None  # a binary body (.npy) in place of json


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event of an experiment: ``progress`` (a dict: the epoch's metrics and
    ``progress``) or ``end`` (the job, an :class:`Experiment`); ``id`` is its number in the
    stream ("1", "2", ...)."""

    name: str
    data: Any
    id: str | None = None


def with_key(headers: dict[str, str] | None, api_key: str | None) -> dict[str, str]:
    """The request headers, with the API key as a bearer token when one is given."""
    merged = dict(headers or {})
    if api_key:
        merged["Authorization"] = f"Bearer {api_key}"
    return merged


def _plain(value: Any) -> Any:
    """numpy arrays and scalars to JSON-ready Python values (+inf as "Infinity", the
    service's spelling: JSON has no infinity)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and value == math.inf:
        return "Infinity"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in options.items() if v is not None}


def read(call: Call, response: httpx.Response) -> Any:
    """The parsed answer of ``call``, or DivergenceError."""
    if response.status_code >= 400:
        problem = None
        with contextlib.suppress(ValueError):
            problem = Problem.model_validate(response.json())
        raise DivergenceError(response.status_code, problem, response.text)
    if call.model is None:
        return response.content
    if response.status_code == 204:
        return None
    return call.model.model_validate_json(response.content)


def backoff(response: httpx.Response, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when the answer is not retried."""
    if response.status_code not in RETRY_STATUSES:
        return None
    after = response.headers.get("retry-after")
    if after is not None:
        try:
            return min(float(after), 60.0)
        except ValueError:
            pass
    return float(min(0.25 * 2**attempt, 8.0))


def measure(entry: Measure, distributions: tuple[Any, ...], options: dict[str, Any]) -> Call:
    """The request of one measure of the catalogue: p (and q) and the options."""
    body = {name: _plain(value) for name, value in zip(("p", "q"), distributions, strict=False)}
    return Call("POST", entry.route, {**body, **_options(options)}, model=entry.response)


def loss(path: str, labels: Any, predictions: Any, options: dict[str, Any]) -> Call:
    body = {"labels": _plain(labels), "predictions": _plain(predictions), **_options(options)}
    return Call("POST", f"/v1/losses/{path}", body, model=LossResponse)


def parametric(path: str, p: Any, q: Any, options: dict[str, Any]) -> Call:
    """A ``/v1/parametric/{path}`` request: laws as dicts (``{"family": "normal", ...}``)."""
    body = {"p": _plain(p), **({} if q is None else {"q": _plain(q)}), **_options(options)}
    return Call("POST", f"/v1/parametric/{path}", body, model=ParametricResponse)


def model_fit(body: dict[str, Any]) -> Call:
    return Call("POST", "/v1/model-fit", _options(body), model=ModelFitResponse)


def model_fit_plot(body: dict[str, Any], format: str) -> Call:
    return Call("POST", "/v1/model-fit/plot", _options(body), params={"format": format})


def binary_entropy_plot(unit: str, format: str) -> Call:
    return Call("GET", "/v1/plots/binary-entropy", params={"unit": unit, "format": format})


def submit(config: dict[str, Any]) -> Call:
    return Call("POST", "/v1/experiments", _options(config), model=Experiment)


def experiment(job_id: str, action: str = "") -> Call:
    if action == "cancel":
        return Call("POST", f"/v1/experiments/{job_id}/cancel", model=Experiment)
    if action == "delete":
        return Call("DELETE", f"/v1/experiments/{job_id}", model=Experiment)
    if action == "plot":
        return Call("GET", f"/v1/experiments/{job_id}/plot.svg")
    return Call("GET", f"/v1/experiments/{job_id}", model=Experiment)


def experiments(status: str | None, limit: int, cursor: str | None) -> Call:
    params = _options({"status": status, "limit": limit, "cursor": cursor})
    return Call("GET", "/v1/experiments", params=params, model=ExperimentList)


def datasets() -> Call:
    return Call("GET", "/v1/datasets", model=DatasetList)


def joint(path: str, table: Any, options: dict[str, Any]) -> Call:
    """``/v1/joint/{path}``: a table (or None, with paired samples among the options)."""
    model = JointInformationResponse if path == "information" else ConditionalInformationResponse
    return Call("POST", f"/v1/joint/{path}", _options({"table": table, **options}), model=model)


def samples(path: str, x: Any, y: Any, options: dict[str, Any]) -> Call:
    """``/v1/samples/{path}``: two samples and the options."""
    model = HistogramResponse if path == "histogram" else SampleCompareResponse
    body = {"x": _plain(x), "y": _plain(y), **_options(options)}
    return Call("POST", f"/v1/samples/{path}", body, model=model)


def matrix(p: Any, q: Any, measure: str, top_k: int | None, options: dict[str, Any]) -> Call:
    """``/v1/matrix``: JSON, or one .npy array (p, then q, stacked by rows; the options in the
    query string) when p or q is a numpy array."""
    model = MatrixResponse if top_k is None else NearestResponse
    given = _options({"measure": measure, "top_k": top_k, **options})
    np = sys.modules.get("numpy")  # a numpy array exists only where numpy was imported
    if np is None or not (isinstance(p, np.ndarray) or isinstance(q, np.ndarray)):
        body = {"p": _plain(p), **({} if q is None else {"q": _plain(q)}), **given}
        return Call("POST", "/v1/matrix", body, model=model)
    rows = np.asarray(p, dtype=np.float64)
    if q is not None:
        given["p_rows"] = rows.shape[0]
        rows = np.vstack([rows, np.asarray(q, dtype=np.float64)])
    smoothing = given.pop("smoothing", None) or {}
    given.update({f"smoothing_{k}": v for k, v in smoothing.items() if k != "method"})
    buffer = io.BytesIO()
    np.save(buffer, rows)
    headers = {"Content-Type": "application/x-npy"}
    content = buffer.getvalue()
    return Call("POST", "/v1/matrix", params=given, model=model, headers=headers, content=content)


ESTIMATES: dict[str, type[BaseModel]] = {
    "entropy": EntropyEstimateResponse,
    "divergence": DivergenceEstimateResponse,
    "mutual-information": MutualInformationEstimateResponse,
    "knn-entropy": KnnEntropyResponse,
    "knn-divergence": KnnDivergenceResponse,
}


def estimate(path: str, body: dict[str, Any]) -> Call:
    """``/v1/estimates/{path}``: the data (counts, a table or samples) and the options."""
    return Call("POST", f"/v1/estimates/{path}", _options(body), model=ESTIMATES[path])


# -- drift monitoring ----------------------------------------------------------------------

_REFERENCES = "/v1/drift/references"


def _drift_params(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}


def create_drift_reference(name: str, features: dict[str, Any], options: dict[str, Any]) -> Call:
    """``POST /v1/drift/references``: features as dicts (numpy arrays become lists)."""
    body = {"name": name, "features": _plain_tree(features), **_options(options)}
    return Call("POST", _REFERENCES, body, model=Reference)


def drift_references(limit: int, cursor: str | None) -> Call:
    params = _drift_params(limit=limit, cursor=cursor)
    return Call("GET", _REFERENCES, params=params, model=ReferenceList)


def drift_reference(name: str, version: int | None, delete: bool = False) -> Call:
    params = _drift_params(version=version)
    method = "DELETE" if delete else "GET"
    return Call(method, f"{_REFERENCES}/{name}", params=params, model=Reference)


def drift_check(name: str, window: dict[str, Any], options: dict[str, Any]) -> Call:
    version = options.pop("version", None)
    body = {"window": _plain_tree(window), **_options(options)}
    params = _drift_params(version=version)
    return Call("POST", f"{_REFERENCES}/{name}/checks", body, params=params, model=DriftCheck)


def drift_checks(name: str, since: str | None, limit: int, cursor: str | None) -> Call:
    params = _drift_params(since=since, limit=limit, cursor=cursor)
    return Call("GET", f"{_REFERENCES}/{name}/checks", params=params, model=CheckList)


def drift_plot(name: str, feature: str, format: str, limit: int) -> Call:
    params = {"feature": feature, "format": format, "limit": limit}
    return Call("GET", f"{_REFERENCES}/{name}/plot", params=params)


def _plain_tree(value: Any) -> Any:
    """Nested dicts and lists with numpy arrays in them, as JSON-ready values."""
    if isinstance(value, dict):
        return {k: _plain_tree(v) for k, v in value.items()}
    return _plain(value)
