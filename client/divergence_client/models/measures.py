"""Response models of the numeric endpoints (the measures of the catalogue), and the names
``compare`` can be asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from divergence_client.models.common import Number, ResultEcho, UnitlessEcho

__all__ = [
    "COMPARE_MEASURES",
    "DEFAULT_COMPARE",
    "CompareMeasure",
    "CompareResponse",
    "CompareValues",
    "DivergenceResponse",
    "EntropyResponse",
    "InfiniteEvents",
    "InformationResponse",
    "JSResponse",
    "PsiBand",
    "PsiResponse",
    "RenyiDivergenceResponse",
    "RenyiEntropyResponse",
    "SymmetricDivergenceResponse",
    "TsallisDivergenceResponse",
    "TsallisEntropyResponse",
    "UnitlessDivergenceResponse",
    "ValueResponse",
    "WeightedJSResponse",
]

InfiniteEvents = list[int] | list[str] | list[list[int]]
# the customary bands of the population stability index, from best to worst
PsiBand = Literal["no significant change", "moderate", "significant"]


class InformationResponse(ResultEcho):
    value: list[Number] | list[list[Number]] = Field(
        description="Self-information -log p of each event ('Infinity' where p = 0)."
    )
    labels: list[str] | None = Field(None, description="Event labels, when p was a label map.")


class EntropyResponse(ResultEcho):
    value: Number | list[Number] = Field(description="H(p); one value per row for a batch.")


class DivergenceResponse(ResultEcho):
    value: Number | list[Number] = Field(description="The value; one per row for a batch.")
    infinite_events: InfiniteEvents = Field(
        description="Events with p > 0 and q = 0, which make the value infinite: indices or "
        "labels; one list per row for a batch. Empty when the value is finite."
    )


class JSResponse(ResultEcho):
    value: Number | list[Number] = Field(
        description="Jensen-Shannon divergence, in [0, ln 2] nats."
    )
    distance: Number | list[Number] = Field(description="Jensen-Shannon distance, sqrt(value).")


_PAIR = Number | list[Number]

# The measures `compare` can be asked for, and the fields of its answer each one fills.
COMPARE_MEASURES: dict[str, tuple[str, ...]] = {
    "entropy": ("entropy_p", "entropy_q"),
    "cross_entropy": ("cross_entropy_pq", "cross_entropy_qp"),
    "kl_divergence": ("kl_pq", "kl_qp"),
    "js_divergence": ("js_divergence", "js_distance"),
    "jeffreys_divergence": ("jeffreys_divergence",),
    "bhattacharyya_distance": ("bhattacharyya_distance",),
    "hellinger_distance": ("hellinger_distance",),
    "total_variation": ("total_variation",),
    "bhattacharyya_coefficient": ("bhattacharyya_coefficient",),
    "pearson_chi_square": ("pearson_chi_square_pq", "pearson_chi_square_qp"),
    "neyman_chi_square": ("neyman_chi_square_pq", "neyman_chi_square_qp"),
    "population_stability_index": ("population_stability_index",),
    "wasserstein_distance": ("wasserstein_distance",),
    "perplexity": ("perplexity_p", "perplexity_q"),
    "cross_perplexity": ("cross_perplexity_pq", "cross_perplexity_qp"),
}
DEFAULT_COMPARE = ("entropy", "cross_entropy", "kl_divergence", "js_divergence")
if TYPE_CHECKING:
    CompareMeasure = str
else:  # the names above, so that the two cannot drift apart
    CompareMeasure = Literal[tuple(COMPARE_MEASURES)]


class CompareValues(BaseModel):
    """The measures asked for; the fields of the others are left out of the answer."""

    entropy_p: _PAIR | None = Field(None, description="H(p)")
    entropy_q: _PAIR | None = Field(None, description="H(q)")
    cross_entropy_pq: _PAIR | None = Field(None, description="H(p, q)")
    cross_entropy_qp: _PAIR | None = Field(None, description="H(q, p)")
    kl_pq: _PAIR | None = Field(None, description="D(p || q)")
    kl_qp: _PAIR | None = Field(None, description="D(q || p)")
    js_divergence: _PAIR | None = Field(None, description="JS(p, q), symmetric")
    js_distance: _PAIR | None = Field(None, description="sqrt(JS(p, q)), a metric")
    jeffreys_divergence: _PAIR | None = Field(None, description="D(p || q) + D(q || p)")
    bhattacharyya_distance: _PAIR | None = Field(None, description="-log BC(p, q)")
    hellinger_distance: _PAIR | None = Field(None, description="sqrt(1 - BC(p, q)), unitless")
    total_variation: _PAIR | None = Field(None, description="sum |p - q| / 2, unitless")
    bhattacharyya_coefficient: _PAIR | None = Field(None, description="sum sqrt(p q), unitless")
    pearson_chi_square_pq: _PAIR | None = Field(None, description="sum (p - q)^2 / q")
    pearson_chi_square_qp: _PAIR | None = Field(None, description="sum (q - p)^2 / p")
    neyman_chi_square_pq: _PAIR | None = Field(None, description="sum (p - q)^2 / p")
    neyman_chi_square_qp: _PAIR | None = Field(None, description="sum (q - p)^2 / q")
    population_stability_index: _PAIR | None = Field(
        None, description="sum (p - q) ln(p / q), in nats whatever the unit"
    )
    wasserstein_distance: _PAIR | None = Field(
        None, description="W_1(p, q) with the events at 0, 1, ..., n-1"
    )
    perplexity_p: _PAIR | None = Field(None, description="exp(H(p)), unitless")
    perplexity_q: _PAIR | None = Field(None, description="exp(H(q)), unitless")
    cross_perplexity_pq: _PAIR | None = Field(None, description="exp(H(p, q)), unitless")
    cross_perplexity_qp: _PAIR | None = Field(None, description="exp(H(q, p)), unitless")

    @model_serializer(mode="wrap")
    def _asked_for(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}


class CompareResponse(ResultEcho):
    value: CompareValues = Field(description="The measures asked for, in both directions.")
    infinite_events_pq: InfiniteEvents = Field(
        description="Events with p > 0 = q, which make D(p || q) and every measure of p against "
        "q that weighs by 1/q infinite; listed when some value of the answer is infinite."
    )
    infinite_events_qp: InfiniteEvents = Field(
        description="Events with q > 0 = p, likewise for the measures of q against p."
    )


class ValueResponse(UnitlessEcho):
    """The answer of a unitless measure: no ``unit``; its bounds are the operation's."""

    value: Number | list[Number] = Field(description="The value; one per row for a batch.")


