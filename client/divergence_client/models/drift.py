"""Models of ``/v1/drift`` answers: references (features binned once) and checks of windows
against them, with their bands and verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from divergence_client.models.common import Number

__all__ = [
    "VERDICTS",
    "Bootstrap",
    "CheckList",
    "DriftCheck",
    "DriftSmoothing",
    "FeatureCheck",
    "MeasureCheck",
    "Reference",
    "ReferenceList",
    "ReferenceSummary",
    "StoredFeature",
    "Thresholds",
    "Verdict",
]

Verdict = Literal["no drift", "moderate", "drift"]
VERDICTS: tuple[str, ...] = ("no drift", "moderate", "drift")  # from best to worst
_STRICT = ConfigDict(extra="forbid", strict=True)


class Thresholds(BaseModel):
    """A measure's bands: below ``moderate`` no drift, from ``moderate`` moderate, from
    ``drift`` drift (in the measure's own scale; nats where it has a unit)."""

    model_config = _STRICT

    moderate: float = Field(ge=0, allow_inf_nan=False, description="Lower bound of moderate.")
    drift: float = Field(ge=0, allow_inf_nan=False, description="Lower bound of drift.")

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.drift < self.moderate:
            raise ValueError("drift must be at least moderate")
        return self


class StoredFeature(BaseModel):
    """A feature as stored: its slots and their counts."""

    kind: Literal["categorical", "numeric"]
    n: int = Field(description="Values in the reference.")
    labels: list[str] | None = Field(None, description="Categorical: the labels, in order.")
    edges: list[float] | None = Field(None, description="Numeric: the bin edges.")
    open_ends: bool | None = Field(None, description="Numeric: outer bins reach to +-inf.")
    rule: str | None = Field(None, description="Numeric: how the edges were made.")
    counts: list[int] = Field(description="Per label, or per bin.")
    underflow: int | None = Field(None, description="Numeric: values below the first edge.")
    overflow: int | None = Field(None, description="Numeric: values above the last edge.")
    thresholds: dict[str, Thresholds] | None = None


class ReferenceSummary(BaseModel):
    name: str
    version: int
    owner: str | None = Field(None, description="Shown to admin keys only.")
    created_at: datetime
    description: str | None
    features: list[str]
    latest_check: datetime | None = Field(description="When the newest check was made.")
    latest_verdict: Verdict | None
    links: dict[str, str]


class Reference(BaseModel):
    name: str
    version: int
    owner: str | None = Field(None, description="Shown to admin keys only.")
    created_at: datetime
    description: str | None
    thresholds: dict[str, Thresholds] | None = Field(description="Bands of every feature.")
    versions: list[int] = Field(description="Every stored version of this name.")
    features: dict[str, StoredFeature]
    latest_check: datetime | None = Field(description="When the newest check was made.")
    latest_verdict: Verdict | None
    links: dict[str, str]


class ReferenceList(BaseModel):
    items: list[ReferenceSummary]
    next_cursor: str | None


class Bootstrap(BaseModel):
    model_config = _STRICT

    resamples: int = Field(200, ge=0, description="Draws of each side (0: no bootstrap).")
    seed: int | None = Field(
        None, ge=0, lt=2**63, description="Seed of the draws; default: a random one, echoed."
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="Of the interval and the test.")


class DriftSmoothing(BaseModel):
    """Opt-in additive smoothing of both sides: ``p_i -> (p_i + alpha) / (1 + m alpha)``
    over the m slots a value can reach."""

    model_config = _STRICT

    method: Literal["additive"] = "additive"
    alpha: float = Field(gt=0, le=1, allow_inf_nan=False, description="Added probability.")


class MeasureCheck(BaseModel):
    value: Number
    interval: tuple[Number, Number] | None = Field(description="Bootstrap percentile interval.")
    p_value: float | None = Field(description="Share of no-drift draws reaching the value.")
    significant: bool | None = Field(description="p_value <= 1 - confidence.")
    thresholds: Thresholds | None
    verdict: Verdict | None = Field(description="The band, if significant (else no drift).")
    infinite_bins: list[str] | None = Field(description="The bins that make it infinite.")


class FeatureCheck(BaseModel):
    kind: Literal["categorical", "numeric"]
    n: int = Field(description="Values in the window.")
    verdict: Verdict | None = Field(description="The worst verdict of its measures.")
    underflow: int | None = Field(None, description="Numeric: values below the first edge.")
    overflow: int | None = Field(None, description="Numeric: values above the last edge.")
    unseen: int | None = Field(None, description="Categorical: values of unseen labels.")
    unseen_labels: list[str] | None = Field(None, description="The first unseen labels.")
    measures: dict[str, MeasureCheck]


class DriftCheck(BaseModel):
    id: str
    reference: str
    version: int
    created_at: datetime
    verdict: Verdict | None = Field(description="The worst verdict of the features.")
    measures: list[str]
    bootstrap: Bootstrap
    smoothing: DriftSmoothing | None
    features: dict[str, FeatureCheck]
    links: dict[str, str]


class CheckList(BaseModel):
    items: list[DriftCheck]
    next_cursor: str | None
