"""Reading request bodies into one buffer that grows with the bytes that arrive."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.api.codec import NPY, RawBody

__all__ = ["numeric_body_doc", "read_body"]


async def read_body(request: Request) -> RawBody:
    """The whole body, in one buffer that grows as chunks arrive.

    Never sized from the Content-Length: a client may announce 512 MiB and send six bytes.
    Appending to a bytearray reallocates in place (large blocks are remapped, not copied),
    so a large body costs about its own size; a one-chunk body is kept as it came."""
    data: bytes | bytearray = b""
    async for chunk in request.stream():
        if not data:
            data = chunk
            continue
        if not isinstance(data, bytearray):
            data = bytearray(data)
        data += chunk
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
