"""Models of the answer of ``POST /v1/model-fit``: the observations and each candidate
model's information loss."""

from __future__ import annotations

from pydantic import BaseModel, Field

from divergence_client.models.common import Number, Unit

__all__ = ["FittedModel", "Interval", "ModelFitResponse", "Observed"]


class Observed(BaseModel):
    support: list[int]
    counts: list[int]
    n: int = Field(description="Number of observations.")
    probabilities: list[float]
    mean: float
    entropy: float = Field(description="Plug-in entropy of the empirical distribution.")
    entropy_miller_madow: float = Field(
        description="Bias-corrected: plug-in + (bins seen - 1) / 2n nats, in the unit."
    )


class Interval(BaseModel):
    low: Number
    high: Number
    confidence: float
    resamples: int


class FittedModel(BaseModel):
    family: str = Field(description="uniform, binomial, poisson, geometric, or custom:NAME.")
    parameters: dict[str, float]
    divergence: Number = Field(description="D(observed || model): the information lost.")
    cross_entropy: Number = Field(description="H(observed, model).")
    interval: Interval | None = Field(description="Bootstrap percentile interval of divergence.")
    tail_mass: float = Field(description="Model probability beyond the support's maximum.")
    infinite_events: list[int] = Field(description="Observed values the model calls impossible.")
    probabilities: list[float] = Field(description="The model on the support 0..K.")


class ModelFitResponse(BaseModel):
    unit: Unit
    observed: Observed
    models: list[FittedModel] = Field(description="Best (smallest divergence) first.")
    best: str
