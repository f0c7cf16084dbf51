"""The synchronous numeric endpoints under ``/v1``: JSON or ``.npy`` bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from app.api.bodies import numeric_body_doc, read_body
from app.api.codec import RawBody, parse_request
from app.api.examples import PAIR_EXAMPLES, SINGLE_EXAMPLES
from app.api.problems import PROBLEM_RESPONSES
from app.api.security import numeric_guard
from app.schemas.common import MeasureOptions
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

__all__ = ["ENDPOINTS", "INLINE_MAX_BYTES", "answer", "router"]


Model = TypeVar("Model", bound=MeasureOptions)

# Below this body size the whole request (parse, validate, compute, serialise) takes tens of
# microseconds, less than a hop to the thread pool: it runs on the event loop. Larger bodies
# (milliseconds of numpy) go to the thread pool, so the loop never blocks on them.
INLINE_MAX_BYTES = 16 * 1024


def answer(
    body: RawBody,
    tolerance: float,
    model: type[Model],
    pair: bool,
    work: Callable[[Model], BaseModel],
) -> bytes:
    """The JSON answer to one numeric request; invalid input raises RequestValidationError.

    ``tolerance`` is the deployment's default (DIVERGENCE_DEFAULT_TOLERANCE), used when the
    request gives none."""
    request = parse_request(body, model, pair)
    if request.tolerance is None:
        request.tolerance = tolerance
    return work(request).model_dump_json().encode()


def _answer(
    body: RawBody,
    tolerance: float,
    model: type[Model],
    pair: bool,
    work: Callable[[Model], BaseModel],
) -> Response:
    return Response(answer(body, tolerance, model, pair, work), media_type="application/json")


async def _respond(
    request: Request, model: type[Model], pair: bool, work: Callable[[Model], BaseModel]
) -> Response:
    """Parse, compute and serialise once (pydantic-core), inline or in the thread pool.

    The body is read here rather than by a dependency: on a 10-event request that saves a
    third of the framework's time."""
    numeric_guard(request)
    body = await read_body(request)
    tolerance = request.app.state.settings.default_tolerance
    if len(body.data) <= INLINE_MAX_BYTES:
        return _answer(body, tolerance, model, pair, work)
    return await run_in_threadpool(_answer, body, tolerance, model, pair, work)


router = APIRouter(prefix="/v1", tags=["measures"], responses=PROBLEM_RESPONSES)

# path -> (request model, whether it is a pair, the service function); the routes below and
# the ASGI fast path (app.api.fastpath) both serve from this table.
ENDPOINTS: dict[str, tuple[type[BaseModel], bool, Callable[[Any], BaseModel]]] = {
    "/v1/information": (SingleRequest, False, measures.information),
    "/v1/entropy": (SingleRequest, False, measures.entropy),
    "/v1/cross-entropy": (PairRequest, True, measures.cross_entropy),
    "/v1/kl-divergence": (PairRequest, True, measures.kl_divergence),
    "/v1/js-divergence": (PairRequest, True, measures.js_divergence),
    "/v1/compare": (PairRequest, True, measures.compare),
}

SINGLE = numeric_body_doc("SingleRequest", SINGLE_EXAMPLES, pair=False)
PAIR = numeric_body_doc("PairRequest", PAIR_EXAMPLES, pair=True)


@router.post("/information", response_model=InformationResponse, openapi_extra=SINGLE)
async def information(request: Request) -> Response:
    """Self-information -log p(x) of every event: rare events carry more information."""
    return await _respond(request, *ENDPOINTS["/v1/information"])


@router.post("/entropy", response_model=EntropyResponse, openapi_extra=SINGLE)
async def entropy(request: Request) -> Response:
    """Shannon entropy H(p) = -sum p log p, the expected self-information."""
    return await _respond(request, *ENDPOINTS["/v1/entropy"])


@router.post("/cross-entropy", response_model=DivergenceResponse, openapi_extra=PAIR)
async def cross_entropy(request: Request) -> Response:
    """Cross-entropy H(p, q) = -sum p log q: infinite where p > 0 and q = 0."""
    return await _respond(request, *ENDPOINTS["/v1/cross-entropy"])


@router.post("/kl-divergence", response_model=DivergenceResponse, openapi_extra=PAIR)
async def kl_divergence(request: Request) -> Response:
    """Kullback-Leibler divergence D(p || q) = sum p log(p / q), not symmetric."""
    return await _respond(request, *ENDPOINTS["/v1/kl-divergence"])


@router.post("/js-divergence", response_model=JSResponse, openapi_extra=PAIR)
async def js_divergence(request: Request) -> Response:
    """Jensen-Shannon divergence (as `value`) and distance (its square root)."""
    return await _respond(request, *ENDPOINTS["/v1/js-divergence"])


@router.post("/compare", response_model=CompareResponse, openapi_extra=PAIR)
async def compare(request: Request) -> Response:
    """Every measure of a pair in both directions: entropy, cross-entropy, KL and JS."""
    return await _respond(request, *ENDPOINTS["/v1/compare"])
