"""The documentation matches the code: every setting (a generated table), every operation,
and every local link."""

from __future__ import annotations

import re
from pathlib import Path

from app.config import Settings, with_settings_table
from app.main import create_app

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = (ROOT / "docs" / "deploy.md").read_text()
API = (ROOT / "docs" / "api.md").read_text()


def test_the_settings_table_is_generated_from_the_settings() -> None:
    assert with_settings_table(DEPLOY) == DEPLOY, "stale settings table: run `make docs`"
    for name in Settings.model_fields:
        assert f"| `DIVERGENCE_{name.upper()}` |" in DEPLOY, name


def test_every_operation_is_in_the_api_reference() -> None:
    paths = create_app().openapi()["paths"]
    for path in paths:
        shown = path.split("{")[0].rstrip("/")
        assert shown in API, path


def test_local_links_point_at_files() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
