"""Request bodies of the numeric endpoints: JSON, parsed fast, or raw ``.npy`` arrays.

JSON is the default. A body whose ``p`` and ``q`` are plain arrays of numbers (or arrays of
equal rows) is decoded by msgspec straight into typed lists, which rejects booleans, strings
and nulls as it goes, and turned into float64 arrays without a Python loop; any other body
(label maps, mixed shapes, invalid input) takes the general path, stdlib JSON and pydantic,
whose errors name the field and index exactly.

``application/x-npy`` bodies skip JSON altogether: one ``.npy`` array (for a pair, ``p`` and
``q`` stacked: shape ``(2, n)`` or ``(2, rows, n)``), read without a copy; the options come
from the query string.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import numpy as np
from fastapi.exceptions import RequestValidationError
from numpy.lib import format as npy
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError

__all__ = ["NPY", "RawBody", "parse_npy", "parse_request"]

NPY = "application/x-npy"
Model = TypeVar("Model", bound=BaseModel)

_OPTION_FIELDS = ("unit", "normalize", "tolerance", "smoothing")


@dataclass(frozen=True)
class RawBody:
    """What the endpoint received, read by the event loop, parsed in the thread pool."""

    content_type: str
    data: bytes | bytearray
    query: dict[str, str]


class _Flat(msgspec.Struct, forbid_unknown_fields=True):
    p: list[float]
    q: list[float] | msgspec.UnsetType = msgspec.UNSET
    unit: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    normalize: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    tolerance: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    smoothing: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class _Rows(msgspec.Struct, forbid_unknown_fields=True):
    p: list[list[float]]
    q: list[list[float]] | msgspec.UnsetType = msgspec.UNSET
    unit: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    normalize: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    tolerance: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    smoothing: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_FLAT = msgspec.json.Decoder(_Flat)
_ROWS = msgspec.json.Decoder(_Rows)


def _flat(values: list[float]) -> NDArray[np.float64]:
    return np.fromiter(values, dtype=np.float64, count=len(values))


def _rows(rows: list[list[float]]) -> NDArray[np.float64] | None:
    """Rows of equal length as one 2-D array; None when ragged (the general path explains)."""
    width = len(rows[0]) if rows else 0
    if not rows or width == 0 or any(len(r) != width for r in rows):
        return None
    flat = np.fromiter(itertools.chain.from_iterable(rows), np.float64, len(rows) * width)
    return flat.reshape(len(rows), width)


def _fast_json(data: bytes | bytearray) -> dict[str, Any] | None:
    """Arrays and raw options of a plain-array body, or None to take the general path."""
    decoded: _Flat | _Rows
    try:
        decoded = _FLAT.decode(data)
        arrays = {"p": _flat(decoded.p)}
        if decoded.q is not msgspec.UNSET:
            arrays["q"] = _flat(decoded.q)
    except (msgspec.ValidationError, msgspec.DecodeError):
        try:
            decoded = _ROWS.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        p = _rows(decoded.p)
        q = _rows(decoded.q) if decoded.q is not msgspec.UNSET else None
        if p is None or (decoded.q is not msgspec.UNSET and q is None):
            return None
        arrays = {"p": p} if q is None else {"p": p, "q": q}
    options = {
        name: json.loads(bytes(raw))
        for name in _OPTION_FIELDS
        if (raw := getattr(decoded, name)) is not msgspec.UNSET
    }
    return {**arrays, **options}


def _body_error(msg: str, kind: str = "npy") -> RequestValidationError:
    return RequestValidationError([{"loc": ("body",), "msg": msg, "type": kind}])


def parse_npy(data: bytes | bytearray) -> NDArray[np.float64]:
    """A ``.npy`` body as a float64 array, without a copy when it is already float64."""
    try:
        stream = memoryview(data)
        version = npy.read_magic(_Reader(stream))
        reader = _Reader(stream, offset=8)
        read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = read_header(reader)
    except ValueError as exc:
        raise _body_error(f"not an .npy array: {exc}") from None
    if dtype.hasobject or dtype.kind not in "fiu":
        raise _body_error(f"unsupported dtype {dtype}")
    count = int(np.prod(shape))
    if len(data) - reader.offset != count * dtype.itemsize:
        raise _body_error("the .npy data is truncated")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=reader.offset)
    array = array.reshape(shape, order="F" if fortran else "C")
    return np.asarray(array, dtype=np.float64)


class _Reader:
    """The minimal file interface numpy's .npy header readers need, over a buffer."""

    def __init__(self, buffer: memoryview, offset: int = 0) -> None:
        self.buffer, self.offset = buffer, offset

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            size = len(self.buffer) - self.offset
        chunk = bytes(self.buffer[self.offset : self.offset + size])
        self.offset += len(chunk)
        return chunk


def _from_npy(body: RawBody, pair: bool) -> dict[str, Any]:
    array = parse_npy(body.data)
    options: dict[str, Any] = {k: v for k, v in body.query.items() if k in _OPTION_FIELDS[:3]}
    alpha = body.query.get("smoothing_alpha")
    if alpha is not None:
        options["smoothing"] = {
            "alpha": alpha,
            "apply_to": body.query.get("smoothing_apply_to", "both"),
        }
    if not pair:
        return {"p": array, **options}
    if array.ndim not in (2, 3) or array.shape[0] != 2:
        raise _body_error(f"a pair is one array of shape (2, n) or (2, rows, n), got {array.shape}")
    return {"p": array[0], "q": array[1], **options}


def _fields(body: RawBody, pair: bool) -> tuple[Any, str]:
    """The request's fields, and where its options came from (body or query)."""
    if body.content_type.split(";")[0].strip().lower() == NPY:
        return _from_npy(body, pair), "query"
    fields = _fast_json(body.data)
    if fields is not None:
        return fields, "body"
    try:
        return json.loads(body.data), "body"
    except (ValueError, UnicodeDecodeError) as exc:
        raise _body_error(f"invalid JSON: {exc}", "json_invalid") from None


def parse_request(body: RawBody, model: type[Model], pair: bool) -> Model:
    """Validate a numeric request from JSON or ``.npy``; errors as RequestValidationError."""
    fields, where = _fields(body, pair)
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            # the arrays are always in the body; options in the query for .npy bodies
            origin = "body" if not loc or loc[0] in ("p", "q") else where
            errors.append({**error, "loc": (origin, *loc)})
        raise RequestValidationError(errors) from None
