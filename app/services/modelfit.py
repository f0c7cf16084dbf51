"""Fit few-parameter models to observed counts and rank them by the information they lose."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from app import infotheory as it
from app.errors import InvalidInputError
from app.fitting.families import FAMILIES
from app.schemas.modelfit import (
    MAX_COUNT,
    MAX_SUPPORT,
    FittedModel,
    Interval,
    ModelFitRequest,
    ModelFitResponse,
    Observed,
)
from app.services.distributions import check_sums

__all__ = ["fit", "observed_counts"]

Array = NDArray[np.float64]
CHUNK_CELLS = 2**18
"""Bootstrap cells (resamples x support) scored at once: a few MiB per array."""


def _label_values(labels: list[str]) -> list[int]:
    """The values behind ``label_counts``' keys: ASCII digits, at most ``MAX_SUPPORT``."""
    values = []
    for label in labels:
        if not (label.isascii() and label.isdigit()):
            shown = label.encode("utf-8", "backslashreplace").decode("utf-8")
            raise InvalidInputError(
                ["label_counts", shown], "labels must be non-negative integers", "label"
            )
        digits = label.lstrip("0")  # int() of a 5000-digit key would raise, not refuse
        value = int(digits or "0") if len(digits) <= len(str(MAX_SUPPORT)) else MAX_SUPPORT + 1
        if value > MAX_SUPPORT:
            raise InvalidInputError(
                ["label_counts", label], f"values above {MAX_SUPPORT} are not supported", "support"
            )
        values.append(value)
    return values


def _total(field: str, counts: list[int]) -> int:
    total = sum(counts)
    if total > MAX_COUNT:
        raise InvalidInputError([field], f"the counts add up to {total}, more than 2**53", "range")
    if total == 0:
        raise InvalidInputError([field], "no observations: every count is 0", "empty")
    return total


def observed_counts(request: ModelFitRequest) -> NDArray[np.int64]:
    """Counts over 0..K from whichever form the request used (values checked before use)."""
    if request.counts is not None:
        _total("counts", request.counts)
        counts = np.asarray(request.counts, dtype=np.int64)
    elif request.samples is not None:
        if not request.samples:
            raise InvalidInputError(["samples"], "no observations", "empty")
        counts = np.bincount(np.asarray(request.samples, dtype=np.int64))
    else:
        assert request.label_counts is not None
        values = _label_values(list(request.label_counts))
        _total("label_counts", list(request.label_counts.values()))
        counts = np.zeros(max(values) + 1, dtype=np.int64)
        np.add.at(counts, values, list(request.label_counts.values()))
    k_max = request.support_max
    if k_max is not None:
        if k_max < counts.size - 1:
            raise InvalidInputError(
                ["support_max"],
                f"the data reach {counts.size - 1}, beyond support_max {k_max}",
                "support",
            )
        counts = np.concatenate([counts, np.zeros(k_max + 1 - counts.size, dtype=np.int64)])
    return counts


def _custom_models(request: ModelFitRequest, width: int) -> dict[str, Array]:
    """The caller's models, checked against the support."""
    models = {}
    for index, custom in enumerate(request.custom):
        p = np.asarray(custom.p, dtype=np.float64)
        loc: list[str | int] = ["custom", index, "p"]
        if p.size != width:
            raise InvalidInputError(loc, f"has {p.size} values, the support has {width}", "length")
        if not np.isfinite(p).all() or (p < 0).any():
            raise InvalidInputError(loc, "must be finite and non-negative", "value")
        check_sums(p, loc, request.tolerance)
        models[f"custom:{custom.name}"] = p
    return models


def _models(
    counts: Array, families: Sequence[str], custom: dict[str, Array]
) -> dict[str, tuple[dict[str, Array], Array]]:
    """Parameters and pmfs of every candidate, vectorised over rows of ``counts``."""
    models: dict[str, tuple[dict[str, Array], Array]] = {}
    for family in families:
        fitted = FAMILIES[family](counts)
        models[family] = (fitted.parameters, fitted.probabilities)
    for name, p in custom.items():
        models[name] = ({}, np.broadcast_to(p, counts.shape))
    return models


