"""The error responses documented on every operation (the problem model is in schemas)."""

from __future__ import annotations

from typing import Any

from app.schemas.problems import Problem, ProblemItem

__all__ = ["AUTH_PROBLEMS", "JOB_PROBLEMS", "PROBLEM_RESPONSES", "Problem", "ProblemItem"]


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("The body could not be read as JSON."),
    401: _problem("An API key is required (with DIVERGENCE_NUMERIC_ACCESS=keyed)."),
    403: _problem("The API key is not valid."),
    413: _problem("The body is larger than this service accepts."),
    415: _problem("The body is neither JSON nor, for numeric endpoints, application/x-npy."),
    422: _problem("The input cannot be used; `errors[].loc` names the field and index."),
}
AUTH_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem("An API key is required (Authorization: Bearer KEY, or X-API-Key)."),
    403: _problem("The API key is not valid."),
    429: _problem("Too many experiments: see Retry-After."),
}
JOB_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("The body could not be read as JSON."),
    413: _problem("The body is larger than this service accepts."),
    415: _problem("The body is not JSON."),
    404: _problem("No experiment with this id."),
    409: _problem("The experiment is not in a state that allows this."),
    422: _problem("The input cannot be used; `errors[].loc` names the field."),
}
