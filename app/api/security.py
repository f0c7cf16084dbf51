"""API keys, tenants, and per-client rate limits for the costly endpoints.

Keys come from ``DIVERGENCE_API_KEYS`` (comma-separated) and/or ``DIVERGENCE_API_KEYS_FILE``
(one per line); ``DIVERGENCE_ADMIN_API_KEYS`` adds keys that see and change every client's
experiments. With no key configured every endpoint is open. With keys, every experiment
operation needs one (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``); numeric endpoints
need one when ``DIVERGENCE_NUMERIC_ACCESS=keyed``. A missing key answers 401, a wrong one 403;
keys are compared in constant time, against every configured key, and a request that needs a
key is refused before its body is read (:class:`KeyGate`).

A client (a :class:`Caller`) is its key's fingerprint, or ``ip:ADDRESS`` when keys are off;
it owns the experiments it submits and sees only those (an admin key sees all). The rate
window lives in the process (:class:`RateLimiter`) or, with N API replicas, in Redis
(:class:`RedisRateLimiter`), so that a client gets the limit once, not N times.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import ServiceError, TooManyRequestsError, problem_response
from app.services.callers import Caller

__all__ = [
    "Caller",
    "ForbiddenError",
    "KeyGate",
    "RateLimiter",
    "RedisRateLimiter",
    "TooManyRequestsError",
    "UnauthorizedError",
    "caller",
    "check_key",
    "configured_keys",
    "identify",
    "make_rate_limiter",
]


class UnauthorizedError(ServiceError):
    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"WWW-Authenticate": 'Bearer realm="divergence"'}


class ForbiddenError(ServiceError):
    status = 403
    title = "Forbidden"


def _split(inline: str) -> list[str]:
    return [k.strip() for k in inline.split(",")]


@lru_cache(maxsize=16)
def _read_keys(inline: str, path: Path | None, mtime: float) -> tuple[bytes, ...]:
    keys = _split(inline)
    if path is not None:
        keys += [line.strip() for line in path.read_text().splitlines()]
    return tuple(k.encode() for k in keys if k and not k.startswith("#"))


def _admin_keys(settings: Settings) -> tuple[bytes, ...]:
    return tuple(k.encode() for k in _split(settings.admin_api_keys) if k)


def _client_keys(settings: Settings) -> tuple[bytes, ...]:
    path = settings.api_keys_file
    mtime = path.stat().st_mtime if path is not None and path.exists() else 0.0
    return _read_keys(settings.api_keys, path, mtime)


def configured_keys(settings: Settings) -> tuple[bytes, ...]:
    """The accepted keys, admin keys included (a key file is re-read when it changes)."""
    return _client_keys(settings) + _admin_keys(settings)


def fingerprint(key: bytes) -> str:
    return "key:" + hashlib.sha256(key).hexdigest()[:16]


def identify(settings: Settings, presented: str | None, address: str) -> Caller:
    """The caller; raises 401/403 when keys are configured and this one fails."""
    keys = [(key, False) for key in _client_keys(settings)]
    keys += [(key, True) for key in _admin_keys(settings)]
    if not keys:
        return Caller(f"ip:{address}")
    if not presented:
        raise UnauthorizedError("an API key is required: send Authorization: Bearer KEY")
    candidate = presented.encode()
    matched = admin = False
    for key, is_admin in keys:  # no early exit: the time does not depend on which key matched
        same = hmac.compare_digest(candidate, key)
        matched |= same
        admin |= same & is_admin
    if not matched:
        raise ForbiddenError("this API key is not valid here")
    return Caller(fingerprint(candidate), admin)


def check_key(settings: Settings, presented: str | None, client: str) -> str:
    """The client's identity; raises 401/403 when keys are configured and this one fails."""
    return identify(settings, presented, client).owner


# -- rate windows ---------------------------------------------------------------------------


class Limiter(Protocol):
    def hit(self, client: str) -> None: ...


