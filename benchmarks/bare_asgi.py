"""A bare ASGI app answering every request as ``GET /healthz`` does: the server's floor.

``benchmarks/over_http.py`` serves it with the same uvicorn settings as the service, so the
table shows what uvicorn and the loopback cost on their own, beside the framework ceiling.
"""

from __future__ import annotations

from typing import Any

_BODY = b'{"status":"ok"}'
_HEADERS = [(b"content-length", str(len(_BODY)).encode()), (b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # lifespan: nothing to set up
        message = await receive()
        while message["type"] != "lifespan.shutdown":
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:  # drain any body
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
