"""Samples in, distributions out: counts on a shared support, then any pair measure.

Policy: every cap (sample size, bins) is checked before the work; numeric samples share one
set of bin edges, and values outside given edges are counted in explicit underflow and
overflow bins (or refused, with ``outside: refuse``), never dropped; the measures see the
normalised counts, smoothed only when asked, and an infinite value names its events.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.config import Settings
from app.errors import InvalidInputError
from app.infotheory import histograms as hist
from app.schemas.common import UnitlessOptions
from app.schemas.distribution import ParsedDistribution
from app.schemas.samples import (
    HistogramRequest,
    HistogramResponse,
    ParsedSample,
    SampleCompareRequest,
    SampleCompareResponse,
    SampleCounts,
)
from app.services.distributions import prepare_pair

__all__ = ["check_size", "compare", "histogram", "label_names"]

Counts = NDArray[np.int64]
_DEFAULT_BINS = 10


def check_size(sample: ParsedSample, field: str, settings: Settings) -> None:
    """422 for a sample longer than DIVERGENCE_MAX_SAMPLE_SIZE, naming ``field``."""
    if sample.values.size > settings.max_sample_size:
        raise InvalidInputError(
            [field],
            f"has {sample.values.size} values, more than {settings.max_sample_size} (setting "
            "DIVERGENCE_MAX_SAMPLE_SIZE)",
            "too_large",
        )


def _number_label(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def label_names(labels: NDArray[Any], numeric: bool) -> list[str]:
    """Labels as the answer shows them: strings as they are, numbers as ``3`` or ``2.5``."""
    if not numeric:
        return [str(label) for label in labels.tolist()]
    return [_number_label(float(v)) for v in labels.tolist()]


@dataclass(frozen=True)
class _Binned:
    """Both samples on one support, as the answer shows it and as the measures see it."""

    response: HistogramResponse
    events: list[str]  # the support of the distributions: bins with mass, labels
    counts_x: Counts
    counts_y: Counts
    edges: NDArray[np.float64] | None
    outside: bool  # some value lies outside the edges


def _kind(request: HistogramRequest) -> str:
    x, y = request.x, request.y
    if x.numeric != y.numeric:
        kinds = ("numbers", "strings") if x.numeric else ("strings", "numbers")
        msg = f"x holds {kinds[0]} and y {kinds[1]}: both samples must be of one kind"
        raise InvalidInputError(["y"], msg, "kind_mismatch")
    kind = request.kind or ("numeric" if x.numeric else "categorical")
    if kind == "numeric" and not x.numeric:
        raise InvalidInputError(["kind"], "string samples can only be categorical", "kind")
    if kind == "categorical":
        for field in ("edges", "bins", "rule"):
            if getattr(request, field) is not None:
                msg = "categorical samples are counted by label: give no edges, bins or rule"
                raise InvalidInputError([field], msg, "not_numeric")
    return kind


def _categorical(request: HistogramRequest) -> _Binned:
    labels, counts_x, counts_y = hist.label_counts(request.x.values, request.y.values)
    names = label_names(labels, request.x.numeric)
    response = HistogramResponse(
        kind="categorical",
        rule=None,
        edges=None,
        labels=names,
        x=SampleCounts(n=request.x.values.size, counts=counts_x.tolist(), underflow=None,
                       overflow=None),
        y=SampleCounts(n=request.y.values.size, counts=counts_y.tolist(), underflow=None,
                       overflow=None),
    )  # fmt: skip
    return _Binned(response, names, counts_x, counts_y, None, outside=False)


def _too_many(field: str, bins: int, settings: Settings) -> InvalidInputError:
    return InvalidInputError(
        [field],
        f"gives {bins} bins, more than {settings.max_bins} (setting DIVERGENCE_MAX_BINS)",
        "too_many_bins",
    )


def _edges(request: HistogramRequest, settings: Settings) -> tuple[NDArray[np.float64], str]:
    """The shared edges, and how they were chosen; every bin count capped before it is built."""
    x, y = request.x.values, request.y.values
    if request.edges is not None:
        for field in ("bins", "rule"):
            if getattr(request, field) is not None:
                msg = "the edges are given: give no bins or rule with them"
                raise InvalidInputError([field], msg, "conflict")
        if len(request.edges) - 1 > settings.max_bins:
            raise _too_many("edges", len(request.edges) - 1, settings)
        try:
            return hist.check_edges(request.edges), "edges"
        except ValueError as exc:
            raise InvalidInputError(["edges"], str(exc), "edges") from None
    rule = request.rule
    if rule in ("fd", "sturges"):
        if request.bins is not None:
            msg = f"the {rule} rule chooses the number of bins: give no bins with it"
            raise InvalidInputError(["bins"], msg, "conflict")
        try:
            count = hist.rule_bin_count(x, y, rule)
        except ValueError as exc:
            raise InvalidInputError(["x"], str(exc), "range") from None
        if count > settings.max_bins:
            raise _too_many("rule", count, settings)
        try:
            return hist.pooled_edges(x, y, count), rule
        except hist.TooManyBinsError as exc:
            raise InvalidInputError(["rule"], str(exc), "too_many_bins") from None
    bins = _DEFAULT_BINS if request.bins is None else request.bins
    if bins > settings.max_bins:
        raise _too_many("bins", bins, settings)
    try:
        if rule == "quantiles":
            return hist.quantile_edges(x, bins), "quantiles"
        return hist.pooled_edges(x, y, bins), "bins"
    except hist.TooManyBinsError as exc:
        raise InvalidInputError(["bins"], str(exc), "too_many_bins") from None
    except ValueError as exc:
        raise InvalidInputError(["x"], str(exc), "range") from None


def _refuse_outside(request: HistogramRequest, edges: NDArray[np.float64]) -> None:
    for field in ("x", "y"):
        values = getattr(request, field).values
        outside = (values < edges[0]) | (values > edges[-1])
        if outside.any():
            at = int(np.flatnonzero(outside)[0])
            msg = (
                f"{float(values[at])!r} lies outside the edges [{float(edges[0])!r}, "
                f"{float(edges[-1])!r}] (outside: refuse)"
            )
            raise InvalidInputError([field, at], msg, "outside_edges")


def _bin_names(edges: NDArray[np.float64]) -> list[str]:
    e = [repr(float(v)) for v in edges]
    names = [f"[{a}, {b})" for a, b in itertools.pairwise(e)]
    names[-1] = names[-1][:-1] + "]"
    return names


def _numeric(request: HistogramRequest, settings: Settings) -> _Binned:
    edges, rule = _edges(request, settings)
    if request.outside == "refuse":
        _refuse_outside(request, edges)
    hx, hy = hist.histogram(request.x.values, edges), hist.histogram(request.y.values, edges)
    response = HistogramResponse(
        kind="numeric",
        rule=rule,
        edges=edges.tolist(),
        labels=None,
        x=SampleCounts(n=request.x.values.size, counts=hx.counts.tolist(),
                       underflow=hx.underflow, overflow=hx.overflow),
        y=SampleCounts(n=request.y.values.size, counts=hy.counts.tolist(),
                       underflow=hy.underflow, overflow=hy.overflow),
    )  # fmt: skip
    names, cx, cy = _bin_names(edges), hx.counts, hy.counts
    if hx.underflow or hy.underflow:
        names = [f"< {float(edges[0])!r}", *names]
        cx, cy = np.r_[hx.underflow, cx], np.r_[hy.underflow, cy]
    if hx.overflow or hy.overflow:
        names = [*names, f"> {float(edges[-1])!r}"]
        cx, cy = np.r_[cx, hx.overflow], np.r_[cy, hy.overflow]
    outside = bool(hx.underflow or hy.underflow or hx.overflow or hy.overflow)
    return _Binned(response, names, cx, cy, edges, outside)


def _binned(request: HistogramRequest, settings: Settings) -> _Binned:
    check_size(request.x, "x", settings)
    check_size(request.y, "y", settings)
    if _kind(request) == "categorical":
        return _categorical(request)
    return _numeric(request, settings)


def histogram(request: HistogramRequest, settings: Settings) -> HistogramResponse:
    """Both samples' counts on one support: shared bin edges, or the union of labels."""
    return _binned(request, settings).response


