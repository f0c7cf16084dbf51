"""``python -m app.openapi``: print the OpenAPI document the app generates (``make openapi``)."""

from __future__ import annotations

import json
import sys
from typing import Any

from app.main import create_app

__all__ = ["render"]


def render() -> str:
    """The OpenAPI document as committed: sorted keys, two-space indent, final newline."""
    document: dict[str, Any] = create_app().openapi()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
