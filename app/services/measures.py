"""The numeric endpoints' work: prepared arrays in, response models out.

One function per entry of the measure registry (``app.measures``), named as the entry."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from app import infotheory as it
from app.errors import InvalidInputError
from app.schemas.common import MeasureOptions, Unit, UnitlessOptions
from app.schemas.measures import (
    COMPARE_MEASURES,
    DEFAULT_COMPARE,
    CompareRequest,
    CompareResponse,
    CompareValues,
    DivergenceResponse,
    EntropyResponse,
    InfiniteEvents,
    InformationResponse,
    JSResponse,
    PairRequest,
    PsiResponse,
    RenyiDivergenceResponse,
    RenyiEntropyRequest,
    RenyiEntropyResponse,
    RenyiPairRequest,
    SingleRequest,
    SymmetricDivergenceResponse,
    TsallisDivergenceResponse,
    TsallisEntropyRequest,
    TsallisEntropyResponse,
    TsallisPairRequest,
    UnitlessDivergenceResponse,
    UnitlessPairRequest,
    UnitlessSingleRequest,
    ValueResponse,
    WassersteinRequest,
    WeightedJSRequest,
    WeightedJSResponse,
)
from app.services.distributions import PreparedPair, prepare_pair, prepare_single

__all__ = [
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "compare",
    "cross_entropy",
    "cross_perplexity",
    "entropy",
    "hellinger_distance",
    "information",
    "jeffreys_divergence",
    "js_divergence",
    "kl_divergence",
    "neyman_chi_square",
    "pearson_chi_square",
    "perplexity",
    "population_stability_index",
    "renyi_divergence",
    "renyi_entropy",
    "total_variation",
    "tsallis_divergence",
    "tsallis_entropy",
    "wasserstein_distance",
    "weighted_js_divergence",
]


def _echo(options: MeasureOptions) -> dict[str, Any]:
    return {"unit": options.unit, "normalized": options.normalize, "smoothing": options.smoothing}


def _unitless_echo(options: UnitlessOptions) -> dict[str, Any]:
    return {"normalized": options.normalize, "smoothing": options.smoothing}


def _plain(value: float | np.ndarray) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def _rows(p: np.ndarray, q: np.ndarray) -> int | None:
    """The rows of a batch answer, None for one pair."""
    return p.shape[0] if p.ndim == 2 else q.shape[0] if q.ndim == 2 else None


def _events_when(
    p: np.ndarray, q: np.ndarray, labels: list[str] | None, infinite: bool
) -> InfiniteEvents:
    """Events with p > 0 = q (labels for label maps; one list per row for a batch), looked
    for only when ``infinite``: an answer without an infinite value lists none."""
    rows = _rows(p, q)
    if not infinite:
        none: list[list[int]] = [] if rows is None else [[] for _ in range(rows)]
        return none
    found = it.infinite_events(p, q)
    if labels is not None:
        return [labels[i] for i in found[0]]
    return found[0] if rows is None else found


def _infinite(*values: float | np.ndarray) -> bool:
    for value in values:  # a float for one distribution: no numpy call for it
        if math.isinf(value) if isinstance(value, float) else bool(np.isinf(value).any()):
            return True
    return False


def _events(
    p: np.ndarray, q: np.ndarray, labels: list[str] | None, value: float | np.ndarray
) -> InfiniteEvents:
    """Events with p > 0 = q when ``value`` (or a row of it) is infinite, else none."""
    return _events_when(p, q, labels, _infinite(value))


def _either_events(
    p: np.ndarray, q: np.ndarray, labels: list[str] | None, value: float | np.ndarray
) -> InfiniteEvents:
    """Events where exactly one of p and q is 0, when ``value`` is infinite (symmetric
    measures: Jeffreys, PSI)."""
    if not _infinite(value):
        return _events_when(p, q, labels, False)
    one, other = _events_when(p, q, labels, True), _events_when(q, p, labels, True)
    if labels is not None:
        chosen = set(one) | set(other)
        return [label for label in labels if label in chosen]
    if _rows(p, q) is None:
        return sorted({*one, *other})
    return [sorted({*a, *b}) for a, b in zip(one, other, strict=True)]  # type: ignore[misc]


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


def _compare_values(
    name: str, p: np.ndarray, q: np.ndarray, unit: Unit
) -> tuple[float | np.ndarray, ...]:
    """The values of one measure of ``compare``, in the order of COMPARE_MEASURES[name]."""
    if name == "entropy":
        return it.entropy(p, unit), it.entropy(q, unit)
    if name in ("cross_entropy", "kl_divergence"):
        kernel = it.cross_entropy if name == "cross_entropy" else it.kl_divergence
        return kernel(p, q, unit), kernel(q, p, unit)
    if name == "js_divergence":
        js = it.js_divergence(p, q, unit)
        return js, np.sqrt(js) if isinstance(js, np.ndarray) else math.sqrt(js)
    if name in ("jeffreys_divergence", "bhattacharyya_distance"):
        return (_WITH_UNIT[name](p, q, unit),)
    if name in _ONE_WAY:
        return (_ONE_WAY[name](p, q),)
    if name == "perplexity":
        return it.perplexity(p), it.perplexity(q)
    return _BOTH_WAYS[name](p, q), _BOTH_WAYS[name](q, p)


_WITH_UNIT: dict[str, Callable[[Any, Any, Unit], Any]] = {
    "jeffreys_divergence": it.jeffreys_divergence,
    "bhattacharyya_distance": it.bhattacharyya_distance,
}
_ONE_WAY: dict[str, Callable[[Any, Any], Any]] = {
    "hellinger_distance": it.hellinger_distance,
    "total_variation": it.total_variation,
    "bhattacharyya_coefficient": it.bhattacharyya_coefficient,
    "population_stability_index": it.population_stability_index,
    "wasserstein_distance": it.wasserstein_distance,
}
_BOTH_WAYS: dict[str, Callable[[Any, Any], Any]] = {
    "pearson_chi_square": it.pearson_chi_square,
    "neyman_chi_square": it.neyman_chi_square,
    "cross_perplexity": it.cross_perplexity,
}


def compare(request: CompareRequest) -> CompareResponse:
    pair = _pair(request)
    p, q = pair.p, pair.q
    fields: dict[str, Any] = {}
    for name in dict.fromkeys(request.measures or DEFAULT_COMPARE):
        values = _compare_values(name, p, q, request.unit)
        fields.update(zip(COMPARE_MEASURES[name], values, strict=True))
    infinite = _infinite(*fields.values())
    return CompareResponse(
        value=CompareValues(**{k: _plain(v) for k, v in fields.items()}),
        infinite_events_pq=_events_when(p, q, pair.labels, infinite),
        infinite_events_qp=_events_when(q, p, pair.labels, infinite),
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


def _unitless_single(
    kernel: Callable[[Any], Any],
) -> Callable[[UnitlessSingleRequest], ValueResponse]:
    """The service function of a unitless measure of one distribution."""

    def measure(request: UnitlessSingleRequest) -> ValueResponse:
        prepared = prepare_single(request.p, request)
        return ValueResponse(value=_plain(kernel(prepared.p)), **_unitless_echo(request))

    return measure


hellinger_distance = _unitless_pair(it.hellinger_distance)
total_variation = _unitless_pair(it.total_variation)
bhattacharyya_coefficient = _unitless_pair(it.bhattacharyya_coefficient)


def pearson_chi_square(request: UnitlessPairRequest) -> UnitlessDivergenceResponse:
    pair = _pair(request)
    value = it.pearson_chi_square(pair.p, pair.q)
    events = _events(pair.p, pair.q, pair.labels, value)  # q = 0 < p
    return UnitlessDivergenceResponse(
        value=_plain(value), infinite_events=events, **_unitless_echo(request)
    )


def neyman_chi_square(request: UnitlessPairRequest) -> UnitlessDivergenceResponse:
    pair = _pair(request)
    value = it.neyman_chi_square(pair.p, pair.q)
    events = _events(pair.q, pair.p, pair.labels, value)  # p = 0 < q
    return UnitlessDivergenceResponse(
        value=_plain(value), infinite_events=events, **_unitless_echo(request)
    )


def jeffreys_divergence(request: PairRequest) -> SymmetricDivergenceResponse:
    pair = _pair(request)
    value = it.jeffreys_divergence(pair.p, pair.q, request.unit)
    events = _either_events(pair.p, pair.q, pair.labels, value)
    return SymmetricDivergenceResponse(
        value=_plain(value), infinite_events=events, **_echo(request)
    )


_PSI_BANDS = {band: bound for bound, band in it.PSI_BANDS}


def population_stability_index(request: UnitlessPairRequest) -> PsiResponse:
    pair = _pair(request)
    value = it.population_stability_index(pair.p, pair.q)
    if isinstance(value, np.ndarray):
        band: Any = [it.psi_band(v) for v in value.tolist()]
    else:
        band = it.psi_band(value)
    return PsiResponse(
        value=_plain(value),
        band=band,
        bands=_PSI_BANDS,
        infinite_events=_either_events(pair.p, pair.q, pair.labels, value),
        **_unitless_echo(request),
    )


def bhattacharyya_distance(request: PairRequest) -> DivergenceResponse:
    pair = _pair(request)
    value = it.bhattacharyya_distance(pair.p, pair.q, request.unit)
    events = _events(pair.p, pair.q, pair.labels, value)  # disjoint: all of p's support
    return DivergenceResponse(value=_plain(value), infinite_events=events, **_echo(request))


def renyi_divergence(request: RenyiPairRequest) -> RenyiDivergenceResponse:
    pair = _pair(request)
    value = it.renyi_divergence(pair.p, pair.q, request.alpha, request.unit)
    events = _events(pair.p, pair.q, pair.labels, value)
    return RenyiDivergenceResponse(
        value=_plain(value), infinite_events=events, alpha=request.alpha, **_echo(request)
    )


def renyi_entropy(request: RenyiEntropyRequest) -> RenyiEntropyResponse:
    prepared = prepare_single(request.p, request)
    value = it.renyi_entropy(prepared.p, request.alpha, request.unit)
    return RenyiEntropyResponse(value=_plain(value), alpha=request.alpha, **_echo(request))


def tsallis_entropy(request: TsallisEntropyRequest) -> TsallisEntropyResponse:
    prepared = prepare_single(request.p, request)
    value = it.tsallis_entropy(prepared.p, request.order)
    return TsallisEntropyResponse(
        value=_plain(value), order=request.order, **_unitless_echo(request)
    )


def tsallis_divergence(request: TsallisPairRequest) -> TsallisDivergenceResponse:
    pair = _pair(request)
    value = it.tsallis_divergence(pair.p, pair.q, request.order)
    events = _events(pair.p, pair.q, pair.labels, value)
    return TsallisDivergenceResponse(
        value=_plain(value), infinite_events=events, order=request.order, **_unitless_echo(request)
    )


def weighted_js_divergence(request: WeightedJSRequest) -> WeightedJSResponse:
    prepared = prepare_single(request.p, request)
    rows = prepared.p
    if rows.ndim != 2:
        raise InvalidInputError(
            ["p"], "needs k distributions, one per row (an array of arrays)", "not_a_batch"
        )
    k = rows.shape[0]
    if request.weights is not None and len(request.weights) != k:
        raise InvalidInputError(
            ["weights"], f"has {len(request.weights)} weights, p has {k} rows", "length_mismatch"
        )
    weights = np.full(k, 1.0 / k) if request.weights is None else np.array(request.weights)
    total = math.fsum(weights.tolist())
    if not abs(total - 1.0) <= it.WEIGHTS_TOLERANCE:
        raise InvalidInputError(
            ["weights"],
            f"sums to {total!r}, not 1 within {it.WEIGHTS_TOLERANCE:g}",
            "sum_not_one",
        )
    value = it.weighted_js_divergence(rows, weights, request.unit)
    used = weights[weights > 0]
    bound = -math.fsum((used * np.log(used)).tolist()) / it.nats_per_unit(request.unit)
    return WeightedJSResponse(
        value=_plain(value), bound=max(bound, 0.0), weights=weights.tolist(), **_echo(request)
    )


def wasserstein_distance(request: WassersteinRequest) -> ValueResponse:
    pair = _pair(request)
    if request.positions is not None:
        n = pair.p.shape[-1]
        if len(request.positions) != n:
            raise InvalidInputError(
                ["positions"],
                f"has {len(request.positions)} positions, p and q have {n} events",
                "length_mismatch",
            )
    try:
        value = it.wasserstein_distance(pair.p, pair.q, request.positions)
    except ValueError as exc:  # not increasing, or a span beyond float64
        msg = str(exc).removeprefix("positions ")
        raise InvalidInputError(["positions"], msg, "positions") from None
    return ValueResponse(value=_plain(value), **_unitless_echo(request))


perplexity = _unitless_single(it.perplexity)


def cross_perplexity(request: UnitlessPairRequest) -> UnitlessDivergenceResponse:
    pair = _pair(request)
    value = it.cross_perplexity(pair.p, pair.q)
    events = _events(pair.p, pair.q, pair.labels, value)
    return UnitlessDivergenceResponse(
        value=_plain(value), infinite_events=events, **_unitless_echo(request)
    )
