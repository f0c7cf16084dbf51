"""Models of the answers of ``/v1/samples/*``: two samples' counts on one support, and the
measures of their distributions; and the measures those endpoints take."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from divergence_client.models.common import Number, Smoothing, Unit

__all__ = ["SAMPLE_MEASURES", "HistogramResponse", "SampleCompareResponse", "SampleCounts"]

# the server's histogram measures, by name (a test keeps the two the same)
SAMPLE_MEASURES: tuple[str, ...] = (
    "kl_divergence",
    "cross_entropy",
    "js_divergence",
    "js_distance",
    "jeffreys_divergence",
    "hellinger_distance",
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "total_variation",
    "pearson_chi_square",
    "neyman_chi_square",
    "population_stability_index",
    "wasserstein_distance",
)


class SampleCounts(BaseModel):
    """One sample's counts on the shared support."""

    n: int = Field(description="Values in the sample.")
    counts: list[int] = Field(description="One count per bin or label.")
    underflow: int | None = Field(description="Values below the first edge (numeric only).")
    overflow: int | None = Field(description="Values above the last edge (numeric only).")


class HistogramResponse(BaseModel):
    """Both samples on one support: the edges (numeric) or labels (categorical) and counts."""

    kind: Literal["numeric", "categorical"]
    rule: str | None = Field(description="How the edges were chosen: edges, bins, fd, ...")
    edges: list[float] | None = Field(description="The shared bin edges (numeric).")
    labels: list[str] | None = Field(description="The union of labels, sorted (categorical).")
    x: SampleCounts
    y: SampleCounts


class SampleCompareResponse(BaseModel):
    """The measures of the two samples' distributions, and the distributions themselves."""

    unit: Unit
    smoothing: Smoothing | None
    histogram: HistogramResponse
    events: list[str] = Field(
        description="The events of p and q: labels, or bins as [a, b) with '< a' (underflow) "
        "and '> b' (overflow) where either sample has values there."
    )
    p: list[float] = Field(description="x's distribution on the events (counts / n).")
    q: list[float] = Field(description="y's distribution on the events.")
    value: dict[str, Number] = Field(description="Each measure asked for, by name.")
    infinite_events: dict[str, list[str]] = Field(
        description="For each infinite measure, the events that make it so."
    )
    notes: list[str] = Field(description="What a reader of the values should know.")
