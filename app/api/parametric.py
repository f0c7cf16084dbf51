"""``/v1/parametric``: entropy, cross-entropy and KL divergence of laws given by parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from app.api.deps import SettingsDep
from app.api.json_route import OffLoopJSONRoute
from app.api.problems import PROBLEM_RESPONSES
from app.api.security import numeric_client
from app.schemas.parametric import (
    ParametricEntropyRequest,
    ParametricPairRequest,
    ParametricResponse,
)
from app.services import parametric

__all__ = ["router"]

router = APIRouter(
    route_class=OffLoopJSONRoute,
    prefix="/v1/parametric",
    tags=["parametric laws"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(numeric_client)],
)

PAIRS: dict[str, dict[str, Any]] = {
    "normals": {
        "summary": "N(0, 1) against N(1, 2^2): ln 2 - 1/4 nats",
        "value": {
            "p": {"family": "normal", "mean": 0, "std": 1},
            "q": {"family": "normal", "mean": 1, "std": 2},
        },
    },
    "binomials": {
        "summary": "Binomials with different n: an exact sum",
        "value": {
            "p": {"family": "binomial", "n": 8, "p": 0.3},
            "q": {"family": "binomial", "n": 10, "p": 0.3},
            "unit": "bits",
        },
    },
    "mixtures": {
        "summary": "Mixtures of normals: Monte Carlo, seeded",
        "value": {
            "p": {
                "family": "normal_mixture",
                "weights": [0.3, 0.7],
                "means": [-1, 2],
                "stds": [0.5, 1],
            },
            "q": {"family": "normal", "mean": 1, "std": 2},
            "draws": 100000,
            "seed": 7,
        },
    },
    "multivariate": {
        "summary": "Multivariate normals, full covariance",
        "value": {
            "p": {
                "family": "multivariate_normal",
                "mean": [0, 0],
                "covariance": [[1, 0.5], [0.5, 2]],
            },
            "q": {"family": "multivariate_normal", "mean": [1, 0], "covariance": [[1, 0], [0, 1]]},
        },
    },
    "infinite": {
        "summary": "Support not covered: +inf, with the reason",
        "value": {
            "p": {"family": "uniform", "low": 0, "high": 2},
            "q": {"family": "uniform", "low": 0, "high": 1},
        },
    },
}
SINGLE: dict[str, dict[str, Any]] = {
    "gamma": {
        "summary": "A gamma law's differential entropy",
        "value": {"p": {"family": "gamma", "shape": 2.5, "rate": 0.7}},
    },
    "poisson": {
        "summary": "A Poisson law's entropy in bits (an exact sum)",
        "value": {"p": {"family": "poisson", "rate": 4.2}, "unit": "bits"},
    },
}


@router.post("/kl-divergence", response_model=ParametricResponse, summary="KL divergence of laws")
def kl_divergence(
    request: Annotated[ParametricPairRequest, Body(openapi_examples=PAIRS)], settings: SettingsDep
) -> Any:
    """D(P || Q) = E_P log(p(X) / q(X)) in closed form, by an exact sum, or by Monte Carlo."""
    return parametric.kl_divergence(request, settings)


@router.post("/cross-entropy", response_model=ParametricResponse, summary="Cross-entropy of laws")
def cross_entropy(
    request: Annotated[ParametricPairRequest, Body(openapi_examples=PAIRS)], settings: SettingsDep
) -> Any:
    """H(P, Q) = -E_P log q(X)."""
    return parametric.cross_entropy(request, settings)


@router.post("/entropy", response_model=ParametricResponse, summary="Entropy of a law")
def entropy(
    request: Annotated[ParametricEntropyRequest, Body(openapi_examples=SINGLE)],
    settings: SettingsDep,
) -> Any:
    """H(P) = -E log p(X): differential for laws with a density (it can be negative)."""
    return parametric.entropy(request, settings)
