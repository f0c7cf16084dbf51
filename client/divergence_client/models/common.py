"""The value types and echoes every numeric response shares, and the units of information."""

from __future__ import annotations

import math
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

__all__ = ["UNITS", "Number", "ResultEcho", "Smoothing", "Unit", "UnitlessEcho"]

# bits (log 2), nats (ln) and bans (log 10); the kernels convert from nats by the same names
Unit = Literal["bits", "nats", "bans"]
UNITS: tuple[str, ...] = get_args(Unit)


def _finite_or_infinity(value: float) -> float | str:
    """JSON has no infinity: write +inf as the string "Infinity" (NaN is never produced)."""
    return "Infinity" if value == math.inf else value


# A non-negative float that may be +inf, written to JSON as the string "Infinity".
Number = Annotated[
    float,
    PlainSerializer(_finite_or_infinity, when_used="json"),
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "enum": ["Infinity"]}]},
        mode="serialization",
    ),
]


class Smoothing(BaseModel):
    """Opt-in additive (Lidstone) smoothing: ``p_i -> (p_i + alpha) / (sum p + n alpha)``.

    Applied after the sum check or normalisation, so ``alpha`` is in units of probability.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    method: Literal["additive"] = Field("additive", description="Smoothing method.")
    alpha: float = Field(
        ...,
        gt=0,
        le=1e6,
        allow_inf_nan=False,
        description="Pseudo-probability added to every event.",
    )
    apply_to: Literal["both", "p", "q"] = Field(
        "both", description="Which distributions to smooth (single-distribution requests: p)."
    )


_NORMALIZED = "Whether the input was divided by its sum."
_SMOOTHING = "The smoothing applied, if any."


class ResultEcho(BaseModel):
    """What every numeric response repeats about how it was computed."""

    unit: Unit
    normalized: bool = Field(description=_NORMALIZED)
    smoothing: Smoothing | None = Field(description=_SMOOTHING)


class UnitlessEcho(BaseModel):
    """What the response of a unitless measure repeats: as :class:`ResultEcho`, no unit."""

    normalized: bool = Field(description=_NORMALIZED)
    smoothing: Smoothing | None = Field(description=_SMOOTHING)
