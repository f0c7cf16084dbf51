"""The OpenAPI description of the numeric endpoints' bodies: JSON (the request model) or one
``.npy`` array, whose options come in the query string. (The endpoints read their bodies
themselves: ``app.api.measures``.)"""

from __future__ import annotations

from typing import Any

from app.api.codec import NPY
from app.infotheory.units import UNITS

__all__ = ["numeric_body_doc"]


_NPY_OPTIONS = [
    {"name": "unit", "in": "query", "required": False,
     "schema": {"type": "string", "enum": list(UNITS)},
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


def numeric_body_doc(
    model: str,
    examples: dict[str, Any],
    pair: bool,
    unit: bool = True,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """OpenAPI for a body that is JSON (the model) or one .npy array, and the query options of
    the .npy body (``unit`` only for a measure that has one; a measure's own ``parameters``
    after the common ones)."""
    layout = (
        "p and q stacked in one array: shape (2, n), or (2, rows, n) for a batch"
        if pair
        else "p: shape (n,), or (rows, n) for a batch"
    )
    return {
        "parameters": [p for p in _NPY_OPTIONS if unit or p["name"] != "unit"] + (parameters or []),
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
