"""One API process against two (``DIVERGENCE_API_WORKERS``), and the cost of uvicorn's access
log (``DIVERGENCE_ACCESS_LOG``), small requests over loopback.

``python benchmarks/workers.py`` (``make bench-workers``; needs wrk): ``python -m app`` as
``make run`` starts it (default settings, no embedded worker, so that only the API uses the
cores) with one and then two API processes, alternating for three rounds; wrk (2 threads, 64
connections, 10 s) posts a 10-element pair to ``/v1/kl-divergence``. A third contender in
each round is one process with the access log on (off by default; its lines written to a
file, as a deployment would keep them). Prints requests per second, the medians, the ratio
two / one (the performance issue's goal: at least 1.7x) and what the access log costs.
wrk runs on the same 2 cores, so the ceiling here is below 2x.
"""

from __future__ import annotations

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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BODY = {"p": [0.1] * 10, "q": [0.05, 0.15] * 5}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rps(workers: int, tmp: Path, access_log: bool = False) -> float:
    port = _free_port()
    env = {
        **os.environ,
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_API_WORKERS": str(workers),
        "DIVERGENCE_EMBEDDED_WORKER": "false",
        "DIVERGENCE_ACCESS_LOG": str(access_log).lower(),
        "DIVERGENCE_DATA_DIR": str(tmp / f"data{workers}{access_log}"),
    }
    with (tmp / "server.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.2)
        time.sleep(1.0)  # every process up
        script = tmp / "post.lua"
        (tmp / "body.json").write_text(json.dumps(BODY))
        script.write_text(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f'local f = io.open("{tmp / "body.json"}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
        )
        out = subprocess.run(
            ["wrk", "-t2", "-c64", "-d10s", "-s", str(script),
             f"http://127.0.0.1:{port}/v1/kl-divergence"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        if "Non-2xx" in out:
            raise RuntimeError(out)
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert found, out
        return float(found.group(1))
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    contenders = {
        "one API process": (1, False),
        "two API processes": (2, False),
        "one API process, access log on": (1, True),
    }
    rounds: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for _ in range(3):
            for name, (workers, access_log) in contenders.items():
                rounds[name].append(_rps(workers, tmp, access_log))
                print(f"{name}: {rounds[name][-1]:,.0f} req/s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {name: statistics.median(values) for name, values in rounds.items()}
    one, two = med["one API process"], med["two API processes"]
    logged = med["one API process, access log on"]
    ratio = two / one
    print(
        f"medians: one {one:,.0f} req/s, two {two:,.0f} req/s, ratio {ratio:.2f}x "
        f"(goal >= 1.7x: {'met' if ratio >= 1.7 else 'MISSED'}); access log on: "
        f"{logged:,.0f} req/s, {logged / one - 1:+.1%} against off (the default)"
    )
    return 0 if ratio >= 1.7 else 1


if __name__ == "__main__":
    sys.exit(main())
