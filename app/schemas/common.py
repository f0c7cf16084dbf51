"""Options shared by every numeric request, and the value types of every response."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from app.infotheory import units as it_units

__all__ = [
    "MeasureOptions",
    "Number",
    "ResultEcho",
    "Smoothing",
    "Unit",
    "UnitlessEcho",
    "UnitlessOptions",
]

Unit = it_units.Unit  # defined once, with the kernels


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


class UnitlessOptions(BaseModel):
    """Options accepted by every numeric endpoint; those of a unitless measure (Hellinger
    distance, ...) have no ``unit``, so a ``unit`` sent to one is refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    normalize: bool = Field(
        False,
        description="Treat the numbers as weights or counts and divide each distribution by its "
        "sum. Without it, a distribution whose sum is off 1 by more than `tolerance` is refused.",
    )
    tolerance: float | None = Field(
        None,
        ge=0,
        le=0.5,
        allow_inf_nan=False,
        description="Allowed |sum - 1| when `normalize` is false; default 1e-6 (configurable).",
    )
    smoothing: Smoothing | None = Field(None, description="Opt-in smoothing; none by default.")


class MeasureOptions(UnitlessOptions):
    """The options of a measure with a unit: those of every numeric endpoint, and ``unit``."""

    unit: Unit = Field("nats", description="bits (log 2), nats (ln) or bans (log 10).")


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
