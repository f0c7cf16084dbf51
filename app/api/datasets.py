"""``GET /v1/datasets``: what an experiment can train on, and what is available offline."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import SettingsDep
from app.catalog import DATASETS, is_cached
from app.schemas.experiments import DatasetInfo, DatasetList

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["experiments"])


@router.get("/datasets", response_model=DatasetList, summary="Data sets for experiments")
def list_datasets(settings: SettingsDep) -> DatasetList:
    """Data sets with their image shape and classes, and whether each loads offline now."""
    items = [
        DatasetInfo(
            name=s.name,
            description=s.description,
            shape=s.shape,
            classes=s.classes,
            train_size=s.train_size,
            test_size=s.test_size,
            available_offline=is_cached(s, settings.keras_cache),
        )
        for s in DATASETS.values()
    ]
    return DatasetList(items=items)
