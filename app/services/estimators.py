"""Estimates from data: entropy estimators of counts, plug-in divergences and mutual
information with a seeded bootstrap interval, and k-nearest-neighbour estimators of
continuous samples (kernels in :mod:`app.infotheory.estimators` and :mod:`app.infotheory.knn`).

Every cost the client chooses is checked before the work: bootstrap cells against
DIVERGENCE_MAX_ESTIMATOR_WORK, k-NN numbers and k against DIVERGENCE_MAX_KNN_VALUES and
DIVERGENCE_MAX_KNN_K (422 naming the field).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np
from numpy.typing import NDArray

from app.config import Settings
from app.errors import InvalidInputError
from app.infotheory import estimators as est
from app.infotheory import knn
from app.infotheory.units import nats_per_unit
from app.schemas.estimators import (
    MAX_COUNT,
    Bias,
    BootstrapOptions,
    DivergenceEstimateRequest,
    DivergenceEstimateResponse,
    EntropyEstimateRequest,
    EntropyEstimateResponse,
    EntropyMethod,
    EstimateWarning,
    Interval,
    KnnDivergenceRequest,
    KnnDivergenceResponse,
    KnnEntropyRequest,
    KnnEntropyResponse,
    MutualInformationEstimateRequest,
    MutualInformationEstimateResponse,
    ParsedCounts,
)

__all__ = ["divergence", "entropy", "knn_divergence", "knn_entropy", "mutual_information"]

Array = NDArray[np.float64]
CHUNK_CELLS = 2**18
"""Bootstrap cells scored at once: a few MiB per array."""


def _total(field: str, counts: Array) -> int:
    total = sum(map(int, counts.ravel().tolist()))  # exact: a float sum could round to 2**53
    if total > MAX_COUNT:
        raise InvalidInputError([field], f"the counts add up to {total}, more than 2**53", "range")
    if total == 0:
        raise InvalidInputError([field], "no observations: every count is 0", "empty")
    return total


# -- entropy ---------------------------------------------------------------------------------


def _entropy_warnings(
    counts: Array, n: int, seen: int, singletons: int, methods: Sequence[str], k: int | None
) -> list[EstimateWarning]:
    warnings = []
    if seen == n and n > 1:
        warnings.append(
            EstimateWarning(
                code="no_coincidences",
                message=f"every one of the {n} observations is of a different category: the "
                "counts say little about H; Chao-Shen takes the coverage as 1/n, and NSB "
                "follows its prior (its estimate grows with categories).",
            )
        )
    elif 2 * singletons > n:
        warnings.append(
            EstimateWarning(
                code="low_coverage",
                message=f"{singletons} of {n} observations are singletons (coverage "
                f"{1 - singletons / n:.2f}): many categories are probably unseen, and the "
                "plug-in and Miller-Madow estimates are biased downward.",
            )
        )
    if k is not None and n < k:
        warnings.append(
            EstimateWarning(
                code="few_samples",
                message=f"{n} observations for {k} categories: the plug-in entropy is biased "
                "downward by about (K - 1) / 2n or more; prefer NSB or Chao-Shen.",
            )
        )
    if "nsb" in methods and k is None:
        warnings.append(
            EstimateWarning(
                code="categories_assumed",
                message=f"NSB assumed K = {seen}, the categories seen (a lower bound); give "
                "`categories` when more categories are possible.",
            )
        )
    return warnings


def _nsb_refusal(counts: Array, n: int, max_distinct: int) -> str | None:
    """Why NSB cannot run on these counts (too many observations, or too many distinct
    count values for DIVERGENCE_MAX_NSB_DISTINCT), or None."""
    if n > est.NSB_MAX_TOTAL:
        return (
            f"NSB takes at most {est.NSB_MAX_TOTAL} observations (its likelihood is not "
            f"resolved in float64 beyond); at n = {n} every estimator agrees with the "
            "plug-in to about (K - 1) / 2n."
        )
    distinct = int(np.unique(counts[counts > 0]).size)
    if distinct > max_distinct:
        return (
            f"NSB takes at most {max_distinct} distinct count values (setting "
            f"DIVERGENCE_MAX_NSB_DISTINCT; its cost grows with them), got {distinct}."
        )
    return None


def entropy(request: EntropyEstimateRequest, max_nsb_distinct: int) -> EntropyEstimateResponse:
    """The requested entropy estimators of the counts, with NSB's posterior deviation; NSB
    refused (422) or skipped (method all) beyond ``max_nsb_distinct`` distinct counts."""
    counts = request.counts.values
    n = _total("counts", counts)
    seen = int(np.count_nonzero(counts))
    singletons = int(np.count_nonzero(counts == 1))
    if request.categories is not None and request.categories < seen:
        raise InvalidInputError(
            ["categories"],
            f"{request.categories} categories, but {seen} have counts above 0",
            "too_small",
        )
    methods: tuple[EntropyMethod, ...] = (
        get_args(EntropyMethod) if request.method == "all" else (request.method,)
    )
    warnings = _entropy_warnings(counts, n, seen, singletons, methods, request.categories)
    unit = request.unit
    simple = {
        "plugin": est.plugin_entropy,
        "miller_madow": est.miller_madow_entropy,
        "grassberger": est.grassberger_entropy,
        "chao_shen": est.chao_shen_entropy,
    }
    values: dict[EntropyMethod, float] = {}
    used_k: int | None = None
    spread: float | None = None
    for method in methods:
        if method != "nsb":
            values[method] = simple[method](counts, unit)
            continue
        message = _nsb_refusal(counts, n, max_nsb_distinct)
        if message is not None:
            if request.method == "nsb":
                raise InvalidInputError(["counts"], message, "too_large")
            warnings.append(EstimateWarning(code="nsb_skipped", message=message))
            continue
        nsb = est.nsb_entropy(counts, request.categories, unit)
        used_k, spread = nsb.categories, nsb.std
        values["nsb"] = nsb.value
    return EntropyEstimateResponse(
        unit=unit,
        n=n,
        observed_categories=seen,
        singletons=singletons,
        coverage=1.0 - singletons / n,
        categories=used_k,
        value=values,
        nsb_std=spread,
        warnings=warnings,
    )


# -- the bootstrap of a plug-in estimate -----------------------------------------------------


@dataclass(frozen=True)
class _Resampled:
    interval: Interval | None
    bootstrap_bias: float | None
    warnings: list[EstimateWarning]


def _check_work(
    options: BootstrapOptions, samples: Sequence[Array], max_work: int, what: str
) -> None:
    """Refuse (422) a bootstrap whose cells exceed DIVERGENCE_MAX_ESTIMATOR_WORK, before it
    starts."""
    width = sum(s.size for s in samples)
    jackknife = sum(int(np.count_nonzero(s)) for s in samples) * width
    if options.resamples == 0:
        return
    extra = jackknife if options.method == "bca" else 0
    cells = options.resamples * width + extra
    if cells > max_work:
        most = max(0, (max_work - extra) // width)
        raise InvalidInputError(
            ["bootstrap", "resamples"],
            f"{options.resamples} resamples of {width} {what}"
            + (f" (and a jackknife of {extra} cells)" if extra else "")
            + f" is {cells} cells, more than the limit of {max_work} (setting "
            f"DIVERGENCE_MAX_ESTIMATOR_WORK); use at most {most} resamples",
            "too_much_work",
        )


def _resample(
    statistic: est.CountStatistic,
    samples: Sequence[Array],
    estimate_nats: float,
    options: BootstrapOptions,
    scale: float,
    name: str,
) -> _Resampled:
    """The interval (in the unit), the bootstrap's bias estimate and warnings."""
    if options.resamples == 0:
        return _Resampled(None, None, [])
    values = est.bootstrap(statistic, samples, options.resamples, options.seed, CHUNK_CELLS)
    warnings = []
    method = options.method
    bounds: tuple[float, float] | None = None
    if method == "bca":
        acceleration = est.jackknife_acceleration(statistic, samples, CHUNK_CELLS)
        bounds = (
            est.bca_interval(values, estimate_nats, acceleration, options.confidence)
            if math.isfinite(estimate_nats)
            else None
        )
        if bounds is None:
            method = "percentile"
            warnings.append(
                EstimateWarning(
                    code="bca_undefined",
                    message="BCa is undefined here (an infinite estimate or jackknife value, "
                    "a sample of one, or every resample on one side of the estimate): the "
                    "interval is the percentile interval.",
                )
            )
    if bounds is None:
        bounds = est.percentile_interval(values, options.confidence)
    infinite = int(np.count_nonzero(np.isinf(values)))
    share = infinite / values.size
    if infinite:
        tail = (1.0 - options.confidence) / 2.0
        unbounded = math.isinf(bounds[1])
        warnings.append(
            EstimateWarning(
                code="infinite_resamples",
                message=f"{infinite} of {values.size} resamples ({100 * share:.3g}%) gave "
                f"{name} = Infinity (a category in p's resample and not in q's): the plug-in's "
                "sampling distribution has mass at infinity, "
                + (
                    "so the interval is unbounded above."
                    if unbounded
                    else f"less than the upper tail ({100 * tail:.3g}%), so the upper bound "
                    "stays finite; with a larger share the interval is unbounded above."
                ),
            )
        )
    bias = None
    if not infinite and math.isfinite(estimate_nats):
        bias = (float(values.mean()) - estimate_nats) / scale
    interval = Interval(
        low=bounds[0] / scale,
        high=bounds[1] / scale,
        confidence=options.confidence,
        method=method,
        resamples=options.resamples,
        seed=options.seed,
        infinite_share=share,
    )
    return _Resampled(interval, bias, warnings)


