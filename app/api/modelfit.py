"""``POST /v1/model-fit``: which few-parameter model loses the least information."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Response

from app.api.deps import SettingsDep
from app.api.images import image_response, wants_image
from app.api.json_route import OffLoopJSONRoute
from app.api.problems import PROBLEM_RESPONSES
from app.api.security import numeric_client
from app.schemas.modelfit import ModelFitRequest, ModelFitResponse
from app.services.figures import model_fit_svg
from app.services.modelfit import fit

__all__ = ["router"]

router = APIRouter(
    route_class=OffLoopJSONRoute,
    prefix="/v1",
    tags=["model fitting"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(numeric_client)],
)

EXAMPLES: dict[str, dict[str, Any]] = {
    "worms": {
        "summary": "The article's space worms: how many of 100 have 0..10 teeth",
        "value": {"counts": [2, 3, 5, 14, 16, 15, 12, 8, 10, 8, 7], "unit": "bits"},
    },
    "samples": {
        "summary": "Raw observations, with a model of your own",
        "value": {
            "samples": [0, 1, 1, 2, 2, 2, 3, 3, 4, 1, 2, 0],
            "custom": [{"name": "mine", "p": [0.15, 0.25, 0.3, 0.2, 0.1]}],
            "bootstrap": {"resamples": 500, "seed": 7},
        },
    },
    "labels": {
        "summary": "Counts by value; the support runs to 6",
        "value": {"label_counts": {"0": 5, "2": 9, "3": 4}, "support_max": 6},
    },
}
IMAGES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/svg+xml": {}, "image/png": {}},
        "description": "With `format` or `Accept: image/svg+xml|image/png`: the bars.",
    }
}
Format = Annotated[Literal["svg", "png"] | None, Query(description="Answer with a picture.")]


@router.post(
    "/model-fit",
    response_model=ModelFitResponse,
    responses=IMAGES,
    summary="Rank few-parameter models by the information they lose",
)
def model_fit(
    request: Annotated[ModelFitRequest, Body(openapi_examples=EXAMPLES)],
    settings: SettingsDep,
    format: Format = None,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """Fit uniform, binomial, Poisson, geometric and your models; rank by D(observed || model)."""
    result = fit(request, settings.max_bootstrap_work)
    picture = wants_image(accept, format)
    return result if picture is None else image_response(model_fit_svg(result), picture)


@router.post(
    "/model-fit/plot", response_class=Response, responses=IMAGES, summary="Model fit as a picture"
)
def model_fit_plot(
    request: Annotated[ModelFitRequest, Body(openapi_examples=EXAMPLES)],
    settings: SettingsDep,
    format: Annotated[Literal["svg", "png"], Query()] = "svg",
) -> Any:
    """The fit as bars: observed against each fitted model (SVG by default, PNG on request)."""
    return image_response(model_fit_svg(fit(request, settings.max_bootstrap_work)), format)
