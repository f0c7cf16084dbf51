"""Routes whose JSON bodies are decoded off the event loop's critical path.

FastAPI decodes a JSON body with ``await request.json()``, which runs the standard
library's ``json.loads`` on the event loop: a 4 MiB document held the loop for over 100 ms
here, and every other request (``/healthz`` included) waited. These routes decode a body over 64 KiB
with orjson (several times faster, so the GIL is held a fraction as long) in the thread pool,
and fall back to the standard library for what orjson refuses (``NaN`` literals, which the
request models then refuse by name). One difference remains in large bodies: orjson reads an
integer beyond 64 bits as a float (every count and size field of the service refuses such
numbers either way). Small bodies are decoded as FastAPI decodes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["OffLoopJSONRoute"]

# below this a body is decoded where it is: the thread hop would cost more than the parse
_INLINE_MAX_BYTES = 64 * 1024


def _decode(body: bytes) -> Any:
    """A large body: orjson, the standard library for what orjson refuses."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)  # the exact path: NaN literals, or the decoder's own message


class _Request(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if len(body) <= _INLINE_MAX_BYTES:
                self._json = json.loads(body)  # as FastAPI itself decodes
            else:
                self._json = await run_in_threadpool(_decode, body)
        return self._json


class OffLoopJSONRoute(APIRoute):
    """An APIRoute whose request's ``json()`` is :class:`_Request`'s."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            if type(request) is Request:  # a subclass decodes its body its own way: keep it
                wrapped = _Request(request.scope, request.receive)
                if hasattr(request, "_body"):  # already read (by an outer route): not twice
                    wrapped._body = request._body
                request = wrapped
            return await handler(request)

        return handle
