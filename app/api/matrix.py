"""``POST /v1/matrix``: many distributions at once, as JSON or ``.npy``, in and out.

Bodies: JSON (:class:`MatrixRequest`, every option in the body) or ``application/x-npy``,
one 2-D array: ``p`` alone (p against itself), or ``p`` and ``q`` stacked by rows with
``p_rows`` (the rows of ``p``) in the query string, which carries the options. Answers, by
``Accept``: JSON (default), ``application/x-npy`` (the m x k matrix, float64, ``inf``
exact), or with ``top_k`` ``application/x-npz`` (arrays ``indices``, int64, and ``values``,
float64); any other ``Accept`` is 406. Parsing, the cost check and the work run in the
thread pool (a tiny request on the event loop), so the loop never waits on them. The OpenAPI
operation is in :mod:`app.api.matrix_openapi`.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from numpy.lib import format as npy_format
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.api.codec import NPY, RawBody, parse_npy, parse_request
from app.api.matrix_openapi import (
    JSON,
    NPZ,
    PATH,
    REQUEST_MODELS,
    RESPONSE_MODELS,
    operations,
)
from app.api.security import numeric_guard
from app.config import Settings
from app.errors import (
    MAX_REPORTED_ERRORS,
    CappedValidationError,
    ServiceError,
    service_problem,
    validation_problem,
)
from app.schemas.matrix import MatrixRequest
from app.services import matrix as service

__all__ = [
    "NPZ",
    "PATH",
    "REQUEST_MODELS",
    "RESPONSE_MODELS",
    "MatrixEndpoint",
    "operations",
    "router",
]

_CHUNK_BYTES = 1 << 20  # an .npy answer goes out in pieces of about this size
# A body this small is parsed on the event loop (as the measure endpoints do), and a matrix
# of at most this many pairs x events computed there: tens of microseconds, less than a hop
# to the thread pool. Anything larger goes to the pool, so the loop never waits on it.
INLINE_MAX_BYTES = 16 * 1024
INLINE_MAX_WORK = 4096


class NotAcceptableError(ServiceError):
    status = 406
    title = "Not Acceptable"


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def answer_media(accept: str | None, top_k: bool) -> str:
    """JSON, or the binary form (``.npy``; ``.npz`` with ``top_k``) where ``Accept`` names it
    with a quality at least JSON's; 406 where it allows neither."""
    binary = NPZ if top_k else NPY
    if not accept:
        return JSON
    json_q = binary_q = 0.0
    for item in accept.split(","):
        media, *params = item.split(";")
        media, q = media.strip().lower(), _quality(params)
        if media in (JSON, "application/*", "*/*"):
            json_q = max(json_q, q)
        elif media == binary:
            binary_q = max(binary_q, q)
    if binary_q > 0 and binary_q >= json_q:
        return binary
    if json_q > 0:
        return JSON
    raise NotAcceptableError(f"this answer is {JSON} or {binary}; Accept allows neither")


class _NpyQuery(BaseModel):
    """The options of an ``.npy`` body, as query parameters; only their types are read here
    (the request model checks the values, naming the parameter)."""

    model_config = ConfigDict(extra="forbid")

    measure: str | None = None
    unit: str | None = None
    top_k: int | None = None
    normalize: bool | None = None
    tolerance: float | None = None
    smoothing_alpha: float | None = None
    smoothing_apply_to: str | None = None
    p_rows: int | None = None


def _query_fields(query: dict[str, str]) -> dict[str, Any]:
    try:
        given = _NpyQuery.model_validate(query)
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    fields = given.model_dump(exclude_unset=True)
    alpha, apply_to = fields.pop("smoothing_alpha", None), fields.pop("smoothing_apply_to", None)
    if alpha is not None:
        fields["smoothing"] = {"alpha": alpha, **({"apply_to": apply_to} if apply_to else {})}
    return fields


def _npy_fields(data: bytes | bytearray, query: dict[str, str]) -> dict[str, Any]:
    """The request's fields from an ``.npy`` body and the query string."""
    fields = _query_fields(query)
    array = parse_npy(data)
    p_rows = fields.pop("p_rows", None)
    if p_rows is None:
        return {**fields, "p": array}
    if array.ndim != 2 or not 1 <= p_rows < array.shape[0]:
        msg = (
            f"p_rows splits the rows of a 2-D .npy array into p and q: it must be between 1 "
            f"and {array.shape[0] - 1}, got {p_rows}"
            if array.ndim == 2
            else f"p_rows needs a 2-D .npy array (p and q stacked by rows), got shape {array.shape}"
        )
        raise RequestValidationError([{"loc": ("query", "p_rows"), "msg": msg, "type": "p_rows"}])
    return {**fields, "p": array[:p_rows], "q": array[p_rows:]}


def parse_matrix_request(
    content_type: str, data: bytes | bytearray, query: dict[str, str]
) -> MatrixRequest:
    """The validated request: JSON with its options in the body, or ``.npy`` with them in
    the query string; errors name the field where it was given (``body`` or ``query``)."""
    if content_type.split(";")[0].strip().lower() != NPY:
        if query:
            name = next(iter(query))
            msg = "with a JSON body, give the options in the body (the query is for .npy bodies)"
            raise RequestValidationError([{"loc": ("query", name), "msg": msg, "type": "query"}])
        return parse_request(RawBody(content_type, data, {}), MatrixRequest, False)
    fields = _npy_fields(data, query)
    try:
        return MatrixRequest.model_validate(fields)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = []
        for error in exc.errors()[:MAX_REPORTED_ERRORS]:
            loc = tuple(error["loc"])
            if loc and loc[0] == "smoothing":
                loc = (f"smoothing_{loc[1]}" if len(loc) > 1 else "smoothing_alpha",)
            errors.append({**error, "loc": ("body" if loc[0] in ("p", "q") else "query", *loc)})
        raise CappedValidationError(errors, exc.error_count()) from None


