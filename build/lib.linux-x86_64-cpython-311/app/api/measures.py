"""The synchronous numeric endpoints under ``/v1``: JSON or ``.npy`` bodies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.bodies import Raw, numeric_body_doc
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
from app.schemas.payloads import parse_request
from app.services import measures

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["measures"], responses=PROBLEM_RESPONSES)

SINGLE = numeric_body_doc("SingleRequest", SINGLE_EXAMPLES, pair=False)
PAIR = numeric_body_doc("PairRequest", PAIR_EXAMPLES, pair=True)


@router.post("/information", response_model=InformationResponse, openapi_extra=SINGLE)
def information(body: Raw) -> Any:
    """Self-information -log p(x) of every event: rare events carry more information."""
    return measures.information(parse_request(body, SingleRequest, pair=False))


@router.post("/entropy", response_model=EntropyResponse, openapi_extra=SINGLE)
def entropy(body: Raw) -> Any:
    """Shannon entropy H(p) = -sum p log p, the expected self-information."""
    return measures.entropy(parse_request(body, SingleRequest, pair=False))


@router.post("/cross-entropy", response_model=DivergenceResponse, openapi_extra=PAIR)
def cross_entropy(body: Raw) -> Any:
    """Cross-entropy H(p, q) = -sum p log q: infinite where p > 0 and q = 0."""
    return measures.cross_entropy(parse_request(body, PairRequest, pair=True))


@router.post("/kl-divergence", response_model=DivergenceResponse, openapi_extra=PAIR)
def kl_divergence(body: Raw) -> Any:
    """Kullback-Leibler divergence D(p || q) = sum p log(p / q), not symmetric."""
    return measures.kl_divergence(parse_request(body, PairRequest, pair=True))


@router.post("/js-divergence", response_model=JSResponse, openapi_extra=PAIR)
def js_divergence(body: Raw) -> Any:
    """Jensen-Shannon divergence (as `value`) and distance (its square root)."""
    return measures.js_divergence(parse_request(body, PairRequest, pair=True))


@router.post("/compare", response_model=CompareResponse, openapi_extra=PAIR)
def compare(body: Raw) -> Any:
    """Every measure of a pair in both directions: entropy, cross-entropy, KL and JS."""
    return measures.compare(parse_request(body, PairRequest, pair=True))
