"""API keys, per-client rate limits and queued-job quotas for the costly endpoints.

Keys come from ``DIVERGENCE_API_KEYS`` (comma-separated) and/or ``DIVERGENCE_API_KEYS_FILE``
(one per line). With none configured every endpoint is open. With keys, submitting,
cancelling and deleting experiments need one (``Authorization: Bearer KEY`` or
``X-API-Key: KEY``); numeric endpoints need one when ``DIVERGENCE_NUMERIC_ACCESS=keyed``.
A missing key answers 401, a wrong one 403; keys are compared in constant time, against every
configured key. A client is its key's fingerprint (or its address when keys are off).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import deque
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.config import Settings
from app.errors import ServiceError

__all__ = [
    "ForbiddenError",
    "RateLimiter",
    "TooManyRequestsError",
    "UnauthorizedError",
    "check_key",
    "configured_keys",
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


class TooManyRequestsError(ServiceError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}


@lru_cache(maxsize=16)
def _read_keys(inline: str, path: Path | None, mtime: float) -> tuple[bytes, ...]:
    keys = [k.strip() for k in inline.split(",")]
    if path is not None:
        keys += [line.strip() for line in path.read_text().splitlines()]
    return tuple(k.encode() for k in keys if k and not k.startswith("#"))


def configured_keys(settings: Settings) -> tuple[bytes, ...]:
    """The accepted keys (a key file is re-read when it changes)."""
    path = settings.api_keys_file
    mtime = path.stat().st_mtime if path is not None and path.exists() else 0.0
    return _read_keys(settings.api_keys, path, mtime)


def fingerprint(key: bytes) -> str:
    return "key:" + hashlib.sha256(key).hexdigest()[:16]


def check_key(settings: Settings, presented: str | None, client: str) -> str:
    """The client's identity; raises 401/403 when keys are configured and this one fails."""
    keys = configured_keys(settings)
    if not keys:
        return f"ip:{client}"
    if not presented:
        raise UnauthorizedError("an API key is required: send Authorization: Bearer KEY")
    candidate = presented.encode()
    matched = False
    for key in keys:  # no early exit: the time taken does not depend on which key matched
        matched |= hmac.compare_digest(candidate, key)
    if not matched:
        raise ForbiddenError("this API key is not valid here")
    return fingerprint(candidate)


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per client (sliding window, in memory,
    per API process)."""

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
                wait = events[0] + self.window - now
                raise TooManyRequestsError(
                    f"at most {self.limit} experiments a minute per client; try again later",
                    wait,
                )
            events.append(now)


_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token.")


def presented_key(
    header_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> str | None:
    return bearer.credentials if bearer is not None else header_key


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def keyed_client(request: Request, key: Annotated[str | None, Depends(presented_key)]) -> str:
    """Dependency: the caller's identity, when keys are required of it."""
    settings: Settings = request.app.state.settings
    return check_key(settings, key, _client(request))


def numeric_client(request: Request, key: Annotated[str | None, Depends(presented_key)]) -> None:
    """Dependency for numeric endpoints: a key only with DIVERGENCE_NUMERIC_ACCESS=keyed."""
    settings: Settings = request.app.state.settings
    if settings.numeric_access == "keyed":
        check_key(settings, key, _client(request))


def numeric_guard(request: Request) -> None:
    """The same check for the hot numeric endpoints, without a dependency."""
    settings: Settings = request.app.state.settings
    if settings.numeric_access == "keyed":
        header = request.headers.get("authorization", "")
        key = (
            header[7:] if header.lower().startswith("bearer ") else request.headers.get("x-api-key")
        )
        check_key(settings, key, _client(request))
