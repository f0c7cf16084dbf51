"""Settings refuse bad values; `python -m app` (what `make run` runs) serves the API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.__main__ import api_process_app
from app.config import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults() -> None:
    settings = Settings()
    assert (settings.host, settings.port, settings.default_tolerance) == ("127.0.0.1", 8000, 1e-6)


@pytest.mark.parametrize("port", ["0", "70000", "eighty"])
def test_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    monkeypatch.setenv("DIVERGENCE_PORT", port)
    with pytest.raises(ValidationError, match="port"):
        Settings()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DIVERGENCE_DATABASE_URL", "not a url", "not a database URL"),
        ("DIVERGENCE_QUEUE_URL", "amqp://localhost", "must start with redis://"),
        ("DIVERGENCE_QUEUE_NAME", "has spaces", "queue_name"),
        ("DIVERGENCE_HEARTBEAT_TIMEOUT", "-1", "heartbeat_timeout"),
        ("DIVERGENCE_LOG_LEVEL", "loud", "log_level"),
    ],
)
def test_bad_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def _processes_with(marker: str) -> list[int]:
    """Pids of live processes whose environment mentions ``marker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_m_app_serves_with_an_embedded_worker(tmp_path: Path) -> None:
    """What `make run` runs: the API, and a worker that runs a submitted experiment."""
    port = _free_port()
    env = {
        **os.environ,
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_LOG_LEVEL": "warning",
        "DIVERGENCE_DATA_DIR": str(tmp_path / "data"),
        "DIVERGENCE_KERAS_HOME": str(tmp_path / "keras"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                time.sleep(0.2)
        assert r.json() == {"status": "ok"}
        r = httpx.post(
            f"http://127.0.0.1:{port}/v1/kl-divergence",
            json={"p": [0.5, 0.5], "q": [0.25, 0.75], "unit": "bits"},
        )
        assert r.json()["value"] > 0
        config = {"dataset": "synthetic", "epochs": 1, "train_samples": 100, "test_samples": 20}
        job = httpx.post(f"http://127.0.0.1:{port}/v1/experiments", json=config).json()
        deadline = time.monotonic() + 120
        while job["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, f"the embedded worker did not finish: {job}"
            time.sleep(0.5)
            job = httpx.get(f"http://127.0.0.1:{port}/v1/experiments/{job['id']}").json()
        assert job["status"] == "succeeded", job["error"]
        assert (tmp_path / "data" / "jobs.db").is_file()
        assert (tmp_path / "data" / "queue.db").is_file()
    finally:
        proc.terminate()
        assert proc.wait(timeout=40) == 0
    # the embedded worker stopped with the API
    assert _processes_with(str(tmp_path / "data")) == []


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_several_api_processes_share_the_port(tmp_path: Path) -> None:
    """DIVERGENCE_API_WORKERS=2: two API processes answer on one port and stop with the
    parent. (The API alone: how they see the embedded worker is the next test's.)"""
    port = _free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_API_WORKERS": "2",
        "DIVERGENCE_EMBEDDED_WORKER": "false",
        "DIVERGENCE_LOG_LEVEL": "warning",
        "DIVERGENCE_DATA_DIR": str(data),
        "DIVERGENCE_KERAS_HOME": str(tmp_path / "keras"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "not ready in 60 s"
            time.sleep(0.3)
        servers = [
            pid for pid in _processes_with(str(data)) if "multiprocessing.spawn" in _cmdline(pid)
        ]
        assert len(servers) == 2, [_cmdline(pid) for pid in _processes_with(str(data))]
        for _ in range(20):  # a connection each: whichever process accepts it answers alike
            r = httpx.post(
                f"http://127.0.0.1:{port}/v1/entropy", json={"p": [0.5, 0.25, 0.25], "unit": "bits"}
            )
            assert r.json()["value"] == 1.5
        # /metrics, from whichever process answers, counts the requests of both
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        line = next(
            x
            for x in metrics.splitlines()
            if x.startswith("divergence_http_requests_total{")
            and 'route="/v1/entropy"' in x
            and 'status="200"' in x
        )
        assert float(line.split()[-1]) == 20.0, line
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    # multiprocessing's resource tracker ends when it sees its parent's pipe close: soon after
    deadline = time.monotonic() + 10
    while (left := {pid: _cmdline(pid) for pid in _processes_with(str(data))}) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert left == {}


def test_an_api_process_of_several_sees_the_worker_by_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIVERGENCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DIVERGENCE_HEARTBEAT_INTERVAL", "1")
    monkeypatch.delenv("DIVERGENCE_WORKER_ALIVE_FILE", raising=False)
    get_settings.cache_clear()  # the settings are read once per process; this is a new one
    try:
        app = api_process_app()  # what uvicorn calls in each API process
        probe = app.state.worker_probe
        alive = tmp_path / "data" / "worker.alive"
        assert probe() == "no sign of life from the worker yet"
        alive.parent.mkdir(parents=True, exist_ok=True)
        alive.touch()
        assert probe() == "ok"
        old = time.time() - 11  # stale after max(3 heartbeats, 10 s)
        os.utime(alive, (old, old))
        assert probe() == "the worker shows no sign of life for 11 s"
        monkeypatch.setenv("DIVERGENCE_EMBEDDED_WORKER", "false")
        get_settings.cache_clear()
        assert getattr(api_process_app().state, "worker_probe", None) is None
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("module", "variable", "value"),
    [
        ("app", "DIVERGENCE_PORT", "99999"),
        ("app", "DIVERGENCE_DATABASE_URL", "nonsense"),
        ("app.worker", "DIVERGENCE_QUEUE_URL", "http://localhost"),
    ],
)
def test_bad_settings_fail_fast_at_start(module: str, variable: str, value: str) -> None:
    env = {**os.environ, variable: value}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert f"configuration error: {variable}=" in done.stderr
    assert time.monotonic() - started < 30


def test_make_run_prints_no_library_chatter(tmp_path: Path) -> None:
    """At the default log level, `python -m app` shows the server's and the service's lines,
    not TensorFlow's native start-up messages, Alembic's steps or Huey's banner."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "DIVERGENCE_"))}
    env |= {"DIVERGENCE_PORT": str(port), "DIVERGENCE_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + 90
            while True:  # ready: the worker has loaded TensorFlow too
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        finally:
            proc.terminate()
            proc.wait(timeout=40)
    text = log.read_text()
    assert "worker" in text and "ready" in text and "migrated" in text
    for chatter in ("absl", "oneDNN", "alembic", "huey.consumer", "tensorflow", '"GET /readyz'):
        assert chatter not in text, f"{chatter!r} in:\n{text}"


def test_access_lines_only_when_asked(tmp_path: Path) -> None:
    from tests.e2e.services import Services

    svc = Services(tmp_path, DIVERGENCE_LOG_LEVEL="info", DIVERGENCE_ACCESS_LOG="true")
    try:
        svc.start_api()
        assert svc.http.get("/healthz").status_code == 200
        svc.stop_api()
        assert '"GET /healthz HTTP/1.1" 200' in svc.log("api")
    finally:
        svc.close()
