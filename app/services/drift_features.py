"""Features of drift references and windows: bins fixed once on the reference, windows
counted on them, and the check computed for every feature in one vectorised pass.

Policy: numeric bins come from the reference (a rule, or given edges); a numeric feature's
slots are ``[underflow, bins..., overflow]``, a categorical one's ``[labels..., unseen]``.
With open ends (the default for rules) the outer bins reach to -inf and +inf, so values
beyond the reference's range fall in them; with closed ends they fall in the underflow and
overflow slots. Either way they are counted and reported, never dropped. Every cap is
checked before the work.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.config import Settings
from app.errors import InvalidInputError
from app.infotheory import histograms as hist
from app.infotheory.drift import DRIFT_MEASURES, DriftFeature, MeasureDrift
from app.schemas.drift import (
    CategoricalFeature,
    NumericFeature,
    ReferenceFeature,
    StoredFeature,
)

__all__ = [
    "MAX_COUNT",
    "applies",
    "build_feature",
    "drift_feature",
    "measure_at",
    "slot_names",
    "window_counts",
]

MAX_COUNT = 10**12  # the most values a side of a feature may count (multinomial draws)
_DEFAULT_BINS = 10
_SHOWN = 20  # names listed of unseen labels or infinite bins


def _too_large(loc: list[str | int], what: str, limit: int, setting: str) -> InvalidInputError:
    return InvalidInputError(loc, f"has {what}, more than {limit} ({setting})", "too_large")


def _numbers(values: list[Any], loc: list[str | int]) -> NDArray[np.float64]:
    """A JSON array of finite numbers as float64; 422 naming the first bad index."""
    if set(map(type, values)) <= {int, float}:
        try:
            x = np.array(values, dtype=np.float64)
        except OverflowError:
            x = None
        if x is not None and np.isfinite(x).all():
            return x
    for i, v in enumerate(values):
        if type(v) not in (int, float):
            raise InvalidInputError([*loc, i], "expected a number", "type")
        if not math.isfinite(float(v)):
            raise InvalidInputError([*loc, i], "expected a finite number", "finite")
    raise InvalidInputError(loc, "expected finite numbers", "finite")  # pragma: no cover


def _labels(values: list[Any], loc: list[str | int]) -> list[str]:
    """Labels as strings (integers written as such); 422 naming the first bad index."""
    for i, v in enumerate(values):
        if type(v) not in (str, int):
            raise InvalidInputError([*loc, i], "expected a label (a string or an integer)", "type")
    return [v if isinstance(v, str) else str(v) for v in values]


def _edges(
    spec: NumericFeature, x: NDArray[np.float64], loc: list[str | int], max_bins: int
) -> tuple[NDArray[np.float64], str]:
    """The bin edges of a numeric reference and how they were made; bins capped first."""
    bins, empty = spec.bins, np.empty(0)
    setting = "DIVERGENCE_DRIFT_MAX_BINS"
    if bins.edges is not None:
        if len(bins.edges) - 1 > max_bins:
            raise _too_large(
                [*loc, "bins", "edges"], f"{len(bins.edges) - 1} bins", max_bins, setting
            )
        try:
            return hist.check_edges(bins.edges), "given"
        except ValueError as exc:
            raise InvalidInputError([*loc, "bins", "edges"], str(exc), "edges") from None
    rule = bins.rule or "quantiles"
    count = bins.count or _DEFAULT_BINS
    if rule in ("fd", "sturges"):
        count = hist.rule_bin_count(x, empty, rule)
    if count > max_bins:
        raise _too_large([*loc, "bins"], f"{count} bins by {rule}", max_bins, setting)
    try:
        if rule == "quantiles":
            return hist.quantile_edges(x, count), f"quantiles({count})"
        return hist.pooled_edges(x, empty, count), f"{rule}({count})"
    except hist.TooManyBinsError as exc:
        raise InvalidInputError([*loc, "bins"], str(exc), "too_many_bins") from None
    except ValueError as exc:
        raise InvalidInputError([*loc, "samples"], str(exc), "edges") from None


def build_feature(name: str, spec: ReferenceFeature, settings: Settings) -> StoredFeature:
    """A reference feature as stored: its slots and counts; 422 naming the field at fault."""
    loc: list[str | int] = ["features", name]
    max_bins, max_samples = settings.drift_max_bins, settings.drift_max_samples
    thresholds = None if spec.thresholds is None else dict(spec.thresholds)
    if isinstance(spec, CategoricalFeature):
        if spec.counts is not None:
            labels, counts = list(spec.counts), list(spec.counts.values())
        else:
            assert spec.labels is not None
            if len(spec.labels) > max_samples:
                raise _too_large(
                    [*loc, "labels"],
                    f"{len(spec.labels)} values",
                    max_samples,
                    "DIVERGENCE_DRIFT_MAX_SAMPLES",
                )
            found, tally = np.unique(
                np.array(_labels(spec.labels, [*loc, "labels"])), return_counts=True
            )
            labels, counts = [str(v) for v in found.tolist()], tally.tolist()
        if len(labels) > max_bins:
            raise _too_large(loc, f"{len(labels)} labels", max_bins, "DIVERGENCE_DRIFT_MAX_BINS")
        _check_counts(counts, [*loc, "counts"], labels)
        return StoredFeature(
            kind="categorical", n=sum(counts), labels=labels, counts=counts, thresholds=thresholds
        )
    if spec.counts is not None:
        assert spec.bins.edges is not None
        edges, rule = _edges(spec, np.empty(0), loc, max_bins)
        if len(spec.counts) != edges.size - 1:
            msg = f"has {len(spec.counts)} counts for {edges.size - 1} bins"
            raise InvalidInputError([*loc, "counts"], msg, "length")
        counts, under, over = list(spec.counts), spec.underflow, spec.overflow
    else:
        assert spec.samples is not None
        if len(spec.samples) > max_samples:
            raise _too_large(
                [*loc, "samples"],
                f"{len(spec.samples)} values",
                max_samples,
                "DIVERGENCE_DRIFT_MAX_SAMPLES",
            )
        if len(spec.samples) < 2:
            raise InvalidInputError([*loc, "samples"], "needs at least 2 values", "too_few")
        x = _numbers(spec.samples, [*loc, "samples"])
        edges, rule = _edges(spec, x, loc, max_bins)
        h = hist.histogram(x, edges)
        counts, under, over = h.counts.tolist(), h.underflow, h.overflow
    _check_counts([*counts, under, over], [*loc, "counts"])
    open_ends = spec.bins.open_ends if spec.bins.open_ends is not None else rule != "given"
    return StoredFeature(
        kind="numeric",
        n=sum(counts) + under + over,
        edges=edges.tolist(),
        open_ends=open_ends,
        rule=rule,
        counts=counts,
        underflow=under,
        overflow=over,
        thresholds=thresholds,
    )


def _check_counts(counts: list[int], loc: list[str | int], keys: list[str] | None = None) -> None:
    """Each count in 0..MAX_COUNT (named by its label in ``keys``, else its index), and
    their total in 1..MAX_COUNT, summed in Python ints."""
    total = 0
    for i, c in enumerate(counts):
        at: str | int = i if keys is None else keys[i]
        if c < 0:
            raise InvalidInputError([*loc, at], "counts must be >= 0", "negative")
        _within_max_count(c, [*loc, at])
        total += c
    if total <= 0:
        raise InvalidInputError(loc, "is empty: no value counted", "empty")
    if total > MAX_COUNT:
        raise InvalidInputError(loc, f"counts more than {MAX_COUNT} values", "too_large")


def window_counts(
    name: str, feature: StoredFeature, window: list[Any] | dict[str, Any], settings: Settings
) -> tuple[NDArray[np.int64], dict[str, Any]]:
    """The window's counts on the feature's slots, and what fell outside the bins."""
    loc: list[str | int] = ["window", name]
    if isinstance(window, list) and len(window) > settings.drift_max_samples:
        raise _too_large(
            loc, f"{len(window)} values", settings.drift_max_samples, "DIVERGENCE_DRIFT_MAX_SAMPLES"
        )
    if feature.kind == "categorical":
        counts, extra = _categorical_window(feature, window, loc, settings)
    else:
        counts, extra = _numeric_window(feature, window, loc)
    total = int(counts.sum())
    if total <= 0:
        raise InvalidInputError(loc, f"the window of feature {name!r} is empty", "empty")
    if total > MAX_COUNT:
        raise InvalidInputError(loc, f"counts more than {MAX_COUNT} values", "too_large")
    extra["n"] = total
    return counts, extra


def _categorical_window(
    feature: StoredFeature,
    window: list[Any] | dict[str, Any],
    loc: list[str | int],
    settings: Settings,
) -> tuple[NDArray[np.int64], dict[str, Any]]:
    assert feature.labels is not None
    if isinstance(window, dict):
        if len(window) > settings.drift_max_samples:
            raise _too_large(
                loc,
                f"{len(window)} labels",
                settings.drift_max_samples,
                "DIVERGENCE_DRIFT_MAX_SAMPLES",
            )
        for label, c in window.items():
            if type(c) is not int or c < 0:
                raise InvalidInputError([*loc, label], "expected a count (an integer >= 0)", "type")
            _within_max_count(c, [*loc, label])
        _within_max_count(sum(window.values()), loc)  # in Python ints: int64 would wrap
        tally = dict(window)
    else:
        found, n = np.unique(np.array(_labels(window, loc), dtype=np.str_), return_counts=True)
        tally = dict(zip((str(v) for v in found.tolist()), n.tolist(), strict=True))
    slot = {label: i for i, label in enumerate(feature.labels)}
    counts = np.zeros(len(feature.labels) + 1, dtype=np.int64)
    unseen: list[str] = []
    for label, c in tally.items():
        i = slot.get(label)
        if i is None:
            counts[-1] += c
            if c > 0:
                unseen.append(label)
        else:
            counts[i] += c
    return counts, {"unseen": int(counts[-1]), "unseen_labels": unseen[:_SHOWN]}


def _numeric_window(
    feature: StoredFeature, window: list[Any] | dict[str, Any], loc: list[str | int]
) -> tuple[NDArray[np.int64], dict[str, Any]]:
    assert feature.edges is not None
    edges = np.asarray(feature.edges, dtype=np.float64)
    bins = edges.size - 1
    if isinstance(window, list):
        h = hist.histogram(_numbers(window, loc), edges)
        counts, under, over = h.counts.tolist(), h.underflow, h.overflow
    else:
        unknown = set(window) - {"counts", "underflow", "overflow"}
        if unknown:
            key = sorted(unknown)[0]
            msg = "numeric counts are {counts, underflow, overflow}"
            raise InvalidInputError([*loc, key], msg, "extra_forbidden")
        counts = window.get("counts")
        under, over = window.get("underflow", 0), window.get("overflow", 0)
        if not isinstance(counts, list) or len(counts) != bins:
            raise InvalidInputError(
                [*loc, "counts"], f"expected {bins} counts, one per bin", "length"
            )
        for key, values in (("counts", counts), ("underflow", [under]), ("overflow", [over])):
            if any(type(c) is not int or c < 0 for c in values):
                raise InvalidInputError([*loc, key], "expected counts (integers >= 0)", "type")
        for i, c in enumerate(counts):
            _within_max_count(c, [*loc, "counts", i])
        _within_max_count(under, [*loc, "underflow"])
        _within_max_count(over, [*loc, "overflow"])
        _within_max_count(sum(counts) + under + over, loc)  # in Python ints: int64 would wrap
    return np.array([under, *counts, over], dtype=np.int64), {
        "underflow": int(under),
        "overflow": int(over),
    }


def _within_max_count(count: int, loc: list[str | int]) -> None:
    """422 naming ``loc`` when a window's count (or total) is above MAX_COUNT, checked before
    any int64 array is built."""
    if count > MAX_COUNT:
        raise InvalidInputError(loc, f"counts more than {MAX_COUNT} values", "too_large")


def drift_feature(feature: StoredFeature, window: NDArray[np.int64]) -> DriftFeature:
    """The kernel's view of a feature: slots, active slots (folded when ends are open),
    positions for the Wasserstein distance."""
    if feature.kind == "categorical":
        reference = np.array([*feature.counts, 0], dtype=np.int64)
        active = np.ones(reference.size, dtype=np.bool_)
        return DriftFeature(window, reference, active)
    assert feature.edges is not None
    edges = np.asarray(feature.edges, dtype=np.float64)
    reference = np.array(
        [feature.underflow or 0, *feature.counts, feature.overflow or 0], dtype=np.int64
    )
    positions = np.concatenate([edges[:1], hist.bin_centres(edges), edges[-1:]])
    active = np.ones(reference.size, dtype=np.bool_)
    if feature.open_ends:
        window, reference = _fold(window), _fold(reference)
        active[0] = active[-1] = False
    return DriftFeature(window, reference, active, positions)


def _fold(slots: NDArray[np.int64]) -> NDArray[np.int64]:
    """Underflow into the first bin, overflow into the last (open-ended outer bins)."""
    folded = slots.copy()
    folded[1] += folded[0]
    folded[-2] += folded[-1]
    folded[0] = folded[-1] = 0
    return folded


def slot_names(feature: StoredFeature, slots: list[int]) -> list[str]:
    """Readable names of some of a feature's slots (at most a few)."""
    names = []
    for i in slots[:_SHOWN]:
        if feature.kind == "categorical":
            assert feature.labels is not None
            names.append(feature.labels[i] if i < len(feature.labels) else "(unseen labels)")
            continue
        assert feature.edges is not None
        e, k = feature.edges, len(feature.edges) - 1
        if i == 0:
            names.append(f"underflow (< {e[0]:g})")
        elif i == k + 1:
            names.append(f"overflow (> {e[-1]:g})")
        else:
            names.append(f"[{e[i - 1]:g}, {e[i]:g}{']' if i == k else ')'}")
    return names


def applies(measure: str, feature: StoredFeature) -> bool:
    """Whether a measure applies to a feature (Wasserstein needs ordered, numeric bins)."""
    return feature.kind == "numeric" or not DRIFT_MEASURES[measure].positions


def measure_at(
    result: MeasureDrift, index: int
) -> tuple[float, float | None, float | None, float | None]:
    """Value, interval bounds and p-value of one feature."""

    def at(values: NDArray[np.float64] | None) -> float | None:
        return None if values is None else float(values[index])

    return float(result.value[index]), at(result.low), at(result.high), at(result.p_value)
