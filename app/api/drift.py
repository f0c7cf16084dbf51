"""``/v1/drift``: references, checks of windows against them, their history and picture.

The rules (ownership, versions, caps, verdicts) are the service's
(:class:`app.services.drift.Drift`); these routes translate HTTP to it and back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response

from app.api.deps import SettingsDep, StoreDep
from app.api.images import image_response
from app.api.json_route import OffLoopJSONRoute
from app.api.problems import AUTH_PROBLEMS, JOB_PROBLEMS
from app.api.security import caller
from app.jobs.drift_store import DriftStore
from app.schemas.drift import (
    CheckList,
    CheckRequest,
    DriftCheck,
    Reference,
    ReferenceCreate,
    ReferenceList,
)
from app.services.callers import Caller
from app.services.drift import Drift

__all__ = ["router"]

router = APIRouter(
    route_class=OffLoopJSONRoute,
    prefix="/v1/drift/references",
    tags=["drift"],
    responses={
        **JOB_PROBLEMS,
        **AUTH_PROBLEMS,
        404: JOB_PROBLEMS[404] | {"description": "No such reference (or it is another client's)."},
    },
)

REFERENCE_EXAMPLE: dict[str, Any] = {
    "name": "checkout",
    "features": {
        "amount": {
            "kind": "numeric",
            "samples": [12.5, 18.0, 22.1, 9.9, 31.0, 15.2, 27.4, 11.8],
            "bins": {"rule": "quantiles", "count": 4},
        },
        "country": {"kind": "categorical", "counts": {"DE": 120, "FR": 80, "IT": 40}},
    },
}
CHECK_EXAMPLE: dict[str, Any] = {
    "window": {"amount": [14.0, 19.5, 25.0, 30.2, 35.5, 41.0], "country": {"DE": 50, "FR": 52}},
    "bootstrap": {"resamples": 200, "seed": 7, "confidence": 0.95},
}
NewReference = Annotated[
    ReferenceCreate,
    Body(
        openapi_examples={
            "two features": {
                "summary": "A numeric and a categorical feature",
                "value": REFERENCE_EXAMPLE,
            }
        }
    ),
]
NewCheck = Annotated[
    CheckRequest,
    Body(
        openapi_examples={
            "window": {"summary": "A window of both features", "value": CHECK_EXAMPLE}
        }
    ),
]
Version = Annotated[int | None, Query(ge=1, description="A version (default: the newest).")]
Owner = Annotated[str | None, Query(max_length=64, description="Admin keys: whose reference.")]
Limit = Annotated[int, Query(ge=1, le=100)]


def _drift(settings: SettingsDep, store: StoreDep) -> Drift:
    return Drift(DriftStore(store), settings)


Client = Annotated[Caller, Depends(caller)]
Service = Annotated[Drift, Depends(_drift)]


@router.post("", status_code=201, response_model=Reference)
def create_reference(
    body: NewReference, response: Response, client: Client, service: Service
) -> Reference:
    """Bin every feature once and store the reference (the name again: its next version)."""
    reference = service.create(body, client)
    response.headers["Location"] = reference.links["self"]
    return reference


@router.get("", response_model=ReferenceList)
def list_references(
    client: Client, service: Service, limit: Limit = 20, cursor: str | None = None
) -> ReferenceList:
    """Your references (an admin's: everybody's), the newest version of each, by name."""
    return service.page(client, limit, cursor)


@router.get("/{name}", response_model=Reference)
def get_reference(
    name: str, client: Client, service: Service, version: Version = None, owner: Owner = None
) -> Reference:
    """The reference's features: labels or bin edges, counts, thresholds."""
    return service.get(name, client, version, owner)


@router.delete("/{name}", status_code=204)
def delete_reference(
    name: str, client: Client, service: Service, version: Version = None, owner: Owner = None
) -> Response:
    """Delete every version of the reference (or one) and their checks."""
    service.delete(name, client, version, owner)
    return Response(status_code=204)


@router.post("/{name}/checks", status_code=201, response_model=DriftCheck)
def check_window(
    name: str,
    body: NewCheck,
    response: Response,
    client: Client,
    service: Service,
    version: Version = None,
    owner: Owner = None,
) -> DriftCheck:
    """Compare a window with the reference, feature by feature; the check is stored."""
    check = service.check(name, body, client, version, owner)
    response.headers["Location"] = check.links["self"]
    return check


@router.get("/{name}/checks", response_model=CheckList)
def list_checks(
    name: str,
    client: Client,
    service: Service,
    since: Annotated[datetime | None, Query(description="Only checks made after (UTC).")] = None,
    limit: Limit = 20,
    cursor: str | None = None,
    version: Version = None,
    owner: Owner = None,
) -> CheckList:
    """Stored checks, newest first; pass `next_cursor` back as `cursor` for the next page."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return service.checks(name, client, since, limit, cursor, version, owner)


@router.get("/{name}/checks/{check_id}", response_model=DriftCheck)
def get_check(
    name: str, check_id: str, client: Client, service: Service, owner: Owner = None
) -> DriftCheck:
    """One stored check."""
    return service.get_check(name, check_id, client, owner)


@router.get(
    "/{name}/plot",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "Chart"}},
)
def plot_feature(
    name: str,
    feature: Annotated[str, Query(min_length=1, max_length=128)],
    client: Client,
    service: Service,
    format: Literal["svg", "png"] = "svg",
    limit: Annotated[int, Query(ge=2, le=1000)] = 100,
    version: Version = None,
    owner: Owner = None,
) -> Response:
    """The feature's measures over the newest `limit` checks, with its thresholds."""
    return image_response(service.plot(name, feature, client, limit, version, owner), format)