# -- divergence from two samples' counts -----------------------------------------------------


def _aligned(p: ParsedCounts, q: ParsedCounts) -> tuple[Array, Array, list[str] | None]:
    """The two count vectors over one list of categories (the union of labels: p's first)."""
    if (p.labels is None) != (q.labels is None):
        raise InvalidInputError(["q"], "p and q must both be arrays or both be label maps", "form")
    if p.labels is None or q.labels is None:
        if p.values.size != q.values.size:
            raise InvalidInputError(
                ["q"], f"has {q.values.size} categories, p has {p.values.size}", "length"
            )
        return p.values, q.values, None
    index = {label: i for i, label in enumerate(p.labels)}
    for label in q.labels:
        index.setdefault(label, len(index))
    pv, qv = np.zeros(len(index)), np.zeros(len(index))
    pv[: p.values.size] = p.values
    qv[[index[label] for label in q.labels]] = q.values
    return pv, qv, list(index)


def _few_samples(name: str, n: int, k: int, measure: str, upward: str) -> EstimateWarning:
    return EstimateWarning(
        code="few_samples",
        message=f"{name} has {n} observations for {k} categories (fewer samples than "
        f"categories): the plug-in {measure} is biased upward{upward}, and the bootstrap "
        "interval, centred on the plug-in, inherits that bias.",
    )


