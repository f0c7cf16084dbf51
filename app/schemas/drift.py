"""Models of ``/v1/drift`` requests: references (features binned once), checks of windows
against them; the answers' models are the client's (``divergence_client.models.drift``),
re-exported here.

A reference is named and versioned; each feature is categorical (labels and their counts) or
numeric (bin edges fixed once, from the reference's samples or given, with the counts).
A check compares a window of current data with the reference, feature by feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.infotheory.drift import DRIFT_MEASURES
from divergence_client.models.drift import (
    VERDICTS,
    Bootstrap,
    CheckList,
    DriftCheck,
    DriftSmoothing,
    FeatureCheck,
    MeasureCheck,
    Reference,
    ReferenceList,
    ReferenceSummary,
    StoredFeature,
    Thresholds,
    Verdict,
)

__all__ = [
    "DEFAULT_DRIFT_MEASURES",
    "DEFAULT_THRESHOLDS",
    "VERDICTS",
    "Bins",
    "Bootstrap",
    "CategoricalFeature",
    "CheckList",
    "CheckRequest",
    "DriftCheck",
    "DriftMeasure",
    "DriftSmoothing",
    "FeatureCheck",
    "FeatureName",
    "MeasureCheck",
    "NumericFeature",
    "Reference",
    "ReferenceCreate",
    "ReferenceFeature",
    "ReferenceList",
    "ReferenceName",
    "ReferenceSummary",
    "StoredFeature",
    "Thresholds",
    "Verdict",
    "dump",
]

if TYPE_CHECKING:
    DriftMeasure = str
else:  # the kernels' table, so that the two cannot drift apart
    DriftMeasure = Literal[tuple(DRIFT_MEASURES)]

DEFAULT_DRIFT_MEASURES = ["population_stability_index", "js_divergence"]

ReferenceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
FeatureName = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
]
_STRICT = ConfigDict(extra="forbid", strict=True)


DEFAULT_THRESHOLDS: dict[str, Thresholds] = {
    # customary PSI bands (app.infotheory.stability.PSI_BANDS)
    "population_stability_index": Thresholds(moderate=0.1, drift=0.25),
    "js_divergence": Thresholds(moderate=0.05, drift=0.1),
}
ThresholdMap = dict[DriftMeasure, Thresholds]


class Bins(BaseModel):
    """How a numeric feature is binned, once, on the reference: a rule or given edges."""

    model_config = _STRICT

    rule: Literal["quantiles", "equal_width", "fd", "sturges"] | None = Field(
        None,
        description="quantiles (default; edges at the reference's k/count quantiles, ties "
        "merged), equal_width (count bins over the reference's range), fd or sturges "
        "(Freedman-Diaconis or Sturges on the reference).",
    )
    count: int | None = Field(None, ge=1, description="Bins of quantiles/equal_width (10).")
    edges: list[float] | None = Field(
        None, min_length=2, description="Given edges, strictly increasing and finite."
    )
    open_ends: bool | None = Field(
        None,
        description="Whether the first and last bins reach to -inf and +inf (default: yes "
        "for rules, no for given edges). Closed ends keep underflow and overflow bins.",
    )

    @model_validator(mode="after")
    def _one_way(self) -> Bins:
        if self.edges is not None and (self.rule is not None or self.count is not None):
            raise ValueError("give edges or a rule (with count), not both")
        if self.rule in ("fd", "sturges") and self.count is not None:
            raise ValueError(f"the {self.rule} rule chooses the number of bins: give no count")
        return self


class CategoricalFeature(BaseModel):
    """A categorical feature from its labels (a sample) or their counts."""

    model_config = _STRICT

    kind: Literal["categorical"]
    labels: list[str | int] | None = Field(None, description="A sample of labels.")
    counts: dict[str, int] | None = Field(None, description="Counts of each label.")
    thresholds: ThresholdMap | None = Field(None, description="Bands of this feature.")

    @model_validator(mode="after")
    def _one_source(self) -> CategoricalFeature:
        if (self.labels is None) == (self.counts is None):
            raise ValueError("give labels or counts (one of them)")
        return self


class NumericFeature(BaseModel):
    """A numeric feature from a sample (binned by ``bins``), or counts on given edges."""

    model_config = _STRICT

    kind: Literal["numeric"]
    samples: list[float] | None = Field(None, description="A sample of finite numbers.")
    counts: list[int] | None = Field(
        None, description="Counts of each bin of `bins.edges` (one fewer than the edges)."
    )
    underflow: int = Field(0, ge=0, description="With counts: values below the first edge.")
    overflow: int = Field(0, ge=0, description="With counts: values above the last edge.")
    bins: Bins = Field(default_factory=Bins, description="How the bins are made.")
    thresholds: ThresholdMap | None = Field(None, description="Bands of this feature.")

    @model_validator(mode="after")
    def _one_source(self) -> NumericFeature:
        if (self.samples is None) == (self.counts is None):
            raise ValueError("give samples or counts (one of them)")
        if self.counts is not None and self.bins.edges is None:
            raise ValueError("counts need bins.edges")
        return self


ReferenceFeature = Annotated[CategoricalFeature | NumericFeature, Field(discriminator="kind")]


class ReferenceCreate(BaseModel):
    """A new reference, or a new version of one with this name."""

    model_config = _STRICT

    name: ReferenceName = Field(description="Letters, digits, '_', '.', '-'; up to 128.")
    features: dict[FeatureName, ReferenceFeature] = Field(min_length=1)
    thresholds: ThresholdMap | None = Field(
        None, description="Bands of every feature, by measure (a feature's own win)."
    )
    description: str | None = Field(None, max_length=1000)


class CheckRequest(BaseModel):
    model_config = _STRICT

    window: dict[FeatureName, list[Any] | dict[str, Any]] = Field(
        min_length=1,
        description="Per feature: a sample (numbers, or labels), or counts (categorical: "
        '{label: count}; numeric: {"counts": [...], "underflow": 0, "overflow": 0} on the '
        "reference's edges).",
    )
    measures: list[DriftMeasure] = Field(
        default_factory=lambda: list(DEFAULT_DRIFT_MEASURES), min_length=1
    )
    bootstrap: Bootstrap = Field(default_factory=Bootstrap)
    smoothing: DriftSmoothing | None = None


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as JSON-ready data (``"Infinity"`` for +inf), for the job database."""
    data: dict[str, Any] = model.model_dump(mode="json")
    return data
