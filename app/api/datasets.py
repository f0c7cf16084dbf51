"""``GET /v1/datasets``: what an experiment can train on, and where each set was found."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import SettingsDep
from app.catalog import DATASETS, DatasetSpec, Found, locate
from app.schemas.experiments import DatasetInfo, DatasetList

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["experiments"])


def _info(spec: DatasetSpec, found: Found | None) -> DatasetInfo:
    return DatasetInfo(
        name=spec.name,
        description=spec.description,
        shape=spec.shape,
        classes=spec.classes,
        train_size=spec.train_size,
        test_size=spec.test_size,
        available_offline=not spec.layouts or found is not None,
        location=None if found is None else str(found.location),
    )


@router.get("/datasets", response_model=DatasetList, summary="Data sets for experiments")
def list_datasets(settings: SettingsDep) -> DatasetList:
    """Data sets with their image shape, classes and sizes, whether each loads offline now,
    and where its files were found (the first of the data directories that holds them)."""
    dirs = settings.dataset_dirs
    return DatasetList(items=[_info(s, locate(s, dirs)) for s in DATASETS.values()])
