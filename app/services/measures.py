"""The numeric endpoints' work: prepared arrays in, response models out.

One function per entry of the measure registry (``app.measures``), named as the entry."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from app import infotheory as it
from app.schemas.common import MeasureOptions, UnitlessOptions
from app.schemas.measures import (
    CompareResponse,
    CompareValues,
    DivergenceResponse,
    EntropyResponse,
    InfiniteEvents,
    InformationResponse,
    JSResponse,
    PairRequest,
    SingleRequest,
    UnitlessPairRequest,
    ValueResponse,
)
from app.services.distributions import PreparedPair, prepare_pair, prepare_single

__all__ = [
    "bhattacharyya_coefficient",
    "compare",
    "cross_entropy",
    "entropy",
    "hellinger_distance",
    "information",
    "js_divergence",
    "kl_divergence",
    "neyman_chi_square",
    "pearson_chi_square",
    "total_variation",
]


def _echo(options: MeasureOptions) -> dict[str, Any]:
    return {"unit": options.unit, "normalized": options.normalize, "smoothing": options.smoothing}


def _unitless_echo(options: UnitlessOptions) -> dict[str, Any]:
    return {"normalized": options.normalize, "smoothing": options.smoothing}


def _plain(value: float | np.ndarray) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def _events(
    p: np.ndarray, q: np.ndarray, labels: list[str] | None, value: float | np.ndarray
) -> InfiniteEvents:
    """Events with p > 0 = q: indices (labels for label maps); one list per row for a batch.

    Looked for only when some value is infinite: a finite value has none."""
    if isinstance(value, float) and not math.isinf(value):
        return []
    if not np.isinf(value).any():
        if p.ndim == 1 and q.ndim == 1:
            return []
        no_rows: list[list[int]] = [[] for _ in range(np.shape(value)[0])]
        return no_rows
    rows = it.infinite_events(p, q)
    if labels is not None:
        return [labels[i] for i in rows[0]]
    if p.ndim == 1 and q.ndim == 1:
        return rows[0]
    return rows


def information(request: SingleRequest) -> InformationResponse:
    prepared = prepare_single(request.p, request)
    value = it.self_information(prepared.p, request.unit)
    return InformationResponse(value=value.tolist(), labels=prepared.labels, **_echo(request))


def entropy(request: SingleRequest) -> EntropyResponse:
    prepared = prepare_single(request.p, request)
    return EntropyResponse(value=_plain(it.entropy(prepared.p, request.unit)), **_echo(request))


def _pair(request: PairRequest | UnitlessPairRequest) -> PreparedPair:
    return prepare_pair(request.p, request.q, request)


def cross_entropy(request: PairRequest) -> DivergenceResponse:
    pair = _pair(request)
    value = it.cross_entropy(pair.p, pair.q, request.unit)
    events = _events(pair.p, pair.q, pair.labels, value)
    return DivergenceResponse(value=_plain(value), infinite_events=events, **_echo(request))


def kl_divergence(request: PairRequest) -> DivergenceResponse:
    pair = _pair(request)
    value = it.kl_divergence(pair.p, pair.q, request.unit)
    events = _events(pair.p, pair.q, pair.labels, value)
    return DivergenceResponse(value=_plain(value), infinite_events=events, **_echo(request))


def js_divergence(request: PairRequest) -> JSResponse:
    pair = _pair(request)
    value = it.js_divergence(pair.p, pair.q, request.unit)
    distance = np.sqrt(value) if isinstance(value, np.ndarray) else float(np.sqrt(value))
    return JSResponse(value=_plain(value), distance=_plain(distance), **_echo(request))


def compare(request: PairRequest) -> CompareResponse:
    pair = _pair(request)
    p, q, unit = pair.p, pair.q, request.unit
    js = it.js_divergence(p, q, unit)
    kl_pq, kl_qp = it.kl_divergence(p, q, unit), it.kl_divergence(q, p, unit)
    values = CompareValues(
        entropy_p=_plain(it.entropy(p, unit)),
        entropy_q=_plain(it.entropy(q, unit)),
        cross_entropy_pq=_plain(it.cross_entropy(p, q, unit)),
        cross_entropy_qp=_plain(it.cross_entropy(q, p, unit)),
        kl_pq=_plain(kl_pq),
        kl_qp=_plain(kl_qp),
        js_divergence=_plain(js),
        js_distance=_plain(np.sqrt(js)),
    )
    return CompareResponse(
        value=values,
        infinite_events_pq=_events(p, q, pair.labels, kl_pq),
        infinite_events_qp=_events(q, p, pair.labels, kl_qp),
        **_echo(request),
    )


def _unitless_pair(
    kernel: Callable[[Any, Any], Any],
) -> Callable[[UnitlessPairRequest], ValueResponse]:
    """The service function of a unitless pair measure: prepare the pair, apply ``kernel``."""

    def measure(request: UnitlessPairRequest) -> ValueResponse:
        pair = _pair(request)
        return ValueResponse(value=_plain(kernel(pair.p, pair.q)), **_unitless_echo(request))

    return measure


hellinger_distance = _unitless_pair(it.hellinger_distance)
total_variation = _unitless_pair(it.total_variation)
bhattacharyya_coefficient = _unitless_pair(it.bhattacharyya_coefficient)
pearson_chi_square = _unitless_pair(it.pearson_chi_square)
neyman_chi_square = _unitless_pair(it.neyman_chi_square)
