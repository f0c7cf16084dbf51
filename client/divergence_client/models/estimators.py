"""Models of the answers of ``/v1/estimates``: estimates with their method, uncertainty and
warnings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from divergence_client.models.common import Number, Unit

__all__ = [
    "Bias",
    "DivergenceEstimateResponse",
    "EntropyEstimateResponse",
    "EntropyMethod",
    "EstimateWarning",
    "Interval",
    "KnnDivergenceResponse",
    "KnnEntropyResponse",
    "MutualInformationEstimateResponse",
    "WarningCode",
]

EntropyMethod = Literal["plugin", "miller_madow", "grassberger", "chao_shen", "nsb"]
WarningCode = Literal[
    "few_samples",
    "low_coverage",
    "no_coincidences",
    "categories_assumed",
    "nsb_skipped",
    "infinite_estimate",
    "infinite_resamples",
    "bca_undefined",
    "below_zero",
]


class EstimateWarning(BaseModel):
    """Something the caller should know before trusting the number."""

    code: WarningCode
    message: str


class EntropyEstimateResponse(BaseModel):
    unit: Unit
    n: int = Field(description="Observations (the counts' total).")
    observed_categories: int = Field(description="Categories with a count above 0.")
    singletons: int = Field(description="Categories seen exactly once.")
    coverage: float = Field(description="Good-Turing sample coverage 1 - singletons / n.")
    categories: int | None = Field(description="K used by NSB (null when NSB did not run).")
    value: dict[EntropyMethod, float] = Field(
        description="Each estimate (>= 0, in the unit), by method, in the order of the enum."
    )
    nsb_std: float | None = Field(
        description="NSB's posterior standard deviation of H (null when NSB did not run)."
    )
    warnings: list[EstimateWarning]


class Interval(BaseModel):
    low: Number
    high: Number = Field(description='"Infinity" when the interval is unbounded above.')
    confidence: float
    method: Literal["percentile", "bca"] = Field(description="The method actually used.")
    resamples: int
    seed: int
    infinite_share: float = Field(description="Share of resamples whose estimate is +inf.")


class Bias(BaseModel):
    """How far the plug-in estimate is expected to sit from the truth (estimate - truth)."""

    first_order: Number | None = Field(
        description="The first-order (Miller-Madow type) bias, in the unit; null where "
        "none is given or it is infinite."
    )
    bootstrap: float | None = Field(
        description="Mean of the resamples minus the estimate; null without resamples or "
        "when a resample is infinite."
    )
    note: str


class DivergenceEstimateResponse(BaseModel):
    measure: Literal["kl", "js"]
    unit: Unit
    estimator: Literal["plug-in"] = "plug-in"
    value: Number = Field(description="The plug-in estimate: the measure of the frequencies.")
    infinite_events: list[int | str] = Field(
        description="KL: categories p has and q lacks (indices, or labels), making it infinite."
    )
    labels: list[str] | None = Field(description="The union of the labels, in order (maps).")
    n_p: int
    n_q: int
    support: int = Field(description="Categories compared (the union of the labels).")
    bias: Bias
    interval: Interval | None
    warnings: list[EstimateWarning]


class MutualInformationEstimateResponse(BaseModel):
    unit: Unit
    estimator: Literal["plug-in"] = "plug-in"
    value: float = Field(description="Plug-in I(X;Y) = H(X) + H(Y) - H(X,Y), >= 0.")
    n: int
    rows: int
    columns: int
    bias: Bias
    interval: Interval | None
    warnings: list[EstimateWarning]


class KnnEntropyResponse(BaseModel):
    unit: Unit
    estimator: Literal["kozachenko-leonenko"] = "kozachenko-leonenko"
    value: float = Field(allow_inf_nan=False, description="Differential entropy (any real number).")
    n: int
    dimension: int
    k: int


class KnnDivergenceResponse(BaseModel):
    unit: Unit
    estimator: Literal["wang-kulkarni-verdu"] = "wang-kulkarni-verdu"
    value: float = Field(allow_inf_nan=False, description="D(P || Q), clamped at 0.")
    raw: float = Field(
        allow_inf_nan=False,
        description="The estimator's own value, which chance can take below 0.",
    )
    n: int
    m: int
    dimension: int
    k: int
    warnings: list[EstimateWarning]
