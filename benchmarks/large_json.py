"""Large JSON bodies over real HTTP: end-to-end time, peak API memory and /healthz latency.

Starts ``python -m app`` (the API alone; ``ROOT`` picks another checkout to compare) and, while
another thread probes ``/healthz`` every 10 ms, sends:

a. an n = 10**6 pair as JSON (about 47 MB of random floats) to ``POST /v1/kl-divergence``,
   the first time in a fresh process (peak memory), then five times (median time);
b. a 42 MB batch of 10**4 rows with one string at its end to ``POST /v1/entropy`` (422);
c. a 4 MiB JSON document to ``POST /v1/losses/binary-cross-entropy``.

Prints, per case, the end-to-end time, the peak memory growth of the API (VmHWM after a reset
through /proc/<pid>/clear_refs) over the body size, and the slowest /healthz answer.
Linux only (reads /proc).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(os.environ.get("ROOT", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(ROOT))
from tests.e2e import services  # noqa: E402

services.ROOT = ROOT
JSON = {"content-type": "application/json"}


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def _bodies() -> dict[str, tuple[str, bytes, int]]:
    rng = np.random.default_rng(0)
    p, q = rng.random(10**6), rng.random(10**6)
    pair = json.dumps({"p": (p / p.sum()).tolist(), "q": (q / q.sum()).tolist()}).encode()
    rows = ["[" + ",".join(["0.1"] * 1000) + "]"] * 10_000
    rows[-1] = "[" + ",".join(["0.1"] * 999 + ['"x"']) + "]"
    batch = ('{"p": [' + ",".join(rows) + "]}").encode()
    labels, predictions = rng.random(95_000), rng.uniform(0.01, 0.99, 95_000)
    losses = json.dumps({"labels": labels.tolist(), "predictions": predictions.tolist()})
    return {
        "a. 10^6 pair, JSON": ("/v1/kl-divergence", pair, 200),
        "b. invalid 10^4 x 10^3 batch": ("/v1/entropy", batch, 422),
        "c. 4 MiB losses document": ("/v1/losses/binary-cross-entropy", losses.encode(), 200),
    }


def main() -> int:
    bodies = _bodies()
    with tempfile.TemporaryDirectory() as tmp:
        svc = services.Services(Path(tmp))
        svc.start_api()
        assert svc.api is not None
        pid = svc.api.pid
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{svc.port}", timeout=60) as http:
                http.post("/v1/kl-divergence", json={"p": [0.5, 0.5], "q": [0.5, 0.5]})
                for name, (path, body, status) in bodies.items():
                    latencies: list[float] = []
                    done = threading.Event()

                    def probe(latencies: list[float] = latencies, done: threading.Event = done) -> None:  # fmt: skip
                        with httpx.Client(base_url=f"http://127.0.0.1:{svc.port}") as client:
                            client.get("/healthz")
                            while not done.is_set():
                                started = time.perf_counter()
                                client.get("/healthz")
                                latencies.append(time.perf_counter() - started)
                                time.sleep(0.01)

                    prober = threading.Thread(target=probe)
                    prober.start()
                    Path(f"/proc/{pid}/clear_refs").write_text("5")
                    before = _kib(pid, "VmHWM")
                    times = []
                    for attempt in range(6):
                        started = time.perf_counter()
                        r = http.post(path, content=body, headers=JSON)
                        times.append(time.perf_counter() - started)
                        assert r.status_code == status, r.text[:300]
                        if attempt == 0:
                            growth = (_kib(pid, "VmHWM") - before) * 1024
                    done.set()
                    prober.join()
                    print(
                        f"{name:32s} {len(body) / 1e6:5.1f} MB  median {statistics.median(times[1:]) * 1e3:7.1f} ms"
                        f"  first-request peak growth {growth / len(body):5.2f}x body"
                        f"  /healthz max {max(latencies) * 1e3:6.1f} ms ({len(latencies)} probes)"
                    )  # fmt: skip
        finally:
            svc.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
