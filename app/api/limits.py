"""What a request body may be, checked before it is read, and how long it may take to arrive.

Bodies are JSON (``application/json`` or ``application/*+json``; a body without a
Content-Type is read as JSON) or, for the numeric endpoints, ``application/x-npy``. Before a
byte of the body is read, a request is refused when its headers cannot be trusted (a repeated
Content-Type or Content-Length: the limit and the parser must read the same one, 400), when
its type is not one of those (415), or when it announces a Content-Length over the limit for
its kind (413): ``.npy``, JSON arrays to the numeric endpoints, or a JSON document to any
other endpoint. A chunked body is counted as it streams and refused when it crosses the limit
(413), and a body that has not fully arrived within ``read_timeout`` seconds is refused with
408; both close the connection.

Those two refusals happen inside ``receive``, where the endpoint (or the framework reading a
body model) sees only an exception it may word as it likes; so the middleware remembers why
it failed the read, drops whatever the application answers, and sends its own problem. A
client that goes away mid-body is logged as one line, not as a failed request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ServiceError, problem_response

__all__ = [
    "BodyReadTimeoutError",
    "BodyTooLargeError",
    "Deadlines",
    "SizeLimits",
    "body_headers",
    "read_timeout_problem",
]

_log = logging.getLogger("app.api.limits")
_BODY_METHODS = ("POST", "PUT", "PATCH")
_CLOSE = {"connection": "close"}


class BodyTooLargeError(ServiceError):
    status = 413
    title = "Content Too Large"


class BodyReadTimeoutError(ServiceError):
    status = 408
    title = "Request Timeout"


def _media(content_type: bytes | None) -> bytes:
    return b"" if content_type is None else content_type.split(b";")[0].strip().lower()


_NPY = b"application/x-npy"


def _accepted_media(media: bytes) -> bool:
    return media in (b"", b"application/json", _NPY) or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


def body_headers(headers: list[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes | None, str]:
    """Content-Type, Content-Length, and why they cannot be trusted ("" when they can).

    Every layer must read the same Content-Type: with two of them the limit could follow one
    and the parser the other."""
    content_type = length = None
    problem = ""
    for name, value in headers:
        if name == b"content-type":
            if content_type is not None:
                problem = "the Content-Type header is repeated: send it once"
            content_type = value
        elif name == b"content-length":
            if length is not None:
                problem = "the Content-Length header is repeated: send it once"
            length = value
    return content_type, length, problem


def read_timeout_problem(timeout: float, path: str) -> JSONResponse:
    """408 for a body that did not arrive in time; the connection is closed after it."""
    detail = f"the body did not arrive within {timeout:g} s (DIVERGENCE_BODY_READ_TIMEOUT)"
    return problem_response(408, detail, path, BodyReadTimeoutError.title, headers=_CLOSE)


class Deadlines:
    """Deadlines of body reads, enforced by one sweeping task rather than a timer per read.

    Most reads complete at once (a small body arrives with its headers), and a timer each
    would cost a sixth of a small request; here a read costs a dict entry. A read still
    waiting at its deadline is cancelled within ``every`` seconds and ends in TimeoutError.
    """

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.waiting: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.sweeper: asyncio.Task[None] | None = None

    async def receive(self, receive: Receive, deadline: float) -> Message:
        """The next message from ``receive``, or TimeoutError past ``deadline`` (loop time)."""
        task = asyncio.current_task()
        assert task is not None
        loop = task.get_loop()
        if loop.time() >= deadline:
            raise TimeoutError
        sweeper = self.sweeper
        if sweeper is None or sweeper.done() or sweeper.get_loop() is not loop:
            self.sweeper = loop.create_task(self._sweep())
        self.waiting[task] = deadline
        try:
            return await receive()
        except asyncio.CancelledError:
            if task not in self.expired:
                raise
            task.uncancel()
            raise TimeoutError from None
        finally:
            del self.waiting[task]
            self.expired.discard(task)

    async def _sweep(self) -> None:
        idle = 0
        while idle < 20:  # ends after a few idle seconds; the next read starts another
            await asyncio.sleep(self.every)
            idle = 0 if self.waiting else idle + 1
            now = asyncio.get_running_loop().time()
            for task, deadline in list(self.waiting.items()):
                if deadline <= now and task not in self.expired:
                    self.expired.add(task)
                    task.cancel()


class SizeLimits:
    """ASGI middleware: .npy bodies up to ``binary_bytes``; JSON bodies up to ``json_bytes``
    on the numeric endpoints (``numeric_paths``: arrays, decoded into float64 in chunks) and
    up to ``document_bytes`` elsewhere (documents that become Python objects, about 12 bytes
    of memory per byte, parsed on the event loop) and never more than ``json_bytes``; each
    within ``read_timeout`` seconds. Without ``document_bytes``, every JSON body has the
    ``json_bytes`` limit."""

    def __init__(
        self,
        app: ASGIApp,
        json_bytes: int,
        binary_bytes: int,
        read_timeout: float = 30.0,
        document_bytes: int | None = None,
        numeric_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app, self.json_bytes, self.binary_bytes = app, json_bytes, binary_bytes
        self.document_bytes, self.numeric_paths = document_bytes, numeric_paths
        self.read_timeout = read_timeout
        self.deadlines = Deadlines()

    def _limit(self, npy: bool, path: str) -> tuple[int, str]:
        if npy:
            return self.binary_bytes, "DIVERGENCE_MAX_BINARY_BYTES"
        if (
            self.document_bytes is not None
            and self.document_bytes < self.json_bytes
            and path not in self.numeric_paths
        ):
            return self.document_bytes, "DIVERGENCE_MAX_DOCUMENT_BYTES"
        return self.json_bytes, "DIVERGENCE_MAX_JSON_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        content_type, announced, problem = body_headers(scope.get("headers") or [])
        path = scope.get("path", "")
        if problem:
            await problem_response(400, problem, path, headers=_CLOSE)(scope, receive, send)
            return
        media = _media(content_type)
        if not _accepted_media(media):
            shown = (content_type or b"").decode("latin-1")
            detail = f"unsupported Content-Type {shown!r}: send application/json"
            if path.startswith("/v1/") and "x-npy" not in shown:
                detail += " (or application/x-npy to the numeric endpoints)"
            await problem_response(415, detail, path)(scope, receive, send)
            return
        limit, setting = self._limit(media == _NPY, path)
        if announced is not None and announced.isdigit():
            if int(announced) > limit:
                await problem_response(413, _too_large(limit, setting), path)(scope, receive, send)
                return
            # the server delivers no more than the announced length: only the deadline
            guarded = _Guarded(self.app, self.deadlines, self.read_timeout, -1, "")
        else:
            too_large = _too_large(limit, setting)
            guarded = _Guarded(self.app, self.deadlines, self.read_timeout, limit, too_large)
        await guarded(scope, receive, send)


def _too_large(limit: int, setting: str) -> str:
    return f"the body is larger than this service's limit of {limit} bytes ({setting})"


class _Guarded:
    """One request whose body is read within a deadline and, with ``limit`` >= 0, counted."""

    __slots__ = (
        "app", "complete", "deadlines", "failure", "gone", "limit", "seen", "started", "timeout",
        "too_large",
    )  # fmt: skip

    def __init__(
        self, app: ASGIApp, deadlines: Deadlines, timeout: float, limit: int, too_large: str
    ) -> None:
        self.app, self.deadlines, self.timeout = app, deadlines, timeout
        self.limit, self.too_large = limit, too_large
        self.seen = 0
        self.complete = False  # the whole body has arrived (or the client has gone)
        self.gone = False  # the client went away before the body was complete
        self.failure: ServiceError | None = None
        self.started = False  # a response start was passed on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def guarded_receive() -> Message:
            if self.complete:  # e.g. waiting for the client to disconnect: no deadline
                return await receive()
            try:
                message: Any = await self.deadlines.receive(receive, deadline)
            except TimeoutError:
                self.failure = BodyReadTimeoutError(f"no body within {self.timeout:g} s")
                raise self.failure from None
            if message["type"] != "http.request":
                self.complete = self.gone = True
                return message  # type: ignore[no-any-return]
            self.seen += len(message.get("body", b""))
            if self.limit >= 0 and self.seen > self.limit:
                self.failure = BodyTooLargeError(self.too_large)
                raise self.failure
            self.complete = not message.get("more_body", False)
            return message  # type: ignore[no-any-return]

        async def guarded_send(message: Message) -> None:
            if self.failure is not None or self.gone:
                return  # the application's own wording of the failed read: replaced below
            self.started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception as exc:
            if self.failure is None and not (self.gone and isinstance(exc, ClientDisconnect)):
                raise
        if self.gone:
            client = scope.get("client") or ("?", 0)
            _log.info(
                "%s:%s went away during the body of %s %s (%d bytes received)",
                *client[:2],
                scope.get("method"),
                scope.get("path"),
                self.seen,
            )
        elif self.failure is not None and not self.started:
            path = scope.get("path", "")
            if isinstance(self.failure, BodyReadTimeoutError):
                response = read_timeout_problem(self.timeout, path)
            else:
                response = problem_response(413, self.failure.detail, path, headers=_CLOSE)
            await response(scope, receive, send)
