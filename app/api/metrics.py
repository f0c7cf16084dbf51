"""Prometheus metrics: HTTP requests by route, jobs by status, queue depth.

Request metrics come from a pure ASGI middleware (no per-request Python objects beyond two
label lookups); job and queue figures are read from the store and the queue at scrape time,
so every API replica reports the same, current numbers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.jobs.models import STATUSES

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_log = logging.getLogger("app.api.metrics")


class _JobCollector(Collector):
    """Jobs by status and queue depth, read at scrape time.

    A scrape never fails because the job database or the queue is down: the figures that
    cannot be read are left out, and ``divergence_job_store_up`` says so.
    """

    def __init__(self, read: Callable[[], tuple[dict[str, int], int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            counts, depth = self.read()
        except Exception as exc:
            _log.warning("metrics: job figures unavailable: %s: %s", type(exc).__name__, exc)
            yield GaugeMetricFamily(
                "divergence_job_store_up", "1 if the job figures could be read.", value=0
            )
            return
        yield GaugeMetricFamily(
            "divergence_job_store_up", "1 if the job figures could be read.", value=1
        )
        jobs = GaugeMetricFamily("divergence_jobs", "Experiments by status.", labels=["status"])
        for status in STATUSES:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "divergence_queue_depth", "Job ids waiting in the queue.", value=depth
        )


class Metrics:
    """One registry per app, so that several apps in one process (tests) stay apart."""

    def __init__(self, read_jobs: Callable[[], tuple[dict[str, int], int]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "divergence_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "divergence_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        self.registry.register(_JobCollector(read_jobs))
        # routes whose templates label requests refused before routing (413, 415)
        self.templates: list[Any] = []
        # the labelled series, by (method, route, status): a label lookup costs more than the
        # increment; the number of keys is bounded by routes x methods x statuses
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _template(self, scope: Scope) -> str:
        route: Any = scope.get("route")
        path = getattr(route, "path", None)
        if path:
            return str(path)
        for candidate in self.templates:
            if candidate.path_regex.match(scope.get("path", "")):
                return str(candidate.path)
        return "unmatched"

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
        method, template = scope.get("method", ""), self._template(scope)
        series = self._series.get((method, template, status))
        if series is None:
            series = (
                self.requests.labels(method, template, str(status)),
                self.latency.labels(method, template),
            )
            self._series[(method, template, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500

            async def capture(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await app(scope, receive, capture)
            finally:
                self._count(scope, status, time.perf_counter() - started)

        return measured
