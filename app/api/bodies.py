"""Reading request bodies: into one buffer of the announced size, as a dependency."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.schemas.payloads import NPY, RawBody

__all__ = ["numeric_body_doc", "read_body"]


_SMALL_BODY = 64 * 1024


async def read_body(request: Request) -> RawBody:
    """The whole body; a large one with a Content-Length into one preallocated buffer (no
    joins of chunks, no second copy)."""
    length = request.headers.get("content-length")
    data: bytes | bytearray
    if length is not None and length.isdigit() and int(length) > _SMALL_BODY:
        data = bytearray(int(length))
        view, filled = memoryview(data), 0
        async for chunk in request.stream():
            view[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        if filled != len(data):
            data = data[:filled]
    else:
        data = await request.body()
    return RawBody(
        request.headers.get("content-type", "application/json"), data, dict(request.query_params)
    )


_NPY_OPTIONS = [
    {"name": "unit", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["bits", "nats", "bans"]},
     "description": "With an application/x-npy body only (JSON bodies carry their options)."},
    {"name": "normalize", "in": "query", "required": False, "schema": {"type": "boolean"},
     "description": "With an application/x-npy body only."},
    {"name": "tolerance", "in": "query", "required": False,
     "schema": {"type": "number", "minimum": 0, "maximum": 0.5},
     "description": "With an application/x-npy body only."},
    {"name": "smoothing_alpha", "in": "query", "required": False,
     "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6},
     "description": "Additive smoothing, with an application/x-npy body only."},
    {"name": "smoothing_apply_to", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["both", "p", "q"]},
     "description": "With smoothing_alpha."},
]  # fmt: skip


def numeric_body_doc(model: str, examples: dict[str, Any], pair: bool) -> dict[str, Any]:
    """OpenAPI for a body that is JSON (the model) or one .npy array."""
    layout = (
        "p and q stacked in one array: shape (2, n), or (2, rows, n) for a batch"
        if pair
        else "p: shape (n,), or (rows, n) for a batch"
    )
    return {
        "parameters": _NPY_OPTIONS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{model}"},
                    "examples": examples,
                },
                NPY: {
                    "schema": {"type": "string", "format": "binary"},
                    "description": f"One .npy array (numpy.save), int or float: {layout}.",
                },
            },
        },
    }
