"""Model of the answer of ``/v1/parametric/*``: a measure of laws given by their parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from divergence_client.models.common import Number, Unit

__all__ = ["Method", "ParametricResponse"]

# how the value was computed (the server's kernels name theirs the same; a test checks)
Method = Literal["closed form", "exact sum", "monte carlo"]


class ParametricResponse(BaseModel):
    value: Number = Field(description='In `unit`; +inf is the string "Infinity".')
    unit: Unit
    method: Method = Field(description="closed form, exact sum or monte carlo.")
    differential: bool = Field(
        description="P has a density: entropies are differential (they depend on the scale "
        "of x and can be negative)."
    )
    standard_error: float | None = Field(description="Monte Carlo only: of `value`, in `unit`.")
    draws: int | None = Field(description="Monte Carlo only: points drawn from P.")
    seed: int | None = Field(description="Monte Carlo only: the generator's seed.")
    terms: int | None = Field(description="Exact sums only: terms summed over P's support.")
    infinite_reason: str | None = Field(description="Why `value` is infinite, when it is.")
