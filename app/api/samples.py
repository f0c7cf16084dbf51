"""``/v1/samples/*``: two samples become distributions on one support, then any measure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from app.api.deps import SettingsDep
from app.api.json_route import OffLoopJSONRoute
from app.api.problems import PROBLEM_RESPONSES
from app.api.security import numeric_client
from app.schemas.samples import (
    HistogramRequest,
    HistogramResponse,
    SampleCompareRequest,
    SampleCompareResponse,
)
from app.services import samples

__all__ = ["router"]

router = APIRouter(
    route_class=OffLoopJSONRoute,
    prefix="/v1/samples",
    tags=["samples"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(numeric_client)],
)

_NUMBERS = {"x": [0.1, 0.4, 0.5, 1.2, 1.9, 2.2, 2.8], "y": [0.3, 1.1, 1.4, 1.8, 2.5, 3.1, 3.9]}
HISTOGRAMS: dict[str, dict[str, Any]] = {
    "edges": {
        "summary": "Given edges: 3.1 and 3.9 land in the overflow bin",
        "value": {**_NUMBERS, "edges": [0, 1, 2, 3]},
    },
    "rule": {
        "summary": "Freedman-Diaconis on the pooled sample",
        "value": {**_NUMBERS, "rule": "fd"},
    },
    "labels": {
        "summary": "Categorical samples: counts on the union of labels",
        "value": {"x": ["cat", "dog", "dog", "fish"], "y": ["dog", "bird", "dog"]},
    },
}
COMPARISONS: dict[str, dict[str, Any]] = {
    "numbers": {
        "summary": "KL, JS and Wasserstein of two numeric samples on 4 shared bins",
        "value": {
            **_NUMBERS,
            "bins": 4,
            "measures": ["kl_divergence", "js_divergence", "wasserstein_distance"],
            "unit": "bits",
        },
    },
    "labels": {
        "summary": "Categorical samples: KL is infinite where y lacks a label x has",
        "value": {
            "x": ["cat", "dog", "dog", "fish"],
            "y": ["dog", "cat", "dog"],
            "measures": ["kl_divergence", "total_variation"],
        },
    },
}


@router.post("/histogram", response_model=HistogramResponse, summary="Two samples on one support")
def histogram(
    request: Annotated[HistogramRequest, Body(openapi_examples=HISTOGRAMS)], settings: SettingsDep
) -> Any:
    """Numbers: counts on shared bin edges (given, a number of bins, fd, sturges, or quantiles
    of x), with underflow and overflow; labels: counts on the union of labels."""
    return samples.histogram(request, settings)


@router.post("/compare", response_model=SampleCompareResponse, summary="Measures of two samples")
def compare(
    request: Annotated[SampleCompareRequest, Body(openapi_examples=COMPARISONS)],
    settings: SettingsDep,
) -> Any:
    """Bin both samples as /v1/samples/histogram does, normalise the counts, and take each
    measure asked for of x's distribution (p) against y's (q)."""
    return samples.compare(request, settings)
