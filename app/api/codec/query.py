"""Options given in the query string (with either kind of body)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.schemas.common import Unit

__all__ = ["OPTION_FIELDS", "ParameterKind", "query_options"]

OPTION_FIELDS = ("unit", "normalize", "tolerance", "smoothing")


class _QueryOptions(BaseModel):
    """The options as query parameters, each checked on its own (as the OpenAPI says)."""

    model_config = ConfigDict(extra="ignore")

    unit: Unit | None = None
    normalize: bool | None = None
    tolerance: float | None = Field(None, ge=0, le=0.5, allow_inf_nan=False)
    smoothing_alpha: float | None = Field(None, gt=0, le=1e6, allow_inf_nan=False)
    smoothing_apply_to: Literal["both", "p", "q"] | None = None


ParameterKind = Literal["number", "numbers", "names"]


def _number(text: str) -> float:
    value = text.strip()
    return math.inf if value in ("Infinity", "inf") else float(value)


def _parameter(name: str, kind: ParameterKind, text: str) -> Any:
    """A measure's parameter from its query form: a number, or a comma-separated list.

    Only the form is checked here; the values are checked by the request model, as in JSON."""
    try:
        if kind == "number":
            return _number(text)
        if kind == "numbers":
            return [_number(item) for item in text.split(",")]
    except ValueError:
        shape = "a number" if kind == "number" else "comma-separated numbers"
        msg = f"expected {shape}, got {text[:40]!r}"
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": msg, "type": "parameter_form"}]
        ) from None
    return [item.strip() for item in text.split(",")]


def query_options(
    query: dict[str, str], parameters: Mapping[str, ParameterKind] | None = None
) -> dict[str, Any]:
    """Options given in the query string (``smoothing_*`` fold into ``smoothing``), and the
    measure's ``parameters`` (name -> kind) when given there."""
    if not query:
        return {}
    found = {
        name: _parameter(name, kind, query[name])
        for name, kind in (parameters or {}).items()
        if name in query
    }
    try:
        given = _QueryOptions.model_validate(query)
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    options: dict[str, Any] = {
        k: getattr(given, k)
        for k in ("unit", "normalize", "tolerance")
        if k in given.model_fields_set
    }
    if given.smoothing_alpha is not None:  # smoothing_apply_to alone changes nothing
        smoothing: dict[str, Any] = {"alpha": given.smoothing_alpha}
        if given.smoothing_apply_to is not None:
            smoothing["apply_to"] = given.smoothing_apply_to
        options["smoothing"] = smoothing
    return {**options, **found}