def _numbers(values: NDArray[np.float64]) -> bytes:
    """A float64 array as JSON, +inf as "Infinity" (orjson writes null for it; the kernels
    never give NaN, and no other null is in the text)."""
    text = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)
    return text.replace(b"null", b'"Infinity"') if np.isinf(values).any() else text


def json_answer(answer: service.MatrixAnswer) -> bytes:
    """The answer as :class:`MatrixResponse` or :class:`NearestResponse` JSON, written from
    the arrays without a Python object per value."""
    head: dict[str, Any] = {"measure": answer.measure}
    if answer.unit is not None:
        head["unit"] = answer.unit
    head["normalized"] = answer.normalized
    head["smoothing"] = None if answer.smoothing is None else answer.smoothing.model_dump()
    head["shape"] = list(answer.shape)
    parts = [orjson.dumps(head)[:-1]]
    if answer.value is not None:
        parts += [b',"value":', _numbers(answer.value)]
    else:
        assert answer.indices is not None and answer.values is not None
        indices = orjson.dumps(answer.indices.astype(np.int64), option=orjson.OPT_SERIALIZE_NUMPY)
        parts += [b',"indices":', indices, b',"values":', _numbers(answer.values)]
    return b"".join([*parts, b"}"])


async def _npy_pieces(array: NDArray[np.float64], header: bytes) -> AsyncIterator[bytes]:
    yield header
    rows = max(1, _CHUNK_BYTES // max(1, array.shape[1] * 8))
    for start in range(0, array.shape[0], rows):
        yield array[start : start + rows].tobytes()


def npy_answer(matrix: NDArray[np.float64]) -> StreamingResponse:
    """The matrix as one float64 ``.npy`` array, sent in pieces (never a second full copy)."""
    matrix = np.ascontiguousarray(matrix)
    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(buffer, npy_format.header_data_from_array_1_0(matrix))
    header = buffer.getvalue()
    length = str(len(header) + matrix.nbytes)
    return StreamingResponse(
        _npy_pieces(matrix, header), media_type=NPY, headers={"content-length": length}
    )


def npz_answer(answer: service.MatrixAnswer) -> Response:
    """The nearest rows as an ``.npz`` archive (not compressed): ``indices`` and ``values``."""
    assert answer.indices is not None and answer.values is not None
    buffer = io.BytesIO()
    np.savez(buffer, indices=answer.indices.astype(np.int64), values=answer.values)
    return Response(buffer.getvalue(), media_type=NPZ)


def _parsed(
    content_type: str, data: bytes, query: dict[str, str], accept: str | None
) -> tuple[MatrixRequest, str]:
    """The request, and the media type of its answer (406 before any work)."""
    request = parse_matrix_request(content_type, data, query)
    return request, answer_media(accept, request.top_k is not None)


def _work(request: MatrixRequest) -> int:
    """Pairs times events: what the matrix costs."""
    m, n = request.p.values.shape
    return int(m * n * (m if request.q is None else request.q.values.shape[0]))


def _respond(request: MatrixRequest, media: str, settings: Settings) -> Response:
    """The answer in ``media``: 413 (before any work) over the settings."""
    answer = service.matrix(request, settings, as_json=media == JSON)
    if media == NPY:
        assert answer.value is not None
        return npy_answer(answer.value)
    if media == NPZ:
        return npz_answer(answer)
    return Response(json_answer(answer), media_type=JSON)


def _answer(
    content_type: str, data: bytes, query: dict[str, str], accept: str | None, settings: Settings
) -> Response:
    return _respond(*_parsed(content_type, data, query, accept), settings)


class MatrixEndpoint:
    """``POST /v1/matrix`` as a raw ASGI app, as the measure endpoints are: a FastAPI route
    would cost milliseconds a request here (its sync dependencies are thread hops); the key
    is checked before the body is read, the rest runs in the thread pool."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        settings: Settings = scope["app"].state.settings
        try:
            numeric_guard(request)
            data = await request.body()
            given = (
                request.headers.get("content-type", JSON),
                data,
                dict(request.query_params),
                request.headers.get("accept"),
            )
            if len(data) > INLINE_MAX_BYTES:  # parsing takes a while: all in the pool
                response = await run_in_threadpool(_answer, *given, settings)
            else:  # parsed on the loop; computed there too when that takes microseconds
                parsed, media = _parsed(*given)
                if _work(parsed) <= INLINE_MAX_WORK:
                    response = _respond(parsed, media, settings)
                else:
                    response = await run_in_threadpool(_respond, parsed, media, settings)
        except (RequestValidationError, ServiceError) as exc:
            exc.__traceback__ = None  # bad input: its frames would only keep the body alive
            problem = (
                validation_problem(exc, scope["path"])
                if isinstance(exc, RequestValidationError)
                else service_problem(exc, scope["path"])
            )
            await problem(scope, receive, send)
            return
        await response(scope, receive, send)


# included by app.main like the other routers; the size limits give PATH the numeric limits
router = APIRouter(routes=[Route(PATH, MatrixEndpoint(), methods=["POST"], name="matrix")])