def divergence(request: DivergenceEstimateRequest, max_work: int) -> DivergenceEstimateResponse:
    """Plug-in KL or JS of two samples' counts, its bias, a bootstrap interval, warnings."""
    p, q, labels = _aligned(request.p, request.q)
    n, m = _total("p", p), _total("q", q)
    options = request.bootstrap
    _check_work(options, (p, q), max_work, "categories (p and q)")
    scale = nats_per_unit(request.unit)
    kl = request.measure == "kl"
    statistic = est.kl_counts if kl else est.js_counts
    nats = float(statistic(p, q)[0])
    name = "KL" if kl else "JS"
    warnings = []
    events: list[int | str] = []
    first: float | None = None
    if kl:
        missing = np.flatnonzero((p > 0) & (q == 0))
        events = [labels[i] if labels is not None else int(i) for i in missing]
        seen = int(np.count_nonzero(p))
        if not missing.size:
            ratio = float(np.sum(p[p > 0] / n / (q[p > 0] / m)))
            first = ((seen - 1) / (2.0 * n) + (ratio - 1.0) / (2.0 * m)) / scale
        else:
            warnings.append(
                EstimateWarning(
                    code="infinite_estimate",
                    message=f"q has no observation of {missing.size} categories that p has "
                    f"(e.g. {events[0]!r}): the plug-in KL is infinite. The true KL may be "
                    "finite: q's sample may have missed them.",
                )
            )
    upward = " (first order: (K_p - 1) / 2n + (sum p/q - 1) / 2m nats)" if kl else ""
    k = p.size
    for field, count in (("p", n), ("q", m)):
        if count < k:
            warnings.append(_few_samples(field, count, k, name, upward))
    resampled = _resample(statistic, (p, q), nats, options, scale, name)
    note = (
        "The estimate is the plug-in (the measure of the two frequency vectors), biased "
        "upward for small samples. "
        + (
            "first_order is the Miller-Madow type bias (K_p - 1) / 2n + (sum_i p_i/q_i - 1) / "
            "2m of the frequencies; "
            if kl
            else "No first-order formula is given for JS; "
        )
        + "bootstrap is the resamples' mean minus the estimate. Subtract either to "
        "correct; the interval is not bias-corrected unless method is bca."
    )
    return DivergenceEstimateResponse(
        measure=request.measure,
        unit=request.unit,
        value=nats / scale,
        infinite_events=events,
        labels=labels,
        n_p=n,
        n_q=m,
        support=k,
        bias=Bias(first_order=first, bootstrap=resampled.bootstrap_bias, note=note),
        interval=resampled.interval,
        warnings=warnings + resampled.warnings,
    )


# -- mutual information of a contingency table -----------------------------------------------


