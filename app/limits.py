"""What a request body may be, checked before it is read: its type (415) and size (413).

Bodies are JSON (``application/json`` or ``application/*+json``; a body without a
Content-Type is read as JSON) or, for the numeric endpoints, ``application/x-npy``. A request
announcing a Content-Length over the limit for its type is refused at once; a chunked body
is counted as it streams and refused when it crosses the limit.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ServiceError, problem_response

__all__ = ["BodyTooLargeError", "SizeLimits", "accepted_content_type", "is_npy"]


class BodyTooLargeError(ServiceError):
    status = 413
    title = "Content Too Large"


def _media(content_type: bytes | None) -> bytes:
    return b"" if content_type is None else content_type.split(b";")[0].strip().lower()


def accepted_content_type(content_type: bytes | None) -> bool:
    media = _media(content_type)
    return media in (b"", b"application/json", b"application/x-npy") or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


def is_npy(content_type: bytes | None) -> bool:
    """Whether the body is an .npy array (it has the binary size limit)."""
    return _media(content_type) == b"application/x-npy"


class SizeLimits:
    """ASGI middleware: .npy bodies up to ``binary_bytes``, all others up to ``json_bytes``."""

    def __init__(self, app: ASGIApp, json_bytes: int, binary_bytes: int) -> None:
        self.app, self.json_bytes, self.binary_bytes = app, json_bytes, binary_bytes

    def _limit(self, headers: dict[bytes, bytes]) -> tuple[int, str]:
        if is_npy(headers.get(b"content-type")):
            return self.binary_bytes, "DIVERGENCE_MAX_BINARY_BYTES"
        return self.json_bytes, "DIVERGENCE_MAX_JSON_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        path = scope.get("path", "")
        if not accepted_content_type(headers.get(b"content-type")):
            shown = headers.get(b"content-type", b"").decode("latin-1")
            detail = f"unsupported Content-Type {shown!r}: send application/json"
            if path.startswith("/v1/") and "x-npy" not in shown:
                detail += " (or application/x-npy to the numeric endpoints)"
            await problem_response(415, detail, path)(scope, receive, send)
            return
        limit, setting = self._limit(headers)
        message = f"the body is larger than this service's limit of {limit} bytes ({setting})"
        announced = headers.get(b"content-length")
        if announced is not None and announced.isdigit():
            if int(announced) > limit:
                await problem_response(413, message, path)(scope, receive, send)
                return
            # the server delivers no more than the announced length: nothing to count
            await self.app(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            received: Any = await receive()
            if received["type"] == "http.request":
                seen += len(received.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(message)
            return received  # type: ignore[no-any-return]

        await self.app(scope, counted, send)
