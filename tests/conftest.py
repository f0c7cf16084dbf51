from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


@pytest.fixture(scope="session")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The app in-process, its job store and queue in a private directory (no worker)."""
    tmp = tmp_path_factory.mktemp("app")
    return TestClient(create_app(Settings(data_dir=tmp / "data", keras_home=tmp / "keras")))
