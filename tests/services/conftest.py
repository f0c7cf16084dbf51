"""A real job store on a private SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.jobs.store import JobStore
from app.jobs.wiring import get_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", keras_home=tmp_path / "keras")


@pytest.fixture
def store(settings: Settings) -> JobStore:
    return get_store(settings)