class UnitlessDivergenceResponse(ValueResponse):
    """A unitless measure that can be infinite: the value and the events that make it so."""

    infinite_events: InfiniteEvents = Field(
        description="Events that make the value infinite (see the operation): indices or "
        "labels; one list per row for a batch. Empty when the value is finite."
    )


class RenyiDivergenceResponse(DivergenceResponse):
    alpha: Number = Field(description="The order used.")


class RenyiEntropyResponse(EntropyResponse):
    alpha: Number = Field(description="The order used.")


class TsallisEntropyResponse(ValueResponse):
    order: float = Field(description="The entropic index used.")


class TsallisDivergenceResponse(UnitlessDivergenceResponse):
    order: float = Field(description="The entropic index used.")


class SymmetricDivergenceResponse(ResultEcho):
    value: Number | list[Number] = Field(description="The value; one per row for a batch.")
    infinite_events: InfiniteEvents = Field(
        description="Events where exactly one of p and q is 0, which make the value infinite: "
        "indices or labels; one list per row for a batch. Empty when the value is finite."
    )


class PsiResponse(UnitlessEcho):
    value: Number | list[Number] = Field(description="PSI in nats; one per row for a batch.")
    band: PsiBand | list[PsiBand] = Field(
        description="The customary band of each value: below 0.1 no significant change, "
        "0.1 to 0.25 moderate, 0.25 and above (Infinity included) significant."
    )
    bands: dict[str, float] = Field(
        description="The lower bound of each band, as used: the customary 0, 0.1 and 0.25."
    )
    infinite_events: InfiniteEvents = Field(
        description="Bins where exactly one of p and q is 0, which make PSI infinite."
    )


class WeightedJSResponse(ResultEcho):
    value: Number = Field(description="JS_w = H(sum w_i P_i) - sum w_i H(P_i), in [0, H(w)].")
    bound: Number = Field(description="H(w), the largest value these weights allow.")
    weights: list[float] = Field(description="The weights used.")
