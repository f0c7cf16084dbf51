"""The synchronous numeric endpoints under ``/v1``: JSON or ``.npy`` bodies."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

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


def _json(result: BaseModel) -> Response:
    """The model as JSON, serialised once by pydantic-core (no second validation pass)."""
    return Response(result.model_dump_json(), media_type="application/json")


router = APIRouter(prefix="/v1", tags=["measures"], responses=PROBLEM_RESPONSES)

SINGLE = numeric_body_doc("SingleRequest", SINGLE_EXAMPLES, pair=False)
PAIR = numeric_body_doc("PairRequest", PAIR_EXAMPLES, pair=True)


@router.post("/information", response_model=InformationResponse, openapi_extra=SINGLE)
def information(body: Raw) -> Response:
    """Self-information -log p(x) of every event: rare events carry more information."""
    return _json(measures.information(parse_request(body, SingleRequest, pair=False)))


@router.post("/entropy", response_model=EntropyResponse, openapi_extra=SINGLE)
def entropy(body: Raw) -> Response:
    """Shannon entropy H(p) = -sum p log p, the expected self-information."""
    return _json(measures.entropy(parse_request(body, SingleRequest, pair=False)))


@router.post("/cross-entropy", response_model=DivergenceResponse, openapi_extra=PAIR)
def cross_entropy(body: Raw) -> Response:
    """Cross-entropy H(p, q) = -sum p log q: infinite where p > 0 and q = 0."""
    return _json(measures.cross_entropy(parse_request(body, PairRequest, pair=True)))


@router.post("/kl-divergence", response_model=DivergenceResponse, openapi_extra=PAIR)
def kl_divergence(body: Raw) -> Response:
    """Kullback-Leibler divergence D(p || q) = sum p log(p / q), not symmetric."""
    return _json(measures.kl_divergence(parse_request(body, PairRequest, pair=True)))


@router.post("/js-divergence", response_model=JSResponse, openapi_extra=PAIR)
def js_divergence(body: Raw) -> Response:
    """Jensen-Shannon divergence (as `value`) and distance (its square root)."""
    return _json(measures.js_divergence(parse_request(body, PairRequest, pair=True)))


@router.post("/compare", response_model=CompareResponse, openapi_extra=PAIR)
def compare(body: Raw) -> Response:
    """Every measure of a pair in both directions: entropy, cross-entropy, KL and JS."""
    return _json(measures.compare(parse_request(body, PairRequest, pair=True)))
