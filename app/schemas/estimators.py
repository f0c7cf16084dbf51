"""Models of the estimator endpoints under ``/v1/estimates``: counts or samples in, estimates
with their method, uncertainty and warnings out (the answers' models are the client's,
``divergence_client.models.estimators``, re-exported here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from app.schemas.common import Unit
from app.schemas.distribution import Numbers
from divergence_client.models.estimators import (
    Bias,
    DivergenceEstimateResponse,
    EntropyEstimateResponse,
    EntropyMethod,
    EstimateWarning,
    Interval,
    KnnDivergenceResponse,
    KnnEntropyResponse,
    MutualInformationEstimateResponse,
)

__all__ = [
    "Bias",
    "BootstrapOptions",
    "Counts",
    "DivergenceEstimateRequest",
    "DivergenceEstimateResponse",
    "EntropyEstimateRequest",
    "EntropyEstimateResponse",
    "EntropyMethod",
    "EstimateWarning",
    "Interval",
    "KnnDivergenceRequest",
    "KnnDivergenceResponse",
    "KnnEntropyRequest",
    "KnnEntropyResponse",
    "MutualInformationEstimateRequest",
    "MutualInformationEstimateResponse",
    "ParsedCounts",
    "parse_counts",
    "parse_table",
]

MAX_CATEGORIES = 1_000_000
MAX_COUNT = 2**53
"""Counts (and their total) stay exact in float64."""


@dataclass(frozen=True, eq=False)
class ParsedCounts:
    """Validated counts: exact non-negative integers as float64, 1-D (or 2-D for a table),
    and the labels of a label map."""

    values: NDArray[np.float64]
    labels: list[str] | None = None


def _error(kind: str, message: str, index: Any = None) -> PydanticCustomError:
    # the problem+json handler appends ctx["index"] to the error's loc
    return PydanticCustomError(kind, message, {} if index is None else {"index": index})


def _as_counts(items: list[Any], where: Callable[[int], Any]) -> NDArray[np.float64]:
    """JSON integers in ``[0, 2**53]`` as float64; the first offender named by ``where``."""
    if set(map(type, items)) <= {int}:
        try:
            values = np.array(items, dtype=np.int64)
        except OverflowError:
            values = None
        if values is not None and (
            values.size == 0 or (int(values.min()) >= 0 and int(values.max()) <= MAX_COUNT)
        ):
            return values.astype(np.float64)
    for at, item in enumerate(items):
        if type(item) is not int:
            shown = "null" if item is None else type(item).__name__
            raise _error("count_type", f"counts are integers, got {shown}", where(at))
        if item < 0:
            raise _error("negative", f"counts must be >= 0, got {item}", where(at))
        if item > MAX_COUNT:
            raise _error("count_range", "counts must be at most 2**53", where(at))
    raise _error("count_type", "expected counts")  # unreachable


def parse_counts(value: Any) -> ParsedCounts:
    """An array of counts or a label map of counts (vectorised checks, first offender named)."""
    if isinstance(value, ParsedCounts):
        return value
    if isinstance(value, dict):
        labels: list[str] | None = list(value)
        items = list(value.values())
    elif isinstance(value, list):
        labels, items = None, value
    else:
        raise _error("counts_type", "expected an array of counts or a label map of counts")
    if not items:
        raise _error("empty", "no categories: give at least one count")
    if len(items) > MAX_CATEGORIES:
        raise _error("too_long", f"at most {MAX_CATEGORIES} categories")

    def where(at: int) -> Any:
        return at if labels is None else labels[at]

    return ParsedCounts(_as_counts(items, where), labels)


def parse_table(value: Any) -> ParsedCounts:
    """A rectangular 2-D array of counts (rows named when ragged)."""
    if isinstance(value, ParsedCounts):
        return value
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        raise _error("table_type", "expected a 2-D array of counts (an array of rows)")
    width = len(value[0])
    if width == 0:
        raise _error("empty", "rows must not be empty", 0)
    if len(value) * width > MAX_CATEGORIES:
        raise _error("too_long", f"at most {MAX_CATEGORIES} cells")
    items: list[Any] = []
    for row_index, row in enumerate(value):
        if not isinstance(row, list):
            raise _error("table_type", "a table holds only arrays", row_index)
        if len(row) != width:
            raise _error(
                "ragged_table",
                f"row {row_index} has {len(row)} values, row 0 has {width}",
                row_index,
            )
        items.extend(row)
    values = _as_counts(items, lambda at: divmod(at, width)).reshape(len(value), width)
    return ParsedCounts(values)


Counts = Annotated[
    ParsedCounts,
    PlainValidator(parse_counts, json_schema_input_type=list[int] | dict[str, int]),
]
"""Counts per category: an array or a label map; integers in ``[0, 2**53]``."""
Table = Annotated[ParsedCounts, PlainValidator(parse_table, json_schema_input_type=list[list[int]])]
_COUNTS = (
    'Counts per category: an array, or a label map such as {"rain": 30, "sun": 12}; '
    f"non-negative integers adding up to at most 2**53, at most {MAX_CATEGORIES} categories."
)

# -- entropy ---------------------------------------------------------------------------------


class EntropyEstimateRequest(BaseModel):
    """Counts of one sample, and which estimators to run."""

    model_config = ConfigDict(extra="forbid", strict=True)

    counts: Counts = Field(description=_COUNTS)
    method: EntropyMethod | Literal["all"] = Field(
        "all", description="One estimator, or all of them (in the order of the enum)."
    )
    categories: int | None = Field(
        None,
        ge=1,
        le=MAX_COUNT,
        description="K, the number of possible categories, for NSB (at least the number "
        "seen; categories never seen count). Default: the categories seen, a lower bound.",
    )
    unit: Unit = "nats"


# -- divergence and mutual information from counts, with a bootstrap interval -----------------


class BootstrapOptions(BaseModel):
    """A seeded multinomial bootstrap of the plug-in estimate."""

    model_config = ConfigDict(extra="forbid", strict=True)

    resamples: int = Field(
        1000,
        ge=0,
        le=100_000,
        description="0 turns the interval off. Resamples x support (plus, for BCa, the "
        "jackknife's categories x support) is capped by DIVERGENCE_MAX_ESTIMATOR_WORK.",
    )
    confidence: float = Field(0.95, gt=0.0, lt=1.0, allow_inf_nan=False)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    method: Literal["percentile", "bca"] = Field(
        "percentile",
        description="percentile: the equal-tailed percentile interval; bca: Efron's "
        "bias-corrected and accelerated interval (jackknife acceleration).",
    )


class DivergenceEstimateRequest(BaseModel):
    """Counts of two samples over the same categories."""

    model_config = ConfigDict(extra="forbid", strict=True)

    p: Counts = Field(description=f"The sample from P. {_COUNTS}")
    q: Counts = Field(description="Counts of the sample from Q, in the same form as p.")
    measure: Literal["kl", "js"] = Field("kl", description="D(P || Q), or Jensen-Shannon.")
    unit: Unit = "nats"
    bootstrap: BootstrapOptions = Field(default_factory=BootstrapOptions)


class MutualInformationEstimateRequest(BaseModel):
    """A 2-D contingency table of counts: rows are X's categories, columns Y's."""

    model_config = ConfigDict(extra="forbid", strict=True)

    table: Table = Field(
        description="table[i][j] = count of (x_i, y_j): a rectangular array of rows of "
        f"non-negative integers, at most {MAX_CATEGORIES} cells, adding up to at most 2**53."
    )
    unit: Unit = "nats"
    bootstrap: BootstrapOptions = Field(default_factory=BootstrapOptions)


# -- k-nearest-neighbour estimators of continuous samples -------------------------------------

_SAMPLE = (
    "Numeric samples: a 1-D array (n values) or an array of n equally long rows (n points "
    "in d dimensions)."
)


class KnnEntropyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    x: Numbers = Field(description=_SAMPLE)
    k: int = Field(
        1, ge=1, description="Neighbour order: 1 <= k < n, at most DIVERGENCE_MAX_KNN_K."
    )
    unit: Unit = "nats"


class KnnDivergenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    x: Numbers = Field(description=f"The sample from P. {_SAMPLE}")
    y: Numbers = Field(description="The sample from Q, in the same dimension.")
    k: int = Field(
        1, ge=1, description="Neighbour order: 1 <= k < n and k <= m, at most DIVERGENCE_MAX_KNN_K."
    )
    unit: Unit = "nats"
