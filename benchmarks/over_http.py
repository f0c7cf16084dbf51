"""The service over real HTTP on loopback, against scipy in-process (``make bench-http``).

Starts ``python -m app`` (uvicorn, the API alone) and measures, in one run:

a. the framework ceiling: requests per second of ``GET /healthz`` against
   ``POST /v1/kl-divergence`` with a 10-element pair, same server, concurrency 32 (wrk),
   with p50 and p99 latency. Target: the endpoint reaches at least 85% of the ceiling.
   The numeric endpoints are raw ASGI routes in the router (app/api/measures.py); the
   table also shows the server's floor: a bare ASGI app (benchmarks/bare_asgi.py) on the
   same uvicorn settings, and the endpoint's share of that.
b. an n = 10**6 pair end to end, JSON and binary (.npy) bodies, against
   ``scipy.stats.entropy`` in-process on the same arrays, and against the time the fastest
   JSON decoder here (orjson, msgspec, json) takes to parse the same JSON body.
   Targets: binary no slower than scipy in-process; JSON within 1.5x of the decoder.
c. a 1000 x 1000 batch end to end, JSON and binary, against scipy in-process.

Prints a table of medians and ratios and writes it to benchmarks/results/http.txt.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
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
import msgspec
import numpy as np
import orjson
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "http.txt"
NPY = {"content-type": "application/x-npy"}
JSON = {"content-type": "application/json"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _median(fn: Callable[[], Any], repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _wrk(url: str, seconds: int, body: bytes | None, tmp: Path) -> dict[str, float]:
    args = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency"]
    if body is not None:
        (tmp / "body.json").write_bytes(body)
        script = tmp / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'local f = io.open("{tmp / "body.json"}", "rb")\n'
            "wrk.body = f:read('*a')\nf:close()\n"
        )
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"wrk saw {non_2xx.group(1)} error answers:\n{out}")

    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", out, flags=re.MULTILINE)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rps, out
    return {"rps": float(rps.group(1)), "p50": latency("50"), "p99": latency("99")}


def _bare(tmp: Path) -> dict[str, float]:
    """wrk against benchmarks/bare_asgi.py on uvicorn with the service's settings."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "benchmarks.bare_asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
        return _wrk(f"http://127.0.0.1:{port}/healthz", 5, None, tmp)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
    port = _free_port()
    env = {
        **os.environ,
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_EMBEDDED_WORKER": "false",
        "DIVERGENCE_LOG_LEVEL": "warning",
        "DIVERGENCE_DATA_DIR": str(tmp / "data"),
    }
    server = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=base, timeout=120)
    lines: list[str] = []
    missed = 0

    def report(text: str) -> None:
        lines.append(text)
        print(text, flush=True)

    try:
        for _ in range(100):
            try:
                http.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.2)

        # a. ceiling against the 10-element endpoint, alternating rounds; the bare ASGI app
        # runs only for its rounds, so that it takes no CPU from the service's
        small = json.dumps({"p": [0.1] * 10, "q": [0.05, 0.15] * 5}).encode()
        answer = http.post("/v1/kl-divergence", content=small, headers=JSON)
        assert answer.status_code == 200 and answer.json()["value"] > 0, answer.text
        rounds: dict[str, list[dict[str, float]]] = {"healthz": [], "kl10": [], "bare": []}
        for _ in range(3):
            rounds["healthz"].append(_wrk(f"{base}/healthz", 5, None, tmp))
            rounds["kl10"].append(_wrk(f"{base}/v1/kl-divergence", 5, small, tmp))
            rounds["bare"].append(_bare(tmp))
        med = {
            name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
            for name, runs in rounds.items()
        }
        share = med["kl10"]["rps"] / med["healthz"]["rps"]
        missed += share < 0.85
        report("a. framework ceiling, concurrency 32 (wrk, 3 rounds of 5 s, medians)")
        labels = {
            "healthz": "GET /healthz",
            "kl10": "POST /v1/kl-divergence n=10",
            "bare": "bare ASGI app, same uvicorn",
        }
        for name, label in labels.items():
            m = med[name]
            report(
                f"   {label:<30} {m['rps']:>9.0f} req/s  p50 {m['p50']:6.2f} ms  p99 {m['p99']:6.2f} ms"
            )
        report(
            f"   endpoint / ceiling: {share:.1%} (target >= 85%: {'met' if share >= 0.85 else 'MISSED'})"
        )
        report(
            f"   endpoint / bare server floor: {med['kl10']['rps'] / med['bare']['rps']:.1%} "
            "(no target: uvicorn and loopback alone)"
        )

        # b. n = 10**6
        rng = np.random.default_rng(0)
        p, q = rng.random(10**6), rng.random(10**6)
        p[::10] = 0.0
        p, q = p / p.sum(), q / q.sum()
        json_body = json.dumps({"p": p.tolist(), "q": q.tolist()}).encode()
        npy_body = _npy(np.stack([p, q]))
        expected = stats.entropy(p, q)
        for body, headers in ((json_body, JSON), (npy_body, NPY)):
            value = http.post("/v1/kl-divergence", content=body, headers=headers).json()["value"]
            assert abs(value - expected) <= 1e-9 * expected, (value, expected)
        t_scipy = _median(lambda: stats.entropy(p, q))
        decoders = {
            "orjson": lambda: orjson.loads(json_body),
            "msgspec": lambda: msgspec.json.decode(json_body),
            "json": lambda: json.loads(json_body),
        }
        decode = {name: _median(fn, repeat=5) for name, fn in decoders.items()}
        fastest = min(decode, key=decode.__getitem__)
        t_json = _median(lambda: http.post("/v1/kl-divergence", content=json_body, headers=JSON), 5)
        t_npy = _median(lambda: http.post("/v1/kl-divergence", content=npy_body, headers=NPY))
        report(
            f"b. n = 10^6 pair (JSON body {len(json_body) / 1e6:.1f} MB, .npy body {len(npy_body) / 1e6:.1f} MB), medians"
        )
        report(f"   scipy.stats.entropy in-process  {t_scipy * 1e3:8.1f} ms")
        for name, t in decode.items():
            report(
                f"   {name + '.loads of the JSON body':<31} {t * 1e3:8.1f} ms{'  (fastest decoder)' if name == fastest else ''}"
            )
        binary_ratio, json_ratio = t_npy / t_scipy, t_json / decode[fastest]
        missed += binary_ratio > 1.0
        missed += json_ratio > 1.5
        report(
            f"   binary over HTTP, end to end    {t_npy * 1e3:8.1f} ms  {binary_ratio:5.2f}x scipy in-process (target <= 1.0: {'met' if binary_ratio <= 1.0 else 'MISSED'})"
        )
        report(
            f"   JSON over HTTP, end to end      {t_json * 1e3:8.1f} ms  {json_ratio:5.2f}x {fastest} decode (target <= 1.5: {'met' if json_ratio <= 1.5 else 'MISSED'}); {t_json / t_scipy:.1f}x scipy"
        )

        # c. a 1000 x 1000 batch
        big_p, big_q = rng.random((1000, 1000)), rng.random((1000, 1000))
        big_p[:, ::10] = 0.0
        big_p /= big_p.sum(axis=1, keepdims=True)
        big_q /= big_q.sum(axis=1, keepdims=True)
        batch_json = json.dumps({"p": big_p.tolist(), "q": big_q.tolist()}).encode()
        batch_npy = _npy(np.stack([big_p, big_q]))
        got = http.post("/v1/kl-divergence", content=batch_npy, headers=NPY).json()["value"]
        np.testing.assert_allclose(got, stats.entropy(big_p, big_q, axis=1), rtol=1e-9)
        t_scipy_b = _median(lambda: stats.entropy(big_p, big_q, axis=1))
        t_json_b = _median(
            lambda: http.post("/v1/kl-divergence", content=batch_json, headers=JSON), 5
        )
        t_npy_b = _median(lambda: http.post("/v1/kl-divergence", content=batch_npy, headers=NPY))
        report("c. 1000 x 1000 batch, medians")
        report(f"   scipy.stats.entropy(axis=1) in-process {t_scipy_b * 1e3:8.1f} ms")
        report(
            f"   binary over HTTP, end to end           {t_npy_b * 1e3:8.1f} ms  {t_npy_b / t_scipy_b:5.2f}x scipy"
        )
        report(
            f"   JSON over HTTP, end to end             {t_json_b * 1e3:8.1f} ms  {t_json_b / t_scipy_b:5.2f}x scipy"
        )
        report("all targets met" if not missed else f"{missed} target(s) missed")
    finally:
        http.close()
        server.terminate()
        server.wait(timeout=30)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
