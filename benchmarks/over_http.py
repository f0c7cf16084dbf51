"""The service over real HTTP on loopback, against the baselines a user would pick (``make bench-http``).

Starts ``python -m app`` exactly as ``make run`` does (default settings: log level info,
uvicorn's access log off, the embedded worker on SQLite in a temporary folder; only the port
and the folder differ) and measures, in one run:

a. small requests: ``POST /v1/kl-divergence`` with a 10-element pair against a bare ASGI app
   (benchmarks/bare_asgi.py) on the same uvicorn settings, one process each, wrk at
   concurrency 32, rounds alternating. Goal: at least 50% of the bare app's requests per
   second. ``GET /healthz`` is shown for reference (it goes through FastAPI's dependency
   machinery: no ceiling).
b. an n = 10**6 pair end to end: the JSON body against the service's own decoder (simdjson,
   ``app.api.codec``) parsing the same bytes in-process, goal at most 1.3x; the ``.npy`` body
   against the in-process kernel (``app.infotheory.kl_divergence``), goal at most 2.5x; and
   ``scipy.stats.entropy`` for reference.
c. a 1000 x 1000 batch end to end, JSON and ``.npy``, against the in-process kernel.

Every timing in b and c is a median, the contenders timed in turns. Prints the table;
``--write FILE`` also saves it (nothing in the tracked tree is written unless asked).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from scipy import stats

from app import infotheory as it
from app.api.codec.large_json import large_json

ROOT = Path(__file__).resolve().parents[1]
NPY = {"content-type": "application/x-npy"}
JSON = {"content-type": "application/json"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _turns(contenders: dict[str, Callable[[], Any]], repeat: int = 7) -> dict[str, float]:
    """Median seconds per call of each contender, timed in turns (the order rotating), after
    one warm-up call each."""
    names = list(contenders)
    for name in names:
        contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            started = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


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
         "--port", str(port), "--log-level", "info", "--no-access-log"],
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, help="also save the table to this file")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
    port = _free_port()
    env = {  # make run's settings: only the port and the folder differ
        **{k: v for k, v in os.environ.items() if not k.startswith("DIVERGENCE_")},
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_DATA_DIR": str(tmp / "data"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=base, timeout=120)
    lines: list[str] = [
        f"# make bench-http, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} cores, python -m app at make run's settings"
    ]
    missed = 0

    def report(text: str) -> None:
        lines.append(text)
        print(text, flush=True)

    def goal(ok: bool, text: str) -> str:
        nonlocal missed
        missed += not ok
        return f"(goal {text}: {'met' if ok else 'MISSED'})"

    try:
        for _ in range(150):
            try:
                if http.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        print(lines[0], flush=True)

        # a. small requests against the bare ASGI app; the bare app runs only in its rounds
        small = json.dumps({"p": [0.1] * 10, "q": [0.05, 0.15] * 5}).encode()
        answer = http.post("/v1/kl-divergence", content=small, headers=JSON)
        assert answer.status_code == 200 and answer.json()["value"] > 0, answer.text
        rounds: dict[str, list[dict[str, float]]] = {"kl10": [], "bare": [], "healthz": []}
        for _ in range(3):
            rounds["kl10"].append(_wrk(f"{base}/v1/kl-divergence", 5, small, tmp))
            rounds["bare"].append(_bare(tmp))
            rounds["healthz"].append(_wrk(f"{base}/healthz", 5, None, tmp))
        med = {
            name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
            for name, runs in rounds.items()
        }
        share = med["kl10"]["rps"] / med["bare"]["rps"]
        report(
            "a. small requests, one process each, concurrency 32 (wrk, 3 rounds of 5 s, medians)"
        )
        labels = {
            "kl10": "POST /v1/kl-divergence n=10",
            "bare": "bare ASGI app, same uvicorn",
            "healthz": "GET /healthz (reference)",
        }
        for name, label in labels.items():
            m = med[name]
            report(
                f"   {label:<30} {m['rps']:>9.0f} req/s  p50 {m['p50']:6.2f} ms  p99 {m['p99']:6.2f} ms"
            )
        report(f"   endpoint / bare ASGI app: {share:.1%} {goal(share >= 0.5, '>= 50%')}")

        # b. n = 10**6, the contenders in turns
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
        decoded = large_json(json_body)
        assert decoded is not None and np.array_equal(np.asarray(decoded["p"]), p)
        b = _turns(
            {
                "json": lambda: http.post("/v1/kl-divergence", content=json_body, headers=JSON),
                "decode": lambda: large_json(json_body),
                "npy": lambda: http.post("/v1/kl-divergence", content=npy_body, headers=NPY),
                "kernel": lambda: it.kl_divergence(p, q),
                "scipy": lambda: stats.entropy(p, q),
            }
        )
        json_ratio, npy_ratio = b["json"] / b["decode"], b["npy"] / b["kernel"]
        report(
            f"b. n = 10^6 pair (JSON body {len(json_body) / 1e6:.1f} MB, .npy body "
            f"{len(npy_body) / 1e6:.1f} MB), medians of 7 in turns"
        )
        report(f"   the service's JSON decoder in-process  {b['decode'] * 1e3:8.1f} ms")
        report(f"   the kernel in-process                  {b['kernel'] * 1e3:8.1f} ms")
        report(f"   scipy.stats.entropy in-process         {b['scipy'] * 1e3:8.1f} ms")
        report(
            f"   JSON over HTTP, end to end             {b['json'] * 1e3:8.1f} ms  "
            f"{json_ratio:5.2f}x the decoder {goal(json_ratio <= 1.3, '<= 1.3x')}"
        )
        report(
            f"   .npy over HTTP, end to end             {b['npy'] * 1e3:8.1f} ms  "
            f"{npy_ratio:5.2f}x the kernel {goal(npy_ratio <= 2.5, '<= 2.5x')}; "
            f"{b['npy'] / b['scipy']:.2f}x scipy"
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
        c = _turns(
            {
                "json": lambda: http.post("/v1/kl-divergence", content=batch_json, headers=JSON),
                "npy": lambda: http.post("/v1/kl-divergence", content=batch_npy, headers=NPY),
                "kernel": lambda: it.kl_divergence(big_p, big_q),
            }
        )
        report("c. 1000 x 1000 batch, medians of 7 in turns (no goal)")
        report(f"   the kernel in-process                  {c['kernel'] * 1e3:8.1f} ms")
        report(
            f"   .npy over HTTP, end to end             {c['npy'] * 1e3:8.1f} ms  "
            f"{c['npy'] / c['kernel']:5.2f}x the kernel"
        )
        report(
            f"   JSON over HTTP, end to end             {c['json'] * 1e3:8.1f} ms  "
            f"{c['json'] / c['kernel']:5.2f}x the kernel"
        )
        report("all goals met" if not missed else f"{missed} goal(s) missed")
    finally:
        http.close()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.write:
        args.write.write_text("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
