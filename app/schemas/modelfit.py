"""Models of ``POST /v1/model-fit``: observations over an integer support, candidate models
(the answer's models are the client's, ``divergence_client.models.modelfit``, re-exported)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.fitting.families import FAMILIES
from app.schemas.common import Unit
from divergence_client.models.modelfit import FittedModel, Interval, ModelFitResponse, Observed

__all__ = [
    "Bootstrap",
    "CustomModel",
    "FittedModel",
    "Interval",
    "ModelFitRequest",
    "ModelFitResponse",
    "Observed",
]

if TYPE_CHECKING:
    Family = str
else:  # the families are the fitting registry's, so the two cannot drift apart
    Family = Literal[tuple(FAMILIES)]
MAX_SUPPORT = 10_000
MAX_COUNT = 2**53
"""Counts (and their total) stay exact in float64 and far from int64's end."""

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Value = Annotated[int, Field(ge=0, le=MAX_SUPPORT)]


class CustomModel(BaseModel):
    """A distribution the caller proposes, over the same support 0..K."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=64)
    p: list[float] = Field(min_length=1, max_length=MAX_SUPPORT + 1)


class Bootstrap(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    resamples: int = Field(
        1000,
        ge=0,
        le=20_000,
        description="0 turns the intervals off. Support size x resamples is capped by the "
        "setting DIVERGENCE_MAX_BOOTSTRAP_WORK (10**7 by default).",
    )
    seed: int = Field(0, ge=0, le=2**32 - 1)
    confidence: float = Field(0.95, gt=0.0, lt=1.0)


class ModelFitRequest(BaseModel):
    """Observations in one of three forms, and the models to try."""

    model_config = ConfigDict(extra="forbid", strict=True)

    counts: list[Count] | None = Field(
        None,
        max_length=MAX_SUPPORT + 1,
        description="counts[k] = how often the value k was seen (support 0..len-1); "
        "the counts may add up to 2**53.",
    )
    samples: list[Value] | None = Field(
        None,
        max_length=1_000_000,
        description=f"Raw integer observations, each 0..{MAX_SUPPORT}.",
    )
    label_counts: dict[str, Count] | None = Field(
        None,
        max_length=MAX_SUPPORT + 1,
        description='Counts by value, the values written as strings: {"3": 14, "10": 7}; '
        f"values 0..{MAX_SUPPORT}, counts adding up to at most 2**53.",
    )
    support_max: int | None = Field(
        None, ge=0, le=MAX_SUPPORT, description="K of the support 0..K (default: the data's)."
    )
    families: list[Family] = Field(
        ["uniform", "binomial", "poisson", "geometric"], description="Parametric families."
    )
    custom: list[CustomModel] = Field([], max_length=20, description="Your own models.")
    unit: Unit = "nats"
    tolerance: float = Field(1e-6, ge=0, le=0.5, description="For custom models' sums.")
    bootstrap: Bootstrap = Field(default_factory=Bootstrap)

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        given = [n for n in ("counts", "samples", "label_counts") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of counts, samples or label_counts"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if not self.families and not self.custom:
            raise ValueError("no model to fit: give families or custom models")
        return self
