"""Following an experiment's Server-Sent Events, across dropped connections.

The service numbers an experiment's events (``id``: 1, 2, ... for ``progress``, then
``end``) and tells how soon to reconnect (``retry``). A follower remembers the last id it
received; when the connection drops before ``end`` it waits ``retry`` and asks again with
``Last-Event-ID``, and the service continues after that event, so that every event arrives
exactly once and in order. Reading and parsing the stream is httpx-sse's work; this module
keeps what both clients need between connections (:class:`Resume`).
"""

from __future__ import annotations

import json

import httpx
from httpx_sse import ServerSentEvent

from divergence_client._calls import Event
from divergence_client.models.experiments import Experiment

__all__ = ["DEFAULT_RETRY", "MAX_RECONNECTS", "STREAM_TIMEOUT", "Resume"]

DEFAULT_RETRY = 1.0  # seconds to wait before reconnecting, until the service says (`retry`)
MAX_RETRY = 30.0  # never wait longer, whatever a server says
MAX_RECONNECTS = 5  # reconnects in a row without a new event before giving up
# The service sends a comment every 15 s while nothing happens: a minute of silence means the
# connection is dead (a half-open TCP connection would otherwise wait forever).
STREAM_TIMEOUT = httpx.Timeout(30.0, read=60.0)


class Resume:
    """What a follower of one experiment's events knows between connections."""

    def __init__(self, job_id: str, max_reconnects: int = MAX_RECONNECTS) -> None:
        self.job_id = job_id
        self.path = f"/v1/experiments/{job_id}/events"
        self.max_reconnects = max_reconnects
        self.last_id: str | None = None  # the id of the last event received
        self.delay = DEFAULT_RETRY
        self.connected = False  # once a stream was opened, losing it means reconnecting
        self.failures = 0  # reconnects since the last event
        self.ended = False  # the `end` event arrived: nothing follows it

    def headers(self) -> dict[str, str]:
        """The request headers of the next connection."""
        return {} if self.last_id is None else {"Last-Event-ID": self.last_id}

    def opened(self) -> None:
        self.connected = True

    def accept(self, sse: ServerSentEvent) -> Event | None:
        """The event ``sse`` carries, or None for a frame that only sets ``retry``."""
        if sse.retry is not None:
            self.delay = min(max(sse.retry, 0) / 1000, MAX_RETRY)
        if sse.id:
            self.last_id = sse.id
        if not sse.data:
            return None
        self.failures = 0
        payload = json.loads(sse.data)
        if sse.event == "end":
            self.ended = True
            return Event(sse.event, Experiment.model_validate(payload), sse.id or None)
        return Event(sse.event, payload, sse.id or None)

    def lost(self, error: httpx.TransportError | None) -> float:
        """The connection broke (``error``) or closed before ``end`` (None): the seconds to
        wait before reconnecting; raises when the stream never opened (the error) or after
        ``max_reconnects`` reconnects in a row brought no new event."""
        if error is not None and not self.connected:
            raise error
        self.failures += 1
        if self.failures > self.max_reconnects:
            if error is not None:
                raise error
            raise httpx.RemoteProtocolError(
                f"the events of experiment {self.job_id} stopped before their end "
                f"({self.max_reconnects} reconnects after event {self.last_id or 'none'})"
            )
        return self.delay
