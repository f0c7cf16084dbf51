"""Hostile request bodies against a served API (issue 11), over real sockets: bodies that are
announced and never sent, repeated Content-Type headers, chunked bodies over the limit, a
large invalid batch while /healthz is probed, and a client that leaves mid-body.

Peak memory is the API's VmHWM after resetting it through /proc/<pid>/clear_refs, held to
the service's rule: under about 4x the bytes actually received plus a small constant."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.e2e.services import Services, wait_for

SLACK_KIB = 24 * 1024  # the small constant: allocator and interpreter noise
TIMEOUT = 2.0  # DIVERGENCE_BODY_READ_TIMEOUT for these tests

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc to measure memory"
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(
        tmp_path_factory.mktemp("hostile"),
        DIVERGENCE_BODY_READ_TIMEOUT=str(TIMEOUT),
        DIVERGENCE_LOG_LEVEL="info",
    )
    svc.start_api()
    try:
        yield svc
    finally:
        svc.close()


def _reset_peak(api: Services) -> int:
    assert api.api is not None
    Path(f"/proc/{api.api.pid}/clear_refs").write_text("5")
    return _kib(api, "VmHWM")


def _kib(api: Services, field: str) -> int:
    assert api.api is not None
    for line in Path(f"/proc/{api.api.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def _open(api: Services, path: str, headers: dict[str, str], body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", api.port))
    lines = [f"POST {path} HTTP/1.1", "Host: test", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return sock


def _open_raw(api: Services, head: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", api.port))
    sock.sendall(head)
    return sock


def _response(sock: socket.socket, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Read until the server closes the connection: (status, headers, body)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


# -- announced and never sent ---------------------------------------------------------------


def test_announced_bodies_cost_what_arrives_and_time_out(api: Services) -> None:
    before = _reset_peak(api)
    start = time.monotonic()
    npy = {"Content-Type": "application/x-npy", "Content-Length": str(512 * 2**20)}
    socks = [_open(api, "/v1/entropy", npy, b"\x93NUMPY") for _ in range(4)]
    time.sleep(0.5 * TIMEOUT)  # all four are waiting for the rest of their bodies
    growth = _kib(api, "VmHWM") - before
    assert growth < 4 * (4 * 6) // 1024 + SLACK_KIB, f"grew {growth} KiB for 24 bytes"
    for sock in socks:
        status, headers, body = _response(sock)
        assert status == 408 and headers["content-type"] == "application/problem+json"
        assert headers["connection"] == "close"  # and the server closed it: _response returned
        assert "DIVERGENCE_BODY_READ_TIMEOUT" in json.loads(body)["detail"]
    assert TIMEOUT <= time.monotonic() - start < TIMEOUT + 5


@pytest.mark.parametrize(
    ("path", "length"),
    [
        ("/v1/entropy", 100),  # a small body: computed inline
        ("/v1/kl-divergence", 10**6),  # a large one: in the thread pool
        ("/v1/losses/kl-divergence", 10**6),  # body models, read by the framework
        ("/v1/model-fit", 10**6),
        ("/v1/experiments", 10**6),
    ],
)
def test_every_endpoint_gives_up_on_a_stalled_body(api: Services, path: str, length: int) -> None:
    sock = _open(
        api, path, {"Content-Type": "application/json", "Content-Length": str(length)}, b'{"p": '
    )
    started = time.monotonic()
    status, headers, body = _response(sock)
    assert status == 408, body
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["instance"] == path
    assert TIMEOUT - 0.5 <= time.monotonic() - started < TIMEOUT + 5


def test_a_slow_but_steady_body_still_counts_against_the_timeout(api: Services) -> None:
    sock = _open(
        api, "/v1/kl-divergence", {"Content-Type": "application/json", "Content-Length": "100000"}
    )
    for _ in range(int(TIMEOUT / 0.25) + 4):  # a byte every 0.25 s: never idle for long
        try:
            sock.sendall(b" ")
        except OSError:
            break
        time.sleep(0.25)
    status, _, _ = _response(sock)
    assert status == 408


# -- headers that cannot be trusted ---------------------------------------------------------


def test_a_repeated_content_type_is_refused_before_the_body(api: Services) -> None:
    for path in ("/v1/entropy", "/v1/losses/kl-divergence"):
        head = (
            f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            "Content-Type: application/x-npy\r\nContent-Length: 70000000\r\n\r\n"
        ).encode()
        sock = _open_raw(api, head)  # no body at all: the answer must not wait for one
        started = time.monotonic()
        status, headers, body = _response(sock)
        assert time.monotonic() - started < TIMEOUT / 2
        assert status == 400 and headers["content-type"] == "application/problem+json"
        assert "Content-Type header is repeated" in json.loads(body)["detail"]


def test_a_repeated_content_length_is_refused(api: Services) -> None:
    head = (
        b"POST /v1/entropy HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 16\r\nContent-Length: 16\r\n\r\n"
    )
    status, _, _ = _response(_open_raw(api, head))
    assert status == 400  # by the HTTP parser itself; the middleware would too


# -- chunked bodies over the limit ----------------------------------------------------------


def _send_chunked(
    api: Services, path: str, total: int, setting: str = "DIVERGENCE_MAX_JSON_BYTES"
) -> tuple[int, int, bytes]:
    sock = _open(api, path, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    piece = b"[" + b"0.1," * (2**20 // 4)
    sent = 0
    try:
        while sent < total and not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
    except OSError:  # the server answered and closed while we were still sending
        pass
    status, headers, body = _response(sock)
    assert headers["content-type"] == "application/problem+json"
    assert setting in json.loads(body)["detail"]
    return status, sent, body


@pytest.mark.parametrize(
    ("path", "setting"),
    [
        ("/v1/entropy", "DIVERGENCE_MAX_JSON_BYTES"),
        ("/v1/losses/kl-divergence", "DIVERGENCE_MAX_DOCUMENT_BYTES"),
        ("/v1/experiments", "DIVERGENCE_MAX_DOCUMENT_BYTES"),
    ],
)
def test_chunked_bodies_over_the_limit_are_413_everywhere(
    api: Services, path: str, setting: str
) -> None:
    before = _reset_peak(api)
    status, sent, _ = _send_chunked(api, path, 80_000_000, setting)
    assert status == 413
    growth = _kib(api, "VmHWM") - before
    assert growth < 4 * sent // 1024 + SLACK_KIB, f"grew {growth} KiB for {sent} bytes"


# -- a large invalid batch while /healthz is probed -----------------------------------------


def _probe_healthz(api: Services, done: threading.Event, latencies: list[float]) -> None:
    """GET /healthz every 10 ms until ``done``, timing each answer."""
    with httpx.Client(base_url=f"http://127.0.0.1:{api.port}", timeout=10) as client:
        client.get("/healthz")  # connect first: only the answer is timed
        while not done.is_set():
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.01)


def test_healthz_stays_fast_while_a_large_invalid_batch_is_judged(api: Services) -> None:
    rng = np.random.default_rng(7)
    pair = rng.random((2, 10**6))
    pair /= pair.sum(axis=1, keepdims=True)
    valid = json.dumps({"p": pair[0].tolist(), "q": pair[1].tolist()}).encode()  # 40+ MB
    rows = ["[" + ",".join(["0.1"] * 1000) + "]"] * 10_000
    rows[-1] = "[" + ",".join(["0.1"] * 999 + ['"x"']) + "]"
    invalid = ('{"p": [' + ",".join(rows) + "]}").encode()  # 10**7 numbers, 40 MB
    latencies: list[float] = []
    done = threading.Event()
    prober = threading.Thread(target=_probe_healthz, args=(api, done, latencies))
    prober.start()
    growth: list[int] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api.port}", timeout=60) as client:
            headers = {"content-type": "application/json"}
            before = _reset_peak(api)
            good = client.post("/v1/kl-divergence", content=valid, headers=headers)
            growth.append(_kib(api, "VmHWM") - before)
            before = _reset_peak(api)
            bad = client.post("/v1/entropy", content=invalid, headers=headers)
            growth.append(_kib(api, "VmHWM") - before)
    finally:
        done.set()
        prober.join()
    assert good.status_code == 200, good.text[:300]
    p, q = pair
    assert good.json()["value"] == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-9)
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "loc": ["body", "p", 9999, 999],
            "msg": "expected a number, got str",
            "type": "number_type",
        }
    ]
    assert bad.json()["error_count"] == 1
    assert len(latencies) >= 10
    # every probe answers within 100 ms: large JSON is parsed in chunks of about a MiB, none
    # holding the GIL for more than a few ms (one simdjson parse of the whole document held it
    # for about 150 ms)
    assert max(latencies) < 0.1, sorted(latencies)[-5:]
    for size, grew in zip((len(valid), len(invalid)), growth, strict=True):
        assert grew < 4 * size // 1024 + SLACK_KIB, f"grew {grew} KiB for {size} bytes"


# -- a client that leaves -------------------------------------------------------------------


def test_a_client_leaving_mid_upload_is_one_log_line(api: Services) -> None:
    for path in ("/v1/kl-divergence", "/v1/losses/kl-divergence"):
        headers = {"Content-Type": "application/json", "Content-Length": "1000000"}
        sock = _open(api, path, headers, b'{"p": [' + b"0.1," * 10_000)
        time.sleep(0.2)
        sock.close()
        wait_for(
            lambda path=path: f"went away during the body of POST {path}" in api.log("api"),
            10,
            "the log line",
        )
    log = api.log("api")
    assert "Traceback" not in log and "Exception in ASGI application" not in log
    assert log.count("went away during the body") == 2