def mutual_information(
    request: MutualInformationEstimateRequest, max_work: int
) -> MutualInformationEstimateResponse:
    """Plug-in I(X;Y) of a table of counts, its bias, a bootstrap interval, warnings."""
    table = request.table.values
    rows, columns = table.shape
    n = _total("table", table)
    cells = table.reshape(-1)
    options = request.bootstrap
    _check_work(options, (cells,), max_work, "cells")
    scale = nats_per_unit(request.unit)

    def statistic(batch: Array) -> Array:
        return est.mi_counts(batch, (rows, columns))

    nats = float(statistic(cells)[0])
    seen_xy = int(np.count_nonzero(cells))
    seen_x = int(np.count_nonzero(table.sum(axis=1)))
    seen_y = int(np.count_nonzero(table.sum(axis=0)))
    first = (seen_xy - seen_x - seen_y + 1) / (2.0 * n) / scale
    warnings = []
    if n < cells.size:
        warnings.append(
            _few_samples(
                "table", n, cells.size, "MI", " (first order: (K_xy - K_x - K_y + 1) / 2n nats)"
            )
        )
    resampled = _resample(statistic, (cells,), nats, options, scale, "MI")
    note = (
        "The estimate is the plug-in I(X;Y) of the frequencies, biased upward for small "
        "samples. first_order is the Miller-Madow bias (K_xy - K_x - K_y + 1) / 2n with the "
        "categories seen; bootstrap is the resamples' mean minus the estimate. Subtract "
        "either to correct; the interval is not bias-corrected unless method is bca."
    )
    return MutualInformationEstimateResponse(
        unit=request.unit,
        value=nats / scale,
        n=n,
        rows=rows,
        columns=columns,
        bias=Bias(first_order=first, bootstrap=resampled.bootstrap_bias, note=note),
        interval=resampled.interval,
        warnings=warnings + resampled.warnings,
    )


# -- k-nearest-neighbour estimators ----------------------------------------------------------


def _points(field: str, values: Array) -> Array:
    points = knn.as_points(values)
    if points.shape[0] < 2:
        raise InvalidInputError(
            [field], f"has {points.shape[0]} point(s): k-NN estimates need at least 2", "too_short"
        )
    return points


def _check_knn(k: int, values: int, settings: Settings, k_most: int) -> None:
    if values > settings.max_knn_values:
        raise InvalidInputError(
            ["x"],
            f"the samples hold {values} numbers (points x dimension), more than "
            f"{settings.max_knn_values} (setting DIVERGENCE_MAX_KNN_VALUES)",
            "too_large",
        )
    if k > settings.max_knn_k:
        raise InvalidInputError(
            ["k"],
            f"k = {k} is above {settings.max_knn_k} (setting DIVERGENCE_MAX_KNN_K)",
            "too_large",
        )
    if k > k_most:
        raise InvalidInputError(
            ["k"], f"k = {k} needs more points: at most {k_most} here", "too_large"
        )


def _finite(value: float, field: str) -> None:
    """422 naming ``field`` rather than a NaN or infinite k-NN estimate (never expected: the
    kernels rescale huge coordinates; a last guard so no answer carries null)."""
    if not math.isfinite(value):
        raise InvalidInputError(
            [field], "the k-NN estimate is not a finite number for these values", "not_finite"
        )


def _coincident(exc: knn.CoincidentPointsError) -> InvalidInputError:
    return InvalidInputError(["x", exc.index], str(exc), "coincident_points")


def knn_entropy(request: KnnEntropyRequest, settings: Settings) -> KnnEntropyResponse:
    """Kozachenko-Leonenko differential entropy of one sample."""
    x = _points("x", request.x)
    n, d = x.shape
    _check_knn(request.k, x.size, settings, n - 1)
    try:
        value = knn.knn_entropy(x, request.k, request.unit)
    except knn.CoincidentPointsError as exc:
        raise _coincident(exc) from None
    _finite(value, "x")
    return KnnEntropyResponse(unit=request.unit, value=value, n=n, dimension=d, k=request.k)


def knn_divergence(request: KnnDivergenceRequest, settings: Settings) -> KnnDivergenceResponse:
    """Wang-Kulkarni-Verdu k-NN estimate of D(P || Q) from two samples."""
    x, y = _points("x", request.x), _points("y", request.y)
    n, d = x.shape
    m = y.shape[0]
    if y.shape[1] != d:
        raise InvalidInputError(
            ["y"], f"has {y.shape[1]} dimension(s), x has {d}", "dimension_mismatch"
        )
    _check_knn(request.k, x.size + y.size, settings, min(n - 1, m))
    try:
        result = knn.knn_kl_divergence(x, y, request.k, request.unit)
    except knn.CoincidentPointsError as exc:
        raise _coincident(exc) from None
    _finite(result.raw, "x")
    warnings = []
    if result.raw < 0:
        warnings.append(
            EstimateWarning(
                code="below_zero",
                message=f"the estimator gave {result.raw:.6g} (below 0 by chance: the samples "
                "are close); the value is clamped at 0.",
            )
        )
    return KnnDivergenceResponse(
        unit=request.unit,
        value=result.value,
        raw=result.raw,
        n=n,
        m=m,
        dimension=d,
        k=request.k,
        warnings=warnings,
    )
