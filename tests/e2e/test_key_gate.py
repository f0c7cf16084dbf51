"""In keyed mode a large body without a key is refused before it is read: fast, and without
the server's peak memory growing by the body's size."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.services import Services

BODY_BYTES = 40 * 2**20
PATHS = ["/v1/losses/categorical-cross-entropy", "/v1/model-fit", "/v1/experiments"]


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _body() -> bytes:
    """About 40 MB of valid JSON: a model fit's counts."""
    count = BODY_BYTES // 8
    return json.dumps({"counts": [1234567] * count}).encode()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(
        tmp_path_factory.mktemp("gate"),
        DIVERGENCE_API_KEYS="the-key",
        DIVERGENCE_NUMERIC_ACCESS="keyed",
    )
    svc.start_api()
    try:
        yield svc
    finally:
        svc.close()


def _post_without_key(port: int, path: str, body: bytes) -> tuple[bytes, float]:
    """Send the whole body (from a thread, as a client would) and read the answer."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        started = time.monotonic()

        def send() -> None:
            # the server may close the connection on a body it does not want
            with contextlib.suppress(OSError):
                sock.sendall(head + body)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        elapsed = time.monotonic() - started
        with contextlib.suppress(OSError):  # the server may have closed it already
            sock.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=30)
        return answer, elapsed


@pytest.mark.parametrize("path", PATHS)
def test_a_large_body_without_a_key_is_refused_unread(api: Services, path: str) -> None:
    assert api.api is not None
    pid = api.api.pid
    body = _body()
    assert len(body) > BODY_BYTES
    _post_without_key(api.port, path, b"{}")  # warm the path
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM) to now
    before = _kib(pid, "VmHWM")
    answer, elapsed = _post_without_key(api.port, path, body)
    growth = _kib(pid, "VmHWM") - before
    print(f"{path}: {answer.split(b' ', 2)[1].decode()} in {elapsed:.3f} s, peak +{growth} KiB")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"application/problem+json" in answer
    assert elapsed < 0.5, f"{elapsed:.2f} s to refuse"
    assert growth < 8 * 1024, f"peak grew {growth} KiB for a {len(body) // 1024} KiB body"
    # the service is fine afterwards, and the key still opens the door
    r = api.http.post("/v1/model-fit", json={"counts": [1, 2]}, headers={"x-api-key": "the-key"})
    assert r.status_code == 200
