"""``POST /v1/matrix`` over real HTTP on loopback against the in-process kernel (``make
bench-matrix``).

Starts ``python -m app`` (uvicorn, the API alone) and, for each matrix measure, times the
self-matrix of 500 random distributions over 256 events (every tenth event of each row zero,
as in ``benchmarks/matrix.py``) two ways, interleaved within each repetition:

- in-process: ``app.infotheory.matrix.pairwise(measure, P)``, the kernel alone;
- over HTTP: the ``.npy`` body (1 MB) posted with ``Accept: application/x-npy``, the
  500 x 500 float64 answer (2 MB) read back with ``numpy.load``: parsing, validation (every
  row's sum and signs), the kernel, the answer and both transfers; by two clients on one
  keep-alive connection each, httpx (what ``DivergenceClient`` uses) and the standard
  library's ``http.client`` (for the share of the client library: httpx reads a 2 MB answer
  in 64 KiB pieces through its h11 parser).

A first row times the same exchange with a bare ASGI app on the same uvicorn (it reads the
body and answers as many bytes as the matrix has): what loopback HTTP costs here without the
service. Each cell is the median over the repetitions; the ratios are HTTP over in-process.
Target (issue 13): within 1.5x, judged on httpx. The answers are checked to be identical
first.
``--write FILE`` also saves the table. The header says which ``OPENBLAS_NUM_THREADS`` ran
(the server inherits it).
"""

from __future__ import annotations

import http.client
import io
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from app.infotheory.matrix import MATRIX_MEASURES, pairwise

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 7
TARGET = 1.5
HEADERS = {"content-type": "application/x-npy", "accept": "application/x-npy"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rows(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.random((500, 256))
    p[:, ::10] = 0.0
    normalised: np.ndarray = p / p.sum(axis=1, keepdims=True)
    return normalised


def _seconds(fn: Callable[[], Any], at_least: float = 0.2) -> float:
    """Seconds per call: as many calls as fill ``at_least`` seconds, timed together."""
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    number = max(1, math.ceil(at_least / max(once, 1e-9)))
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _start(port: int, data: Path) -> subprocess.Popen[bytes]:
    """The service (API alone) on ``port``."""
    env = {
        **os.environ,
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_EMBEDDED_WORKER": "false",
        "DIVERGENCE_LOG_LEVEL": "warning",
        "DIVERGENCE_DATA_DIR": str(data),
    }
    return subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env)


def _start_floor(port: int) -> subprocess.Popen[bytes]:
    """:func:`floor_app` on the same uvicorn (httptools, uvloop) as the service."""
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "benchmarks.matrix_http:floor_app", "--host",
         "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
    )  # fmt: skip


_FLOOR_ANSWER = b"\0" * (128 + 500 * 500 * 8)  # as long as the .npy answer


async def floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The transfer floor: reads the body, answers bytes as long as the matrix, nothing else."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    length = str(len(_FLOOR_ANSWER)).encode()
    headers = [(b"content-length", length), (b"content-type", b"application/x-npy")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _FLOOR_ANSWER})


class _Clients:
    """One keep-alive connection each: httpx (what ``DivergenceClient`` uses) and
    ``http.client``; each call posts the body and returns the answer's bytes."""

    def __init__(self, port: int, body: bytes) -> None:
        self.body = body
        self.httpx = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        self.stdlib = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _ in range(150):
            try:
                self.httpx.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.2)

    def by_httpx(self, path: str) -> bytes:
        r = self.httpx.post(path, content=self.body, headers=HEADERS)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
        return r.content

    def by_stdlib(self, path: str) -> bytes:
        self.stdlib.request("POST", path, self.body, HEADERS)
        return self.stdlib.getresponse().read()

    def close(self) -> None:
        self.httpx.close()
        self.stdlib.close()


def _medians(ways: list[Callable[[], Any]]) -> list[float]:
    """Seconds per call of each way, interleaved within each repetition, medians."""
    times: list[list[float]] = [[] for _ in ways]
    for _ in range(REPEATS):
        for spent, way in zip(times, ways, strict=True):
            spent.append(_seconds(way))
    return [statistics.median(t) for t in times]


def main() -> int:
    p = _rows()
    buffer = io.BytesIO()
    np.save(buffer, p)
    body = buffer.getvalue()
    threads = os.environ.get("OPENBLAS_NUM_THREADS", f"unset ({os.cpu_count()} cores)")
    lines = [
        f"POST /v1/matrix, 500 x 256 against itself, .npy in and out, over loopback HTTP; "
        f"OPENBLAS_NUM_THREADS={threads}; medians of {REPEATS}, interleaved",
        f"{'measure':<27} {'in-process':>11} {'httpx':>11} {'ratio':>7} {'http.client':>12} "
        f"{'ratio':>7}  target (httpx)",
    ]
    print(*lines, sep="\n", flush=True)
    ports = _free_port(), _free_port()
    servers = [_start(ports[0], Path(tempfile.mkdtemp(prefix="bench-matrix-")) / "data")]
    servers.append(_start_floor(ports[1]))
    missed = 0
    try:
        service, floor = _Clients(ports[0], body), _Clients(ports[1], body)
        t_httpx, t_plain = _medians([lambda: floor.by_httpx("/"), lambda: floor.by_stdlib("/")])
        lines.append(
            f"{'transfer floor (bare ASGI)':<27} {'-':>11} {t_httpx * 1e3:>9.2f}ms {'':>7} "
            f"{t_plain * 1e3:>10.2f}ms"
        )
        print(lines[-1], flush=True)
        for measure in MATRIX_MEASURES:
            path = f"/v1/matrix?measure={measure}"
            expected = pairwise(measure, p)
            for way in (service.by_httpx, service.by_stdlib):
                np.testing.assert_array_equal(np.load(io.BytesIO(way(path))), expected)
            t_local, t_httpx, t_plain = _medians(
                [
                    lambda measure=measure: pairwise(measure, p),
                    lambda path=path: np.load(io.BytesIO(service.by_httpx(path))),
                    lambda path=path: np.load(io.BytesIO(service.by_stdlib(path))),
                ]
            )
            ratio = t_httpx / t_local
            ok = ratio <= TARGET
            missed += not ok
            lines.append(
                f"{measure:<27} {t_local * 1e3:>9.2f}ms {t_httpx * 1e3:>9.2f}ms {ratio:>6.2f}x "
                f"{t_plain * 1e3:>10.2f}ms {t_plain / t_local:>6.2f}x  "
                f"<={TARGET:g}x {'ok' if ok else 'MISSED'}"
            )
            print(lines[-1], flush=True)
        service.close()
        floor.close()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    lines.append("all targets met" if not missed else f"{missed} target(s) missed")
    print(lines[-1])
    if "--write" in sys.argv:  # --write FILE: also save the table
        Path(sys.argv[sys.argv.index("--write") + 1]).write_text("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
