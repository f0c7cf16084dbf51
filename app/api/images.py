"""Pictures as HTTP answers: content negotiation (Accept or ``format``) and the response."""

from __future__ import annotations

from fastapi import Response

from app.services.plots import to_png

__all__ = ["image_response", "wants_image"]


def wants_image(accept: str | None, fmt: str | None) -> str | None:
    """``"svg"`` or ``"png"`` if the caller asked for a picture (format wins over Accept)."""
    if fmt is not None:
        return fmt
    accept = accept or ""
    if "image/png" in accept:
        return "png"
    if "image/svg+xml" in accept:
        return "svg"
    return None


def image_response(svg: str, fmt: str) -> Response:
    if fmt == "png":
        return Response(to_png(svg), media_type="image/png")
    return Response(svg, media_type="image/svg+xml")
