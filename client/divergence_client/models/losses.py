"""Models of the answers of the classification-loss endpoints under ``/v1/losses``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from divergence_client.models.common import Number, Unit

__all__ = ["LossResponse", "Reduction"]

Reduction = Literal["mean", "sum", "none"]


class LossResponse(BaseModel):
    value: Number | list[Number] = Field(
        description="The reduced loss (the per-sample values when reduction is none)."
    )
    per_sample: list[Number]
    reduction: Reduction
    unit: Unit
    from_logits: bool
    label_smoothing: float
