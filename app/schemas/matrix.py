"""Request and response models of ``POST /v1/matrix``: every row of ``p`` against every row
of ``q`` for one measure, or the ``top_k`` nearest rows of ``q`` per row of ``p``.

Measures are named as everywhere in the service's bodies (``compare``'s ``measures``, the
client methods): ``kl_divergence``, ``js_divergence``, ... (``MATRIX_MEASURE_NAMES``, the
client's names of the kernels' :data:`app.infotheory.matrix.MATRIX_MEASURES`). The answers'
models are the client's (``divergence_client.models.matrix``), re-exported here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.infotheory.matrix import MATRIX_MEASURES
from app.schemas.common import Unit, UnitlessOptions
from app.schemas.distribution import ParsedDistribution, parse_distribution
from divergence_client.models.matrix import MATRIX_MEASURE_NAMES, MatrixResponse, NearestResponse

__all__ = [
    "MATRIX_MEASURE_NAMES",
    "MatrixRequest",
    "MatrixResponse",
    "NearestResponse",
    "Rows",
]

_WITH_UNIT = ", ".join(name for name, measure in MATRIX_MEASURES.items() if measure.has_unit)


def _rows(value: Any) -> ParsedDistribution:
    """A set of distributions: a JSON array of equally long arrays (or a 2-D array)."""
    parsed = parse_distribution(value)
    if parsed.values.ndim != 2 or parsed.labels is not None:
        raise PydanticCustomError(
            "rows_shape", "expected an array of arrays: one distribution per row"
        )
    return parsed


Rows = Annotated[
    ParsedDistribution, PlainValidator(_rows, json_schema_input_type=list[list[float]])
]


def _measure(value: Any) -> str:
    if not isinstance(value, str) or value not in MATRIX_MEASURES:
        shown = repr(value) if isinstance(value, str) else type(value).__name__
        known = ", ".join(MATRIX_MEASURE_NAMES)
        raise PydanticCustomError("measure", f"unknown measure {shown}; expected one of {known}")
    return value


MatrixMeasureName = Annotated[
    str,
    PlainValidator(_measure),
    WithJsonSchema({"type": "string", "enum": list(MATRIX_MEASURE_NAMES)}),
]


class MatrixRequest(UnitlessOptions):
    """A set ``p`` (m x n), optionally a set ``q`` (k x n; omitted: ``p`` against itself),
    the measure, and the options of every numeric endpoint (each row is checked or
    normalised as a distribution)."""

    p: Rows = Field(description="m distributions over n events, one per row.")
    q: Rows | None = Field(
        None, description="k distributions over the same n events; omitted: p itself."
    )
    measure: MatrixMeasureName = Field(description="The measure: M[i, j] = measure(p_i, q_j).")
    unit: Unit | None = Field(
        None,
        description=f"bits, nats (default) or bans, for the measures that have a unit "
        f"({_WITH_UNIT}); refused for the others.",
    )
    top_k: int | None = Field(
        None,
        ge=1,
        description="Answer the top_k nearest rows of q for each row of p (indices and values, "
        "nearest first) instead of the matrix; at most the rows of q.",
    )

    @field_validator("q")
    @classmethod
    def _same_events(cls, q: ParsedDistribution | None, info: ValidationInfo) -> Any:
        p = info.data.get("p")
        if q is not None and p is not None and q.values.shape[1] != p.values.shape[1]:
            raise PydanticCustomError(
                "length_mismatch",
                f"q has {q.values.shape[1]} events per row, p has {p.values.shape[1]}",
            )
        return q

    @field_validator("unit")
    @classmethod
    def _unit_where_one(cls, unit: str | None, info: ValidationInfo) -> str | None:
        measure = info.data.get("measure")
        if unit is not None and measure is not None and not MATRIX_MEASURES[measure].has_unit:
            raise PydanticCustomError("unit_not_allowed", f"{measure} has no unit: omit unit")
        return unit

    @field_validator("top_k")
    @classmethod
    def _at_most_rows(cls, top_k: int | None, info: ValidationInfo) -> int | None:
        if "p" not in info.data or "q" not in info.data or top_k is None:
            return top_k  # p or q is invalid: reported on its own
        q = info.data["q"] or info.data["p"]
        rows = q.values.shape[0]
        if top_k > rows:
            raise PydanticCustomError(
                "top_k_range", f"top_k must be at most {rows}, the rows of q, got {top_k}"
            )
        return top_k
