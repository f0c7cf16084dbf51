"""A pure ASGI fast path for small numeric requests, ahead of the router.

The six numeric endpoints are the service's hot path, and for a short distribution the
framework's own work (matching routes, building a Request, solving dependencies, building a
Response) costs more than parsing, validating and computing together. A POST to one of them
with a small body, a type the endpoint accepts and no key required is answered here by the same
code the routed endpoint runs (``app.api.measures.answer``). Anything else, and every request
whose input is invalid, goes on to the router with its body replayed, so errors, limits and
documentation stay where they are and a fast answer never differs from a routed one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.codec import RawBody
from app.api.limits import Deadlines, accepted_content_type, is_npy, read_timeout_problem
from app.api.measures import ENDPOINTS, INLINE_MAX_BYTES, answer
from app.config import Settings
from app.errors import ServiceError

__all__ = ["NumericFastPath"]

_log = logging.getLogger("app.api.fastpath")


class NumericFastPath:
    """ASGI middleware answering small, open numeric requests without the router."""

    def __init__(self, app: ASGIApp, settings: Settings, routes: dict[str, Any]) -> None:
        self.app = app
        self.enabled = settings.numeric_access == "open"
        self.tolerance = settings.default_tolerance
        self.json_limit = min(INLINE_MAX_BYTES, settings.max_json_bytes)
        self.binary_limit = min(INLINE_MAX_BYTES, settings.max_binary_bytes)
        self.read_timeout = settings.body_read_timeout
        self.deadlines = Deadlines()
        # the routes' own objects, so that metrics and logs name the same route template
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = ENDPOINTS.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None or not self.enabled or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        content_type: bytes | None = None
        length = -1
        for name, value in scope["headers"]:
            if name == b"content-type":
                if content_type is not None:  # repeated: the size limits refuse it
                    length = -1
                    break
                content_type = value
            elif name == b"content-length":
                if length >= 0 or not value.isdigit():  # repeated or odd: likewise
                    length = -1
                    break
                length = int(value)
            elif name == b"transfer-encoding":
                length = -1
                break
        limit = self.binary_limit if is_npy(content_type) else self.json_limit
        if length < 0 or length > limit or not accepted_content_type(content_type):
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        deadline = asyncio.get_running_loop().time() + self.read_timeout
        try:
            while True:
                message = await self.deadlines.receive(receive, deadline)
                if message["type"] != "http.request":  # the client went away
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except TimeoutError:
            await read_timeout_problem(self.read_timeout, scope["path"])(scope, receive, send)
            return
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        query = dict(QueryParams(scope["query_string"])) if scope["query_string"] else {}
        shown = "application/json" if content_type is None else content_type.decode("latin-1")
        try:
            content = answer(RawBody(shown, data, query), self.tolerance, *endpoint)
        except (RequestValidationError, ServiceError):  # bad input: the router words it
            await self.app(scope, _replay(data, receive), send)
            return
        except Exception:
            # a fault, not bad input: worth a trace; the routed endpoint then answers as usual
            _log.exception(
                "fast path failed on %s; handing the request to the router", scope["path"]
            )
            await self.app(scope, _replay(data, receive), send)
            return
        scope["route"] = self.routes.get(scope["path"])
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _replay(data: bytes, receive: Receive) -> Receive:
    """A receive channel that delivers ``data`` once, then passes on the server's messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}
        return await receive()

    return replayed
