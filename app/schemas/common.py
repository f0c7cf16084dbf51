"""Options shared by every numeric request; the value types of every response are the
client's (``divergence_client.models.common``), re-exported here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from divergence_client.models.common import (
    UNITS,
    Number,
    ResultEcho,
    Smoothing,
    Unit,
    UnitlessEcho,
)

__all__ = [
    "UNITS",
    "MeasureOptions",
    "Number",
    "ResultEcho",
    "Smoothing",
    "Unit",
    "UnitlessEcho",
    "UnitlessOptions",
]


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
