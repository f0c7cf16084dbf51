"""``/v1/losses``: per-sample classification losses, exactly."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from app.api.deps import SettingsDep
from app.api.json_route import OffLoopJSONRoute
from app.api.problems import PROBLEM_RESPONSES
from app.api.security import numeric_client
from app.schemas.losses import LossRequest, LossResponse
from app.services import losses

__all__ = ["router"]

router = APIRouter(
    route_class=OffLoopJSONRoute,
    prefix="/v1/losses",
    tags=["losses"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(numeric_client)],
)

ARTICLE = {
    "labels": [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    "predictions": [0.8, 0.9, 0.9, 0.6, 0.8, 0.1, 0.4, 0.2, 0.1, 0.3],
}
BINARY: dict[str, dict[str, Any]] = {
    "article": {"summary": "The article's labels and predictions", "value": ARTICLE},
    "logits": {
        "summary": "Logits, summed",
        "value": {
            "labels": [1, 0, 1],
            "predictions": [2.5, -1.0, 30.0],
            "from_logits": True,
            "reduction": "sum",
        },
    },
}
CATEGORICAL: dict[str, dict[str, Any]] = {
    "one-hot": {
        "summary": "One-hot labels against probabilities",
        "value": {
            "labels": [[1, 0, 0], [0, 1, 0]],
            "predictions": [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]],
        },
    },
    "sparse-logits": {
        "summary": "Class indices against logits, with label smoothing",
        "value": {
            "labels": [0, 2],
            "predictions": [[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]],
            "from_logits": True,
            "label_smoothing": 0.1,
        },
    },
}
KL: dict[str, dict[str, Any]] = {
    "soft": {
        "summary": "Soft labels against predictions, per sample",
        "value": {
            "labels": [[0.9, 0.1], [0.5, 0.5]],
            "predictions": [[0.8, 0.2], [0.6, 0.4]],
            "reduction": "none",
        },
    },
}


def _json(result: LossResponse) -> Response:
    """The answer serialised here, in the thread pool the endpoint runs in: a per-sample
    answer of a large request would otherwise be encoded on the event loop."""
    return Response(result.model_dump_json(), media_type="application/json")


@router.post(
    "/binary-cross-entropy", response_model=LossResponse, summary="Binary cross-entropy loss"
)
def binary_cross_entropy(
    request: Annotated[LossRequest, Body(openapi_examples=BINARY)], settings: SettingsDep
) -> Any:
    """-(y log p + (1 - y) log(1 - p)) per sample; logits through a stable log-sigmoid."""
    return _json(losses.binary_cross_entropy(request, settings.max_classes))


@router.post(
    "/categorical-cross-entropy",
    response_model=LossResponse,
    summary="Categorical cross-entropy loss",
)
def categorical_cross_entropy(
    request: Annotated[LossRequest, Body(openapi_examples=CATEGORICAL)],
    settings: SettingsDep,
) -> Any:
    """-sum y log q per sample; logits through a stable log-softmax; class indices accepted."""
    return _json(losses.categorical_cross_entropy(request, settings.max_classes))


@router.post("/kl-divergence", response_model=LossResponse, summary="KL divergence loss")
def kl_divergence(
    request: Annotated[LossRequest, Body(openapi_examples=KL)], settings: SettingsDep
) -> Any:
    """D(y || q) per sample."""
    return _json(losses.kl_divergence(request, settings.max_classes))
