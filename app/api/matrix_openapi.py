"""The OpenAPI operation of ``POST /v1/matrix`` (a raw ASGI route, which FastAPI does not
document; ``app.main`` adds this path item and the models to the document)."""

from __future__ import annotations

from typing import Any

from app.api.codec import NPY
from app.api.problems import PROBLEM_RESPONSES
from app.infotheory.matrix import MATRIX_MEASURES
from app.infotheory.units import UNITS
from app.schemas.matrix import (
    MATRIX_MEASURE_NAMES,
    MatrixRequest,
    MatrixResponse,
    NearestResponse,
)

__all__ = ["DESCRIPTION", "JSON", "NPZ", "PATH", "REQUEST_MODELS", "RESPONSE_MODELS", "operations"]

PATH = "/v1/matrix"
JSON = "application/json"
NPZ = "application/x-npz"
REQUEST_MODELS = (MatrixRequest,)
RESPONSE_MODELS = (MatrixResponse, NearestResponse)

_NPY_QUERY = [
    ("measure", {"type": "string", "enum": list(MATRIX_MEASURE_NAMES)}, "The measure (required)."),
    ("p_rows", {"type": "integer", "minimum": 1},
     "Rows of p when the array holds p and then q, stacked by rows; omitted: p alone."),
    ("top_k", {"type": "integer", "minimum": 1}, "The nearest rows instead of the matrix."),
    ("unit", {"type": "string", "enum": list(UNITS)}, "Only for measures with a unit."),
    ("normalize", {"type": "boolean"}, "Divide each row by its sum."),
    ("tolerance", {"type": "number", "minimum": 0, "maximum": 0.5}, "Allowed |sum - 1|."),
    ("smoothing_alpha", {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6},
     "Additive smoothing."),
    ("smoothing_apply_to", {"type": "string", "enum": ["both", "p", "q"]}, "With smoothing_alpha."),
]  # fmt: skip

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_OPENAPI: dict[str, Any] = {
    # with DIVERGENCE_NUMERIC_ACCESS=keyed (checked by numeric_guard), as the losses declare
    "security": [{"APIKeyHeader": []}, {"HTTPBearer": []}],
    "parameters": [
        {"name": name, "in": "query", "required": False, "schema": schema,
         "description": f"{text} With an application/x-npy body only."}
        for name, schema, text in _NPY_QUERY
    ],
    "requestBody": {
        "required": True,
        "content": {
            JSON: {
                "schema": {"$ref": "#/components/schemas/MatrixRequest"},
                "examples": {
                    "js": {"summary": "JS divergence of two rows against themselves, in bits",
                           "value": {"p": [[0.5, 0.5], [0.9, 0.1]], "measure": "js_divergence",
                                     "unit": "bits"}},
                    "nearest": {"summary": "The nearest row of q for each row of p (KL)",
                                "value": {"p": [[0.5, 0.5], [0.9, 0.1]],
                                          "q": [[0.8, 0.2], [0.4, 0.6], [1, 0]],
                                          "measure": "kl_divergence", "top_k": 1}},
                },
            },
            NPY: {**_BINARY, "description": "One 2-D .npy array (numpy.save), int or float: p, "
                  "or p and q stacked by rows (numpy.vstack) with p_rows in the query."},
        },
    },
}  # fmt: skip


def _problem(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {"application/problem+json": {"schema": schema}}}


def _names(unit: bool) -> str:
    return ", ".join(name for name, info in MATRIX_MEASURES.items() if info.has_unit == unit)


DESCRIPTION = "\n\n".join(
    [
        "`M[i, j] = measure(p_i, q_j)` for every row of p and every row of q (q omitted: p "
        "against itself), or with `top_k` the nearest rows of q for each row of p, nearest "
        "first.",
        f"Measures with a unit (bits, nats or bans): {_names(True)}. "
        f"Unitless (they take no `unit`): {_names(False)}.",
        "Each row is checked as a distribution (or normalised with `normalize`); an infinite "
        'value (q = 0 where p > 0) is exactly `"Infinity"` in JSON, `inf` in `.npy`. '
        "m x k, m x k x n and the size of a JSON answer are bounded by settings: 413 before "
        "any work. Answers by `Accept`: JSON, `application/x-npy` (the matrix), or with "
        "`top_k` `application/x-npz` (`indices` and `values`).",
    ]
)


def operations() -> dict[str, Any]:
    """The OpenAPI path item of ``POST /v1/matrix``."""
    ok = {"oneOf": [{"$ref": f"#/components/schemas/{m.__name__}"} for m in RESPONSE_MODELS]}
    responses = {
        "200": {"description": "The matrix (JSON or .npy), or with top_k the nearest rows "
                               "(JSON or .npz: indices, values).",
                "content": {JSON: {"schema": ok}, NPY: _BINARY, NPZ: _BINARY}},
        **{str(k): v for k, v in PROBLEM_RESPONSES.items()},
        "406": _problem("Accept allows neither JSON nor the binary answer."),
        "413": _problem("The body is too large, or the matrix, its work or its JSON answer is "
                        "over a setting (DIVERGENCE_MAX_MATRIX_*)."),
    }  # fmt: skip
    operation = {
        "tags": ["matrices"],
        "summary": "Matrix of a measure between many distributions",
        "description": DESCRIPTION,
        "operationId": "matrix_v1_matrix_post",
        **_OPENAPI,
        "responses": responses,
    }
    return {PATH: {"post": operation}}
