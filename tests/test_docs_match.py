"""The README documents every setting and every endpoint."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings
from app.main import create_app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_readme_table() -> None:
    for name in Settings.model_fields:
        assert f"| `DIVERGENCE_{name.upper()}` |" in README, name


def test_every_operation_is_in_the_readme() -> None:
    paths = create_app().openapi()["paths"]
    for path in paths:
        shown = path.split("{")[0].rstrip("/")
        assert shown in README, path