def _positions(binned: _Binned, at: int) -> NDArray[np.float64]:
    """The bins' centres (Wasserstein), refused where a bin has no centre."""
    if binned.edges is None:
        msg = "wasserstein_distance needs numeric samples: labels have no positions"
        raise InvalidInputError(["measures", at], msg, "not_numeric")
    if binned.outside:
        msg = (
            "wasserstein_distance needs every value inside the edges: the underflow and "
            "overflow bins have no centre (widen the edges)"
        )
        raise InvalidInputError(["measures", at], msg, "outside_edges")
    return hist.bin_centres(binned.edges)


def _wasserstein(p: NDArray[np.float64], q: NDArray[np.float64], x: NDArray[np.float64]) -> float:
    try:
        return float(hist.HISTOGRAM_MEASURES["wasserstein_distance"].kernel(p, q, x))
    except ValueError as exc:  # centres of edges a few ulp apart may coincide
        raise InvalidInputError(["edges"], f"the bins' centres: {exc}", "edges") from None


def _infinite_at(kind: str, p: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.bool_]:
    mask: NDArray[np.bool_]
    if kind == "p":
        mask = (p > 0) & (q == 0)
    elif kind == "q":
        mask = (q > 0) & (p == 0)
    else:  # "either"
        mask = (p > 0) != (q > 0)
    return mask


