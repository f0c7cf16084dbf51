"""Models of ``/v1/samples/*``: two samples in, counts on one support out, and measures.

A sample is a JSON array of numbers or of strings, parsed straight into numpy (checked for
type, finiteness and length with vectorised tests; an error names the first offending index).
The answers' models are the client's (``divergence_client.models.samples``), re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from app.schemas.common import Smoothing, Unit
from divergence_client.models.samples import (
    SAMPLE_MEASURES,
    HistogramResponse,
    SampleCompareResponse,
    SampleCounts,
)

__all__ = [
    "DEFAULT_MEASURES",
    "SAMPLE_MEASURES",
    "HistogramRequest",
    "HistogramResponse",
    "LabelSample",
    "ParsedSample",
    "SampleCompareRequest",
    "SampleCompareResponse",
    "SampleCounts",
    "SampleMeasure",
    "not_unicode",
    "parse_sample",
]

if TYPE_CHECKING:
    SampleMeasure = str
else:  # the client's names of the kernels' table (a test keeps the two the same)
    SampleMeasure = Literal[SAMPLE_MEASURES]

DEFAULT_MEASURES = ["kl_divergence", "js_divergence", "hellinger_distance", "total_variation"]
_NUMBER_TYPES = frozenset({int, float})


@dataclass(frozen=True, eq=False)
class ParsedSample:
    """A validated sample: finite float64 numbers, or strings (a numpy str array)."""

    values: NDArray[Any]
    numeric: bool


def _error(kind: str, message: str, index: int | None = None) -> PydanticCustomError:
    return PydanticCustomError(kind, message, {} if index is None else {"index": index})


def not_unicode(text: str) -> bool:
    """Whether ``text`` holds a lone UTF-16 surrogate (JSON's ``"\\ud800"`` decodes to one):
    it has no UTF-8 form, so it cannot be a label, nor be echoed in an answer."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_UNICODE = "not valid Unicode: it holds a lone UTF-16 surrogate"


def parse_sample(value: Any, min_size: int = 2) -> ParsedSample:
    """A JSON array of numbers or of strings (not both) as a :class:`ParsedSample`."""
    if isinstance(value, ParsedSample):
        return value
    if not isinstance(value, list):
        raise _error("sample_type", "expected an array of numbers or of strings")
    if len(value) < min_size:
        what = "one value" if min_size == 1 else f"{min_size} values"
        raise _error("too_few", f"a sample needs at least {what}, got {len(value)}")
    kinds = set(map(type, value))
    if kinds <= {str}:
        if not_unicode("".join(value)):
            at = next(i for i, text in enumerate(value) if not_unicode(text))
            raise _error("unicode", _UNICODE, at)
        return ParsedSample(np.array(value, dtype=np.str_), numeric=False)
    if kinds <= _NUMBER_TYPES:
        try:
            numbers = np.array(value, dtype=np.float64)
        except OverflowError:  # an integer beyond float64
            numbers = None
        if numbers is not None and np.isfinite(numbers).all():
            return ParsedSample(numbers, numeric=True)
    first = type(value[0])
    for index, item in enumerate(value):
        kind = type(item)
        if kind not in _NUMBER_TYPES and kind is not str:
            shown = "null" if item is None else kind.__name__
            raise _error("sample_type", f"expected a number or a string, got {shown}", index)
        if (kind is str) != (first is str):
            raise _error("sample_type", "a sample holds numbers or strings, not both", index)
        if kind is not str and not np.isfinite(float(item)):
            raise _error("not_finite", "NaN and infinite values are not samples", index)
    raise _error("number_range", "a number is too large for float64")  # an int past 2**1024


def _parse_pair_sample(value: Any) -> ParsedSample:
    return parse_sample(value, min_size=1)


SampleJSON = list[float] | list[str]
Sample = Annotated[ParsedSample, PlainValidator(parse_sample, json_schema_input_type=SampleJSON)]
LabelSample = Annotated[
    ParsedSample, PlainValidator(_parse_pair_sample, json_schema_input_type=SampleJSON)
]

_KIND = (
    "numeric: histograms on shared bin edges; categorical: counts on the union of labels. "
    "Default: numeric for numbers, categorical for strings (integer codes given as numbers "
    "are counted as categories with kind: categorical)."
)


class HistogramRequest(BaseModel):
    """Two samples, and how to bin them (numeric samples only)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    x: Sample = Field(description="The first (reference) sample: numbers or strings.")
    y: Sample = Field(description="The second sample, of the same kind as x.")
    kind: Literal["numeric", "categorical"] | None = Field(None, description=_KIND)
    edges: list[float] | None = Field(
        None,
        min_length=2,
        description="Bin edges, strictly increasing: bins [e_i, e_i+1), the last closed (as "
        "numpy.histogram). Values outside go to the underflow and overflow bins.",
    )
    bins: int | None = Field(
        None,
        ge=1,
        description="Number of bins: equal-width over the pooled range of x and y, or with "
        "rule quantiles the number of quantile bins of x. Default 10 when no edges or rule.",
    )
    rule: Literal["fd", "sturges", "quantiles"] | None = Field(
        None,
        description="fd (Freedman-Diaconis) or sturges on the pooled sample (the edges of "
        "numpy.histogram_bin_edges), or quantiles of x (bins of equal x-mass, ties merged).",
    )
    outside: Literal["count", "refuse"] = Field(
        "count",
        description="Values outside the edges: counted in the underflow/overflow bins "
        "(count), or refused with 422 naming the first (refuse).",
    )


class SampleCompareRequest(HistogramRequest):
    """Two samples, binned as for ``/v1/samples/histogram``, and the measures to take."""

    measures: list[SampleMeasure] = Field(
        default_factory=lambda: list(DEFAULT_MEASURES),
        min_length=1,
        description="Measures of the pair (x's distribution as p, y's as q).",
    )
    unit: Unit = Field("nats", description="bits, nats or bans, for measures that have one.")
    smoothing: Smoothing | None = Field(
        None, description="Opt-in additive smoothing of the normalised counts (p, q or both)."
    )
