"""Prometheus metrics: HTTP requests by route, jobs by status, queue depth.

Request metrics come from a pure ASGI middleware (no per-request Python objects beyond two
label lookups); job and queue figures are read from the store and the queue at scrape time,
so every API replica reports the same, current numbers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.jobs.models import STATUSES

__all__ = ["CONTENT_TYPE", "MULTIPROCESS_DIR", "Metrics"]

# prometheus_client's multiprocess mode: each process writes its series to files here
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

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


DriftLatest = list[tuple[str, str, dict[str, Any]]]  # (owner, reference, newest check summary)
_VERDICT_NUMBER = {"no drift": 0, "moderate": 1, "drift": 2}


def _owner_label(owner: str) -> str:
    """The owner as /metrics shows it: an API key's fingerprint (``key:`` and 16 hex digits
    of its SHA-256), never a client's address: ``ip:...`` owners (keys off) are all
    ``anonymous``."""
    return owner if owner.startswith("key:") else "anonymous"


class _DriftCollector(Collector):
    """Drift gauges per reference and feature, from each reference's newest check, read at
    scrape time: deleted references vanish, and at most ``max_series`` series are exported
    (the most recently checked references first), so that clients cannot grow the labels
    without bound."""

    def __init__(self, read: Callable[[int], DriftLatest], max_series: int) -> None:
        self.read, self.max_series = read, max_series

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            latest = self.read(self.max_series) if self.max_series else []
        except Exception as exc:
            _log.warning("metrics: drift figures unavailable: %s: %s", type(exc).__name__, exc)
            return
        value = GaugeMetricFamily(
            "divergence_drift_value",
            "A measure of a feature in the newest check of a drift reference (+Inf allowed).",
            labels=["owner", "reference", "feature", "measure"],
        )
        verdict = GaugeMetricFamily(
            "divergence_drift_verdict",
            "Verdict of a feature in the newest drift check: 0 no drift, 1 moderate, 2 drift.",
            labels=["owner", "reference", "feature"],
        )
        overall = GaugeMetricFamily(
            "divergence_drift_reference_verdict",
            "Overall verdict of the newest check of a drift reference (0, 1, 2 as above).",
            labels=["owner", "reference"],
        )
        checked = GaugeMetricFamily(
            "divergence_drift_checked_timestamp_seconds",
            "When the newest check of a drift reference was made (Unix time).",
            labels=["owner", "reference"],
        )
        series = dropped = 0
        shown: set[tuple[str, str]] = set()
        for stored_owner, name, summary in latest:
            owner = _owner_label(stored_owner)
            features = summary.get("features", {})
            needed = 2 + sum(1 + len(f.get("values", {})) for f in features.values())
            if series + needed > self.max_series or (owner, name) in shown:
                dropped += needed  # a name shared by anonymous clients: the newest only
                continue
            shown.add((owner, name))
            series += needed
            checked.add_metric([owner, name], float(summary.get("at", 0.0)))
            if summary.get("verdict") in _VERDICT_NUMBER:
                overall.add_metric([owner, name], _VERDICT_NUMBER[summary["verdict"]])
            for feature, found in features.items():
                if found.get("verdict") in _VERDICT_NUMBER:
                    verdict.add_metric([owner, name, feature], _VERDICT_NUMBER[found["verdict"]])
                for measure, v in found.get("values", {}).items():
                    value.add_metric([owner, name, feature, measure], float(v))
        yield from (value, verdict, overall, checked)
        yield GaugeMetricFamily(
            "divergence_drift_series_dropped",
            "Drift series left out by DIVERGENCE_DRIFT_METRICS_MAX_SERIES.",
            value=dropped,
        )


class Metrics:
    """One registry per app, so that several apps in one process (tests) stay apart."""

    def __init__(
        self,
        read_jobs: Callable[[], tuple[dict[str, int], int]],
        read_drift: Callable[[int], DriftLatest] | None = None,
        max_drift_series: int = 0,
    ) -> None:
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
        # what /metrics exports: this registry; with several API processes
        # (PROMETHEUS_MULTIPROC_DIR, set by `python -m app`), the request series of them all,
        # summed from their files, and the shared figures read once
        self.exported = self.registry
        if os.environ.get(MULTIPROCESS_DIR):
            self.exported = CollectorRegistry()
            MultiProcessCollector(self.exported)  # type: ignore[no-untyped-call]
        self.exported.register(_JobCollector(read_jobs))
        if read_drift is not None:
            self.exported.register(_DriftCollector(read_drift, max_drift_series))
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
        return generate_latest(self.exported)

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
