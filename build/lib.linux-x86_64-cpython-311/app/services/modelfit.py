"""Fit few-parameter models to observed counts and rank them by the information they lose."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from app import infotheory as it
from app.errors import InvalidInputError
from app.fitting.families import FAMILIES
from app.schemas.modelfit import FittedModel, Interval, ModelFitRequest, ModelFitResponse, Observed

__all__ = ["fit", "observed_counts"]

Array = NDArray[np.float64]


def observed_counts(request: ModelFitRequest) -> NDArray[np.int64]:
    """Counts over 0..K from whichever form the request used."""
    if request.counts is not None:
        counts = np.asarray(request.counts, dtype=np.int64)
        field = "counts"
    elif request.samples is not None:
        if not request.samples:
            raise InvalidInputError(["samples"], "no observations", "empty")
        counts = np.bincount(np.asarray(request.samples, dtype=np.int64))
        field = "samples"
    else:
        assert request.label_counts is not None
        values = []
        for label in request.label_counts:
            if not label.isdigit() or len(label) > 6:
                raise InvalidInputError(
                    ["label_counts", label], "labels must be non-negative integers", "label"
                )
            values.append(int(label))
        counts = np.zeros(max(values, default=-1) + 1, dtype=np.int64)
        np.add.at(counts, values, list(request.label_counts.values()))
        field = "label_counts"
    if counts.size == 0 or counts.sum() == 0:
        raise InvalidInputError([field], "no observations: every count is 0", "empty")
    k_max = request.support_max
    if k_max is not None:
        if k_max < counts.size - 1:
            raise InvalidInputError(
                ["support_max"],
                f"the data reach {counts.size - 1}, beyond support_max {k_max}",
                "support",
            )
        counts = np.concatenate([counts, np.zeros(k_max + 1 - counts.size, dtype=np.int64)])
    if counts.size - 1 > 10_000:
        raise InvalidInputError([field], "values above 10000 are not supported", "support")
    return counts


def _models(counts: Array, request: ModelFitRequest) -> dict[str, tuple[dict[str, Array], Array]]:
    """Parameters and pmfs of every candidate, vectorised over rows of ``counts``."""
    models: dict[str, tuple[dict[str, Array], Array]] = {}
    for family in request.families:
        fitted = FAMILIES[family](counts)
        models[family] = (fitted.parameters, fitted.probabilities)
    width = counts.shape[-1]
    for index, custom in enumerate(request.custom):
        p = np.asarray(custom.p, dtype=np.float64)
        loc: list[str | int] = ["custom", index, "p"]
        if p.size != width:
            raise InvalidInputError(loc, f"has {p.size} values, the support has {width}", "length")
        if not np.isfinite(p).all() or (p < 0).any():
            raise InvalidInputError(loc, "must be finite and non-negative", "value")
        if abs(p.sum() - 1.0) > request.tolerance:
            raise InvalidInputError(loc, f"sums to {p.sum()!r}, not 1", "sum_not_one")
        models[f"custom:{custom.name}"] = ({}, np.broadcast_to(p, counts.shape))
    return models


def _intervals(
    counts: NDArray[np.int64], request: ModelFitRequest, names: list[str]
) -> dict[str, Interval]:
    """Percentile intervals of each model's divergence over multinomial resamples."""
    settings = request.bootstrap
    if settings.resamples == 0:
        return {}
    rng = np.random.default_rng(settings.seed)
    n = int(counts.sum())
    resampled = rng.multinomial(n, counts / n, size=settings.resamples).astype(np.float64)
    empirical = resampled / n
    tail = (1.0 - settings.confidence) / 2.0
    out = {}
    for name, (_, pmf) in _models(resampled, request).items():
        divergences = np.asarray(it.kl_divergence(empirical, pmf, request.unit))
        low, high = np.quantile(divergences, [tail, 1.0 - tail])
        out[name] = Interval(
            low=float(low),
            high=float(high),
            confidence=settings.confidence,
            resamples=settings.resamples,
        )
    return {k: out[k] for k in names}


def fit(request: ModelFitRequest) -> ModelFitResponse:
    counts = observed_counts(request)
    n = int(counts.sum())
    observed = counts / n
    unit = request.unit
    scale = it.nats_per_unit(unit)
    entropy = float(it.entropy(observed, unit))
    seen = int((counts > 0).sum())
    models = _models(counts.astype(np.float64)[np.newaxis, :], request)
    intervals = _intervals(counts, request, list(models))
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
