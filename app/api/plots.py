"""``/v1/plots``: the article's pictures."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.api.images import image_response
from app.api.problems import PROBLEM_RESPONSES
from app.schemas.common import Unit
from app.services.figures import binary_entropy_svg

__all__ = ["router"]

router = APIRouter(prefix="/v1/plots", tags=["pictures"], responses=PROBLEM_RESPONSES)


@router.get(
    "/binary-entropy",
    summary="Binary entropy curve (the article's first figure)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "Chart"}},
)
def binary_entropy(
    unit: Unit = "bits",
    format: Literal["svg", "png"] = "svg",
    points: Annotated[int, Query(ge=3, le=2001)] = 101,
) -> Response:
    """The article's first figure: H([p, 1 - p]) against p, highest at p = 0.5."""
    return image_response(binary_entropy_svg(unit, points), format)