def _refuse(limit: int, wait: float) -> TooManyRequestsError:
    detail = f"at most {limit} experiments a minute per client; try again later"
    return TooManyRequestsError(detail, wait)


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per client (sliding window, in memory,
    per API process: the embedded mode's one API)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(client, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                raise _refuse(self.limit, events[0] + self.window - now)
            events.append(now)


# Drop the events that left the window, then count, then add: one script, so atomic across
# every API replica. Times are Redis's own clock (TIME), so replicas need not agree on theirs.
_SLIDING_WINDOW = """
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return false
"""


class RedisRateLimiter:
    """The same sliding window, kept in Redis (a sorted set per client) and shared by all the
    API replicas of a scale-out deployment."""

    def __init__(self, url: str, prefix: str, limit: int, window: float = 60.0, **kw: Any) -> None:
        import redis  # only scale-out deployments need it

        self.limit, self.window, self.prefix = limit, window, prefix
        self.redis = redis.Redis.from_url(url, **kw)
        self._script = self.redis.register_script(_SLIDING_WINDOW)

    def hit(self, client: str) -> None:
        key = f"{self.prefix}:rate:experiments:{client}"
        wait = self._script(keys=[key], args=[self.limit, self.window, uuid.uuid4().hex])
        if wait is not None:
            raise _refuse(self.limit, float(wait))


def make_rate_limiter(settings: Settings) -> Limiter:
    """In Redis with a queue URL (scale-out), else in memory."""
    limit = settings.experiment_rate_per_minute
    if not settings.queue_url:
        return RateLimiter(limit)
    timeout = settings.db_connect_timeout
    return RedisRateLimiter(
        settings.queue_url,
        settings.queue_name,
        limit,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )


# -- dependencies and the gate --------------------------------------------------------------

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token.")


def presented_key(
    header_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> str | None:
    return bearer.credentials if bearer is not None else header_key


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def caller(request: Request, key: Annotated[str | None, Depends(presented_key)]) -> Caller:
    """Dependency: who is asking, for the experiment operations (a key when keys are on)."""
    settings: Settings = request.app.state.settings
    return identify(settings, key, _client(request))


def keyed_client(request: Request, key: Annotated[str | None, Depends(presented_key)]) -> str:
    """Dependency: the caller's identity, when keys are required of it."""
    return caller(request, key).owner


def numeric_client(request: Request, key: Annotated[str | None, Depends(presented_key)]) -> None:
    """Dependency for numeric endpoints: a key only with DIVERGENCE_NUMERIC_ACCESS=keyed."""
    settings: Settings = request.app.state.settings
    if settings.numeric_access == "keyed":
        check_key(settings, key, _client(request))


def _header_key(authorization: str | None, api_key: str | None) -> str | None:
    header = authorization or ""
    return header[7:] if header.lower().startswith("bearer ") else api_key


def numeric_guard(request: Request) -> None:
    """The same check for the hot numeric endpoints, without a dependency."""
    settings: Settings = request.app.state.settings
    if settings.numeric_access == "keyed":
        key = _header_key(request.headers.get("authorization"), request.headers.get("x-api-key"))
        check_key(settings, key, _client(request))


# the numeric routes that are not the registry's (those check the key themselves, before
# reading the body): keyed with DIVERGENCE_NUMERIC_ACCESS=keyed
_NUMERIC_PREFIXES = (
    "/v1/losses/",
    "/v1/model-fit",
    "/v1/joint/",
    "/v1/samples/",
    "/v1/estimates/",
    "/v1/parametric/",
    "/v1/matrix",
)


def _keyed_path(settings: Settings) -> Callable[[str], bool]:
    numeric = settings.numeric_access == "keyed"

    def keyed(path: str) -> bool:
        if path == "/v1/experiments" or path.startswith("/v1/experiments/"):
            return True
        if path.startswith("/v1/drift/"):  # drift references belong to clients too
            return True
        return numeric and path.startswith(_NUMERIC_PREFIXES)

    return keyed


class KeyGate:
    """ASGI middleware: a request with a body to a keyed endpoint and no valid key is refused
    (401/403) before a byte of its body is read.

    The routes keep their ``Security`` dependencies (which also document the key in OpenAPI),
    but FastAPI reads and parses a body model before it solves dependencies, so a 40 MB body
    would cost its parse before the 401.
    """

    METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.keyed = _keyed_path(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in self.METHODS
            and self.keyed(scope["path"])
            and configured_keys(self.settings)
        ):
            headers = dict(scope["headers"])
            authorization, api_key = headers.get(b"authorization"), headers.get(b"x-api-key")
            key = _header_key(
                authorization.decode("latin-1") if authorization is not None else None,
                api_key.decode("latin-1") if api_key is not None else None,
            )
            address = scope["client"][0] if scope.get("client") else "unknown"
            try:
                identify(self.settings, key, address)
            except ServiceError as exc:
                path = scope["path"]
                refusal = problem_response(
                    exc.status, exc.detail, path, title=exc.title, headers=exc.headers
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