def _check_work(width: int, request: ModelFitRequest, max_work: int) -> None:
    resamples = request.bootstrap.resamples
    if width * resamples > max_work:
        raise InvalidInputError(
            ["bootstrap", "resamples"],
            f"{resamples} resamples of a support of {width} values is {width * resamples} "
            f"cells, more than the limit of {max_work} (setting DIVERGENCE_MAX_BOOTSTRAP_WORK); "
            f"use at most {max_work // width} resamples",
            "too_much_work",
        )


def _percentiles(scores: Array, *fractions: float) -> list[float]:
    """``np.quantile``'s linear percentiles, but +inf (never NaN) where an infinite score
    takes part: numpy interpolates ``inf - inf``."""
    ordered = np.sort(scores)
    out = []
    for fraction in fractions:
        position = fraction * (ordered.size - 1)
        below = int(np.floor(position))
        above = min(below + 1, ordered.size - 1)
        weight = position - below
        low, high = float(ordered[below]), float(ordered[above])
        out.append(math.inf if math.isinf(high) and weight > 0 else low + weight * (high - low))
    return out


def _intervals(
    counts: NDArray[np.int64], request: ModelFitRequest, custom: dict[str, Array]
) -> dict[str, Interval]:
    """Percentile intervals of each model's divergence over multinomial resamples.

    Resamples are drawn and scored ``CHUNK_CELLS`` at a time, so memory stays bounded
    whatever the number of resamples; the draws are those of one call with every resample.
    """
    settings = request.bootstrap
    if settings.resamples == 0:
        return {}
    rng = np.random.default_rng(settings.seed)
    n = int(counts.sum())
    p = counts / n
    rows = max(1, CHUNK_CELLS // counts.size)
    divergences: dict[str, Array] = {}
    for start in range(0, settings.resamples, rows):
        size = min(rows, settings.resamples - start)
        empirical = rng.multinomial(n, p, size=size).astype(np.float64)
        models = _models(empirical, request.families, custom)
        empirical /= n
        for name, (_, pmf) in models.items():
            scores = divergences.setdefault(name, np.empty(settings.resamples))
            scores[start : start + size] = it.kl_divergence(empirical, pmf, request.unit)
    tail = (1.0 - settings.confidence) / 2.0
    out = {}
    for name, scores in divergences.items():
        low, high = _percentiles(scores, tail, 1.0 - tail)
        out[name] = Interval(
            low=float(low),
            high=float(high),
            confidence=settings.confidence,
            resamples=settings.resamples,
        )
    return out


def fit(request: ModelFitRequest, max_bootstrap_work: int) -> ModelFitResponse:
    """Every candidate's divergence from the counts, best first; ``max_bootstrap_work`` caps
    support size x bootstrap resamples."""
    counts = observed_counts(request)
    _check_work(counts.size, request, max_bootstrap_work)
    custom = _custom_models(request, counts.size)
    n = int(counts.sum())
    observed = counts / n
    unit = request.unit
    scale = it.nats_per_unit(unit)
    entropy = float(it.entropy(observed, unit))
    seen = int((counts > 0).sum())
    models = _models(counts.astype(np.float64)[np.newaxis, :], request.families, custom)
    intervals = _intervals(counts, request, custom)
    fitted = []
    for name, (parameters, pmf) in models.items():
        q = np.ascontiguousarray(pmf[0])
        fitted.append(
            FittedModel(
                family=name,
                parameters={k: float(v[0]) for k, v in parameters.items()},
                divergence=float(it.kl_divergence(observed, q, unit)),
                cross_entropy=float(it.cross_entropy(observed, q, unit)),
                interval=intervals.get(name),
                tail_mass=max(0.0, 1.0 - float(q.sum())),
                infinite_events=it.infinite_events(observed, q)[0],
                probabilities=q.tolist(),
            )
        )
    fitted.sort(key=lambda m: m.divergence)
    return ModelFitResponse(
        unit=unit,
        observed=Observed(
            support=list(range(counts.size)),
            counts=counts.tolist(),
            n=n,
            probabilities=observed.tolist(),
            mean=float(np.arange(counts.size) @ observed),
            entropy=entropy,
            entropy_miller_madow=entropy + (seen - 1) / (2.0 * n) / scale,
        ),
        models=fitted,
        best=fitted[0].family,
    )
