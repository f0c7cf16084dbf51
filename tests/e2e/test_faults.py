"""Dependencies down, against real processes: the job database unreachable (and back), Redis
unreachable, the data directory's disk full. Every answer that needs the dependency is a fast
503 problem+json with Retry-After; nothing half-made is left behind; /metrics answers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import PrivateDatabase
from tests.e2e.services import Services, free_port, wait_for

TINY = {"epochs": 1, "train_samples": 100, "test_samples": 20, "batch_size": 50}
CONFIG = {"dataset": "synthetic", **TINY}


class Relay:
    """A TCP relay from a local port to PostgreSQL that can be switched off and on: the
    database "goes away" for the service without touching the machine's server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []

    def start(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port))
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in self._conns:
            conn.close()
        self._conns.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def _timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


def _assert_unavailable(r: httpx.Response, retry_after: str, *words: str) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == retry_after
    body = r.json()
    assert body["status"] == 503 and body["title"] == "Service Unavailable"
    for word in words:
        assert word in body["detail"], body["detail"]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.fixture
def database() -> Iterator[PrivateDatabase]:
    db = PrivateDatabase()
    try:
        yield db
    finally:
        db.drop()


def test_database_down_then_back(tmp_path: Path, database: PrivateDatabase) -> None:
    """`python -m app` with its worker, PostgreSQL unreachable from the start."""
    relay = Relay(("127.0.0.1", 5432))
    url = database.url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
    svc = Services(
        tmp_path,
        DIVERGENCE_DATABASE_URL=url,
        DIVERGENCE_EMBEDDED_WORKER="true",
        DIVERGENCE_DEPENDENCY_RETRY_AFTER="7",
        DIVERGENCE_LOG_LEVEL="info",
    )
    svc.start_api()
    try:
        assert svc.api is not None
        for call in (
            lambda: svc.http.get("/readyz"),
            lambda: svc.http.post("/v1/experiments", json=CONFIG),
            lambda: svc.http.get("/v1/experiments"),
            lambda: svc.http.get("/v1/experiments/0b3c2c1e-5a57-4a8e-9d2e-000000000000"),
        ):
            r, seconds = _timed(call)
            _assert_unavailable(r, "7")
            assert seconds < 1.0, seconds
            print(f"{r.request.method} {r.request.url.path}: 503 in {seconds * 1000:.0f} ms")
        r = svc.http.get("/readyz")
        assert "database: the job database does not answer" in r.json()["detail"]
        assert "worker: " in r.json()["detail"]
        metrics, seconds = _timed(lambda: svc.http.get("/metrics"))
        assert metrics.status_code == 200 and seconds < 1.0
        assert "divergence_job_store_up 0.0" in metrics.text
        assert "divergence_http_requests_total" in metrics.text
        # the worker waits for the database instead of exiting (its first attempt comes after
        # its start-up and one connect timeout: seconds on a busy machine)
        waiting = "the job database: the job database does not answer"
        wait_for(lambda: waiting in svc.log("api"), 30, "the worker waiting", every=0.5)
        workers = _children(svc.api.pid)
        assert len(workers) == 1
        assert "restarting it" not in svc.log("api")

        relay.start()  # the database is back
        back = time.monotonic()
        ready = wait_for(
            lambda: svc.http.get("/readyz").status_code == 200, 90, "ready again", every=0.5
        )
        assert ready and _children(svc.api.pid) == workers  # the same worker, never restarted
        print(f"database back: ready again after {time.monotonic() - back:.1f} s")
        job_id = svc.submit(**TINY)
        assert svc.wait_status(job_id, {"succeeded", "failed"}, 120)["status"] == "succeeded"
        assert "divergence_job_store_up 1.0" in svc.http.get("/metrics").text
    finally:
        svc.close()
        relay.stop()


def test_redis_down_refuses_submits_without_orphans(tmp_path: Path) -> None:
    svc = Services(tmp_path, DIVERGENCE_QUEUE_URL=f"redis://127.0.0.1:{free_port()}/0")
    svc.start_api()
    try:
        r, seconds = _timed(lambda: svc.http.post("/v1/experiments", json=CONFIG))
        _assert_unavailable(r, "5", "queue")
        assert seconds < 1.0, seconds
        print(f"redis down: submit 503 in {seconds * 1000:.0f} ms")
        # the row written before the enqueue failed is gone
        assert svc.http.get("/v1/experiments").json()["items"] == []
        r = svc.http.get("/readyz")
        _assert_unavailable(r, "5", "queue: the queue does not answer")
        assert "database" not in r.json()["detail"]
        metrics = svc.http.get("/metrics")
        assert metrics.status_code == 200 and "divergence_job_store_up 0.0" in metrics.text
    finally:
        svc.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (needs root); skipped where it cannot be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory: Path) -> Path:
    """Write a file until the file system has no byte left."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        chunk = 1 << 20
        while chunk:
            try:
                os.write(fd, b"\0" * chunk)
            except OSError:
                chunk //= 2
    finally:
        os.close(fd)
    assert shutil.disk_usage(directory).free == 0
    return filler


def test_disk_full_is_not_ready_and_refuses_submits(tmp_path: Path, small_disk: Path) -> None:
    svc = Services(tmp_path, DIVERGENCE_DATA_DIR=str(small_disk / "data"))
    svc.start_api()
    try:
        assert svc.http.get("/readyz").status_code == 200
        first = svc.submit(**TINY)
        filler = _fill(small_disk)
        refused = [_timed(lambda: svc.http.post("/v1/experiments", json=CONFIG)) for _ in range(3)]
        for r, seconds in refused:
            _assert_unavailable(r, "5", "disk full")
            assert seconds < 1.0, seconds
            print(f"disk full: submit 503 in {seconds * 1000:.0f} ms")
        r = svc.http.get("/readyz")
        _assert_unavailable(r, "5", "database: the job database cannot take writes (disk full)")
        # reads still work, and nothing half-made was kept
        items = svc.http.get("/v1/experiments").json()["items"]
        assert [j["id"] for j in items] == [first]
        assert svc.http.get("/metrics").status_code == 200

        filler.unlink()
        assert svc.http.get("/readyz").status_code == 200
        second = svc.submit(**TINY)
        assert {j["id"] for j in svc.http.get("/v1/experiments").json()["items"]} == {
            first,
            second,
        }
    finally:
        svc.close()


def test_a_database_that_accepts_but_never_answers_is_bounded(tmp_path: Path) -> None:
    """A server that takes the connection and says nothing: the connect timeout ends it."""
    silent = socket.create_server(("127.0.0.1", 0), backlog=16)  # never accepts, never speaks
    port = silent.getsockname()[1]
    svc = Services(
        tmp_path,
        DIVERGENCE_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{port}/x",
        DIVERGENCE_DB_CONNECT_TIMEOUT="2",
    )
    svc.start_api()
    try:
        for call in (
            lambda: svc.http.get("/readyz"),
            lambda: svc.http.post("/v1/experiments", json=CONFIG),
        ):
            r, seconds = _timed(call)
            _assert_unavailable(r, "5", "does not answer")
            assert 1.5 < seconds < 3.5, seconds
            print(f"silent database: {r.request.url.path} 503 in {seconds:.1f} s")
    finally:
        svc.close()
        silent.close()
