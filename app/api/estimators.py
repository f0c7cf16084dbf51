"""``/v1/estimates/*``: entropy, divergences and mutual information estimated from data, with
their bias, a bootstrap interval and warnings; k-NN estimators of continuous samples."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from app.api.deps import SettingsDep
from app.api.json_route import OffLoopJSONRoute
from app.api.problems import PROBLEM_RESPONSES
from app.api.security import numeric_client
from app.schemas.estimators import (
    DivergenceEstimateRequest,
    DivergenceEstimateResponse,
    EntropyEstimateRequest,
    EntropyEstimateResponse,
    KnnDivergenceRequest,
    KnnDivergenceResponse,
    KnnEntropyRequest,
    KnnEntropyResponse,
    MutualInformationEstimateRequest,
    MutualInformationEstimateResponse,
)
from app.services import estimators

__all__ = ["router"]

router = APIRouter(
    route_class=OffLoopJSONRoute,
    prefix="/v1/estimates",
    tags=["estimators"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(numeric_client)],
)

ENTROPY: dict[str, dict[str, Any]] = {
    "all": {
        "summary": "Every estimator of 20 observations of 6 categories",
        "value": {"counts": [7, 5, 4, 2, 1, 1], "unit": "bits"},
    },
    "nsb": {
        "summary": "NSB with 50 possible categories, from a label map",
        "value": {"counts": {"a": 3, "b": 1, "c": 1, "d": 2}, "method": "nsb", "categories": 50},
    },
}
DIVERGENCE: dict[str, dict[str, Any]] = {
    "kl": {
        "summary": "KL of two samples' counts, with a 90% percentile interval",
        "value": {
            "p": [30, 12, 8],
            "q": [25, 15, 10],
            "bootstrap": {"resamples": 2000, "confidence": 0.9, "seed": 7},
        },
    },
    "js-labels": {
        "summary": "JS of label maps (the union of the labels), BCa interval",
        "value": {
            "p": {"rain": 30, "sun": 12},
            "q": {"sun": 20, "snow": 3, "rain": 10},
            "measure": "js",
            "bootstrap": {"method": "bca"},
        },
    },
}
MUTUAL: dict[str, dict[str, Any]] = {
    "table": {
        "summary": "Weather against umbrellas",
        "value": {"table": [[30, 5], [4, 21]], "unit": "bits"},
    }
}
KNN_ENTROPY: dict[str, dict[str, Any]] = {
    "1-D": {"summary": "Values in one dimension", "value": {"x": [0.1, 1.3, -0.4, 2.2, 0.7]}},
    "2-D": {
        "summary": "Points in two dimensions, k = 2",
        "value": {"x": [[0, 0.1], [1.2, 0.3], [0.4, -1], [2, 2], [-0.5, 0.6]], "k": 2},
    },
}
KNN_DIVERGENCE: dict[str, dict[str, Any]] = {
    "1-D": {
        "summary": "Two samples in one dimension",
        "value": {"x": [0.1, 1.3, -0.4, 2.2, 0.7], "y": [1.5, 2.4, 0.9, 3.1, 1.8, 2.6]},
    }
}


@router.post(
    "/entropy",
    response_model=EntropyEstimateResponse,
    summary="Entropy from counts: plug-in, Miller-Madow, Grassberger, Chao-Shen, NSB",
)
def entropy(
    request: Annotated[EntropyEstimateRequest, Body(openapi_examples=ENTROPY)],
    settings: SettingsDep,
) -> Any:
    """Estimate H from counts with one estimator or all; NSB adds its posterior deviation."""
    return estimators.entropy(request, settings.max_nsb_distinct)


@router.post(
    "/divergence",
    response_model=DivergenceEstimateResponse,
    summary="KL or JS of two samples' counts, with bias and a bootstrap interval",
)
def divergence(
    request: Annotated[DivergenceEstimateRequest, Body(openapi_examples=DIVERGENCE)],
    settings: SettingsDep,
) -> Any:
    """Plug-in D(P || Q) or JS of the frequencies; a seeded multinomial bootstrap interval."""
    return estimators.divergence(request, settings.max_estimator_work)


@router.post(
    "/mutual-information",
    response_model=MutualInformationEstimateResponse,
    summary="Mutual information of a table of counts, with bias and a bootstrap interval",
)
def mutual_information(
    request: Annotated[MutualInformationEstimateRequest, Body(openapi_examples=MUTUAL)],
    settings: SettingsDep,
) -> Any:
    """Plug-in I(X;Y) of a contingency table; a seeded multinomial bootstrap interval."""
    return estimators.mutual_information(request, settings.max_estimator_work)


@router.post(
    "/knn-entropy",
    response_model=KnnEntropyResponse,
    summary="Differential entropy of a sample (Kozachenko-Leonenko k-NN)",
)
def knn_entropy(
    request: Annotated[KnnEntropyRequest, Body(openapi_examples=KNN_ENTROPY)],
    settings: SettingsDep,
) -> Any:
    """H = psi(n) - psi(k) + ln V_d + (d/n) sum ln r_k(i), for 1-D or d-D samples."""
    return estimators.knn_entropy(request, settings)


@router.post(
    "/knn-divergence",
    response_model=KnnDivergenceResponse,
    summary="KL divergence of two samples (Wang-Kulkarni-Verdu k-NN)",
)
def knn_divergence(
    request: Annotated[KnnDivergenceRequest, Body(openapi_examples=KNN_DIVERGENCE)],
    settings: SettingsDep,
) -> Any:
    """D(P || Q) = (d/n) sum ln(nu_k(i) / rho_k(i)) + ln(m / (n - 1)), for 1-D or d-D samples."""
    return estimators.knn_divergence(request, settings)
