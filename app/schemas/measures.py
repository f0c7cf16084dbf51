"""Request models of the numeric endpoints; their response models are the client's
(``divergence_client.models.measures``), re-exported here."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from app.schemas.common import MeasureOptions, UnitlessOptions
from app.schemas.distribution import Distribution
from divergence_client.models.measures import (
    COMPARE_MEASURES,
    DEFAULT_COMPARE,
    CompareMeasure,
    CompareResponse,
    CompareValues,
    DivergenceResponse,
    EntropyResponse,
    InfiniteEvents,
    InformationResponse,
    JSResponse,
    PsiResponse,
    RenyiDivergenceResponse,
    RenyiEntropyResponse,
    SymmetricDivergenceResponse,
    TsallisDivergenceResponse,
    TsallisEntropyResponse,
    UnitlessDivergenceResponse,
    ValueResponse,
    WeightedJSResponse,
)

__all__ = [
    "COMPARE_MEASURES",
    "DEFAULT_COMPARE",
    "CompareRequest",
    "CompareResponse",
    "CompareValues",
    "DivergenceResponse",
    "EntropyResponse",
    "InfiniteEvents",
    "InformationResponse",
    "JSResponse",
    "Order",
    "PairRequest",
    "PsiResponse",
    "RenyiDivergenceResponse",
    "RenyiEntropyRequest",
    "RenyiEntropyResponse",
    "RenyiPairRequest",
    "SingleRequest",
    "SymmetricDivergenceResponse",
    "TsallisDivergenceResponse",
    "TsallisEntropyRequest",
    "TsallisEntropyResponse",
    "TsallisPairRequest",
    "UnitlessDivergenceResponse",
    "UnitlessPairRequest",
    "UnitlessSingleRequest",
    "ValueResponse",
    "WassersteinRequest",
    "WeightedJSRequest",
    "WeightedJSResponse",
]

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


class CompareRequest(PairRequest):
    """A pair and the measures to compute (default: entropy, cross-entropy, KL and JS)."""

    measures: list[CompareMeasure] | None = Field(
        None,
        min_length=1,
        max_length=len(COMPARE_MEASURES),
        description="Which measures to compute, each in both directions where it is not "
        "symmetric (default: entropy, cross_entropy, kl_divergence, js_divergence). `unit` "
        "applies to those with a unit (entropy, cross-entropy, KL, JS, Jeffreys, Bhattacharyya "
        "distance); Wasserstein uses the positions 0..n-1.",
    )


def _infinity(value: Any) -> Any:
    return math.inf if value == "Infinity" else value


# An order in [0, inf]: JSON has no infinity, so +inf is written "Infinity".
Order = Annotated[
    float,
    Field(ge=0, allow_inf_nan=True),
    BeforeValidator(_infinity),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "enum": ["Infinity"]}]},
        mode="validation",
    ),
]
_ALPHA_DOC = (
    'The order alpha in [0, inf] ("Infinity" in JSON): 0, 1 and Infinity are the limits '
    "(1: the Shannon/KL case)."
)
_TSALLIS_DOC = "The entropic index q > 0 (named order here: q names the second distribution)."


class RenyiPairRequest(PairRequest):
    """A pair and the order of the Rényi divergence."""

    alpha: Order = Field(description=_ALPHA_DOC)


class RenyiEntropyRequest(SingleRequest):
    """A distribution (or a batch) and the order of the Rényi entropy."""

    alpha: Order = Field(description=_ALPHA_DOC)


class TsallisEntropyRequest(UnitlessSingleRequest):
    """A distribution (or a batch) and the entropic index."""

    order: float = Field(gt=0, allow_inf_nan=False, description=_TSALLIS_DOC)


class TsallisPairRequest(UnitlessPairRequest):
    """A pair and the entropic index of the Tsallis relative entropy."""

    order: float = Field(gt=0, allow_inf_nan=False, description=_TSALLIS_DOC)


class WeightedJSRequest(SingleRequest):
    """k distributions (the rows of p) and their weights."""

    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = Field(
        None,
        min_length=1,
        description="One non-negative weight per row of p, summing to 1 (within 1e-6); "
        "default: equal weights.",
    )


class WassersteinRequest(UnitlessPairRequest):
    """A pair on an ordered support and the positions of its events."""

    positions: list[Annotated[float, Field(allow_inf_nan=False)]] | None = Field(
        None,
        min_length=1,
        description="The position of each event, strictly increasing; default 0, 1, ..., n-1.",
    )
