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


# Markers by where a test lives, so that `make quick` can leave out what starts processes.
_MARKED = {
    "e2e": ("tests/e2e/", "tests/client/", "tests/test_settings_and_serve.py",
            "tests/test_make_targets.py"),
    "containers": ("tests/test_containers.py",),
    "browser": ("tests/test_docs_browser.py",),
    "fuzz": ("tests/test_fuzz.py",),
}  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    for item in items:
        where = item.path.relative_to(root).as_posix()
        for marker, places in _MARKED.items():
            if where.startswith(places):
                item.add_marker(getattr(pytest.mark, marker))
