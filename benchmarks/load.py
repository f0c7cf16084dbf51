"""A bounded load test on loopback (``make load``): mixed numeric traffic at concurrency 64
for 30 s (wrk), while experiments submitted meanwhile must all complete.

Starts ``python -m app`` (the API and its embedded worker) on a private data directory,
runs wrk with a mix of entropy, KL, JS, compare, model-fit and loss requests, submits three
small synthetic experiments during the run, and checks: zero socket errors, zero non-2xx
answers, and every experiment succeeded. Prints a summary (saved with --write FILE).
Traffic goes to 127.0.0.1 only; the run stops by itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DURATION, CONNECTIONS = 30, 64

REQUESTS = [
    ("/v1/entropy", {"p": [0.1, 0.2, 0.3, 0.4], "unit": "bits"}),
    ("/v1/kl-divergence", {"p": [0.5, 0.3, 0.2], "q": [0.4, 0.4, 0.2]}),
    ("/v1/js-divergence", {"p": {"a": 0.7, "b": 0.3}, "q": {"a": 0.2, "c": 0.8}}),
    ("/v1/compare", {"p": [[0.9, 0.1], [0.5, 0.5]], "q": [0.6, 0.4]}),
    ("/v1/cross-entropy", {"p": [0.25] * 4, "q": [0.1, 0.2, 0.3, 0.4], "unit": "bans"}),
    ("/v1/losses/binary-cross-entropy", {"labels": [1, 0, 1], "predictions": [0.9, 0.2, 0.6]}),
    (
        "/v1/model-fit",
        {"counts": [2, 3, 5, 14, 16, 15, 12, 8, 10, 8, 7], "bootstrap": {"resamples": 50}},
    ),
]


def _lua(tmp: Path) -> Path:
    entries = ",\n".join(
        f"  {{path = {json.dumps(path)}, body = {json.dumps(json.dumps(body))}}}"
        for path, body in REQUESTS
    )
    script = tmp / "mixed.lua"
    script.write_text(
        "local requests = {\n" + entries + "\n}\n"
        "local counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  local r = requests[(counter % #requests) + 1]\n"
        '  return wrk.format("POST", r.path, {["Content-Type"] = "application/json"}, r.body)\n'
        "end\n"
    )
    return script


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    port = _free_port()
    env = {
        **os.environ,
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_DATA_DIR": str(tmp / "data"),
        "DIVERGENCE_KERAS_HOME": str(tmp / "keras"),
        "DIVERGENCE_LOG_LEVEL": "warning",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=base, timeout=60)
    jobs: list[str] = []
    try:
        for _ in range(150):
            try:
                if http.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)

        def submit_during_the_run() -> None:
            for seed in range(3):
                time.sleep(DURATION / 4)
                config = {"dataset": "synthetic", "epochs": 2, "train_samples": 500,
                          "test_samples": 100, "batch_size": 100, "seed": seed}  # fmt: skip
                r = http.post("/v1/experiments", json=config)
                r.raise_for_status()
                jobs.append(r.json()["id"])

        submitter = threading.Thread(target=submit_during_the_run)
        submitter.start()
        out = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "-s", str(_lua(tmp)), base],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        submitter.join()
        deadline = time.monotonic() + 300
        statuses: dict[str, str] = {}
        while time.monotonic() < deadline:
            statuses = {j: http.get(f"/v1/experiments/{j}").json()["status"] for j in jobs}
            if all(s in ("succeeded", "failed", "cancelled") for s in statuses.values()):
                break
            time.sleep(1)
    finally:
        http.close()
        server.terminate()
        server.wait(timeout=60)

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, flags=re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, flags=re.MULTILINE)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    succeeded = sum(s == "succeeded" for s in statuses.values())
    ok = errors == 0 and socket_errors is None and succeeded == len(jobs) == 3
    lines = [
        f"mixed numeric traffic, {CONNECTIONS} connections, {DURATION} s (wrk, {len(REQUESTS)} request kinds)",
        f"  {requests} requests, {rps:.0f} req/s, p50 {p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'}",
        f"  non-2xx answers: {errors}; socket errors: {socket_errors.group(1) if socket_errors else 'none'}",
        f"  experiments submitted during the run: {len(jobs)}, succeeded: {succeeded}",
        "PASS" if ok else "FAIL",
    ]
    print("\n".join(lines))
    if "--write" in sys.argv:  # --write FILE: also save the table (nothing is written otherwise)
        Path(sys.argv[sys.argv.index("--write") + 1]).write_text("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