def compare(request: SampleCompareRequest, settings: Settings) -> SampleCompareResponse:
    """Measures of x's distribution (p) against y's (q) on their shared support."""
    binned = _binned(request, settings)
    options = UnitlessOptions(normalize=True, smoothing=request.smoothing)
    pair = prepare_pair(
        ParsedDistribution(binned.counts_x.astype(np.float64)),
        ParsedDistribution(binned.counts_y.astype(np.float64)),
        options,
    )
    p, q = pair.p, pair.q
    values: dict[str, float] = {}
    infinite: dict[str, list[str]] = {}
    notes: list[str] = []
    for at, name in enumerate(request.measures):
        if name in values:  # asked twice
            continue
        measure = hist.HISTOGRAM_MEASURES[name]
        if measure.positions:
            value = _wasserstein(p, q, _positions(binned, at))
        elif measure.has_unit:
            value = measure.kernel(p, q, request.unit)
        else:
            value = measure.kernel(p, q)
        values[name] = float(value)
        if not math.isinf(values[name]):
            continue
        if measure.infinite == "disjoint":
            infinite[name] = []
            notes.append(f"{name} is infinite: x and y share no event (disjoint supports).")
            continue
        where = np.flatnonzero(_infinite_at(measure.infinite, p, q))
        infinite[name] = [binned.events[i] for i in where]
        notes.append(_infinite_note(name, measure.infinite, infinite[name]))
    return SampleCompareResponse(
        unit=request.unit,
        smoothing=request.smoothing,
        histogram=binned.response,
        events=binned.events,
        p=p.tolist(),
        q=q.tolist(),
        value=values,
        infinite_events=infinite,
        notes=notes,
    )


def _infinite_note(name: str, kind: str, events: list[str]) -> str:
    shown = ", ".join(events[:5]) + (f" and {len(events) - 5} more" if len(events) > 5 else "")
    if kind == "p":
        why = "y has a zero count where x has mass"
    elif kind == "q":
        why = "x has a zero count where y has mass"
    else:
        why = "one sample has a zero count where the other has mass"
    return (
        f"{name} is infinite: {why} ({shown}); smoothing, or fewer and wider bins, "
        "gives a finite value."
    )
