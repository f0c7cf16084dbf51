"""Request and response models of the numeric endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.common import MeasureOptions, Number, ResultEcho, UnitlessEcho, UnitlessOptions
from app.schemas.distribution import Distribution

__all__ = [
    "CompareResponse",
    "CompareValues",
    "DivergenceResponse",
    "EntropyResponse",
    "InfiniteEvents",
    "InformationResponse",
    "JSResponse",
    "PairRequest",
    "SingleRequest",
    "UnitlessPairRequest",
    "UnitlessSingleRequest",
    "ValueResponse",
]

InfiniteEvents = list[int] | list[str] | list[list[int]]

_P_DOC = (
    "A distribution: an array of numbers, an object mapping labels to numbers, or an array "
    "of equally long arrays (a batch, one distribution per row)."
)


class SingleRequest(MeasureOptions):
    """One distribution (or a batch) and the options."""

    p: Distribution = Field(description=_P_DOC)


class PairRequest(MeasureOptions):
    """Two distributions over the same events. A 1-D side is compared with every row of a
    batch on the other side; label maps are aligned on the union of their labels."""

    p: Distribution = Field(description=_P_DOC)
    q: Distribution = Field(description=_P_DOC + " Same events as p.")


class UnitlessSingleRequest(UnitlessOptions):
    """One distribution (or a batch) and the options of a unitless measure (no ``unit``)."""

    p: Distribution = Field(description=_P_DOC)


class UnitlessPairRequest(UnitlessOptions):
    """Two distributions over the same events, for a unitless measure (no ``unit``); pairs
    up like :class:`PairRequest`."""

    p: Distribution = Field(description=_P_DOC)
    q: Distribution = Field(description=_P_DOC + " Same events as p.")


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


class CompareValues(BaseModel):
    entropy_p: Number | list[Number] = Field(description="H(p)")
    entropy_q: Number | list[Number] = Field(description="H(q)")
    cross_entropy_pq: Number | list[Number] = Field(description="H(p, q)")
    cross_entropy_qp: Number | list[Number] = Field(description="H(q, p)")
    kl_pq: Number | list[Number] = Field(description="D(p || q)")
    kl_qp: Number | list[Number] = Field(description="D(q || p)")
    js_divergence: Number | list[Number] = Field(description="JS(p, q), symmetric")
    js_distance: Number | list[Number] = Field(description="sqrt(JS(p, q)), a metric")


class CompareResponse(ResultEcho):
    value: CompareValues = Field(description="Every measure of the pair, in both directions.")
    infinite_events_pq: InfiniteEvents = Field(description="Events making D(p || q) infinite.")
    infinite_events_qp: InfiniteEvents = Field(description="Events making D(q || p) infinite.")


class ValueResponse(UnitlessEcho):
    """The answer of a unitless measure: no ``unit``; its bounds are the operation's."""

    value: Number | list[Number] = Field(description="The value; one per row for a batch.")
