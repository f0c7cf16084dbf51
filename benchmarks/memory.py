"""Peak memory and memory kept by one 10**7-element request, JSON and ``.npy`` (``python benchmarks/memory.py``).

Starts ``python -m app`` (the API alone; the JSON body limit raised to 600 MiB for this one
case, the default being 64 MiB), warms it with a small request, then posts an n = 10**7 pair
as JSON (about 450 MiB) and as ``.npy`` (153 MiB) to ``POST /v1/kl-divergence``. Prints, per
body, the peak growth of the API's resident memory (VmHWM after a reset through
``/proc/<pid>/clear_refs``) against the body's size and the resident memory a second after
the answer against before (the performance issue's goals: peak under 4x the body, back within
50 MiB). Linux only (reads /proc). Needs about 3 GiB of memory for the client and the server.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    tmp, port = tempfile.mkdtemp(prefix="bench-memory-"), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIVERGENCE_")}
    env.update(
        DIVERGENCE_PORT=str(port),
        DIVERGENCE_DATA_DIR=tmp,
        DIVERGENCE_EMBEDDED_WORKER="false",
        DIVERGENCE_MAX_JSON_BYTES=str(600 * 2**20),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    missed = 0
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
        for _ in range(300):
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        client.post("/v1/kl-divergence", json={"p": [0.5, 0.5], "q": [0.25, 0.75]})
        rng = np.random.default_rng(0)
        n = 10**7
        for kind in ("JSON", ".npy"):
            p, q = rng.random(n), rng.random(n)
            p /= p.sum()
            q /= q.sum()
            if kind == "JSON":
                body = json.dumps({"p": p.tolist(), "q": q.tolist()}).encode()
                headers = {"content-type": "application/json"}
            else:
                buffer = io.BytesIO()
                np.save(buffer, np.stack([p, q]))
                body, headers = buffer.getvalue(), {"content-type": "application/x-npy"}
            before = _kib(server.pid, "VmRSS")
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")
            low = _kib(server.pid, "VmHWM")
            started = time.perf_counter()
            answer = client.post("/v1/kl-divergence", content=body, headers=headers)
            seconds = time.perf_counter() - started
            assert answer.status_code == 200, answer.text[:300]
            time.sleep(1.0)
            peak, after = _kib(server.pid, "VmHWM") - low, _kib(server.pid, "VmRSS") - before
            ratio = peak * 1024 / len(body)
            ok = ratio < 4 and after < 50 * 1024
            missed += not ok
            print(
                f"{kind:<5} body {len(body) / 2**20:5.0f} MiB  {seconds:6.2f} s  peak growth "
                f"{peak / 1024:5.0f} MiB = {ratio:.2f}x body  kept afterwards {after / 1024:+5.0f} MiB"
                f"  (goals < 4x, < 50 MiB: {'met' if ok else 'MISSED'})",
                flush=True,
            )
            del body
    finally:
        server.terminate()
        server.wait(timeout=60)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
