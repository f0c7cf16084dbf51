"""The synchronous numeric endpoints under ``/v1``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from app.api.examples import PAIR_EXAMPLES, SINGLE_EXAMPLES
from app.api.problems import PROBLEM_RESPONSES
from app.schemas.measures import (
    CompareResponse,
    DivergenceResponse,
    EntropyResponse,
    InformationResponse,
    JSResponse,
    PairRequest,
    SingleRequest,
)
from app.services import measures

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["measures"], responses=PROBLEM_RESPONSES)

Single = Annotated[SingleRequest, Body(openapi_examples=SINGLE_EXAMPLES)]
Pair = Annotated[PairRequest, Body(openapi_examples=PAIR_EXAMPLES)]


@router.post("/information", response_model=InformationResponse)
def information(request: Single) -> Any:
    """Self-information -log p(x) of every event: rare events carry more information."""
    return measures.information(request)


@router.post("/entropy", response_model=EntropyResponse)
def entropy(request: Single) -> Any:
    """Shannon entropy H(p) = -sum p log p, the expected self-information."""
    return measures.entropy(request)


@router.post("/cross-entropy", response_model=DivergenceResponse)
def cross_entropy(request: Pair) -> Any:
    """Cross-entropy H(p, q) = -sum p log q: infinite where p > 0 and q = 0."""
    return measures.cross_entropy(request)


@router.post("/kl-divergence", response_model=DivergenceResponse)
def kl_divergence(request: Pair) -> Any:
    """Kullback-Leibler divergence D(p || q) = sum p log(p / q), not symmetric."""
    return measures.kl_divergence(request)


@router.post("/js-divergence", response_model=JSResponse)
def js_divergence(request: Pair) -> Any:
    """Jensen-Shannon divergence (as `value`) and distance (its square root)."""
    return measures.js_divergence(request)


@router.post("/compare", response_model=CompareResponse)
def compare(request: Pair) -> Any:
    """Every measure of a pair in both directions: entropy, cross-entropy, KL and JS."""
    return measures.compare(request)
