"""`make api` is stopped by stopping make: the recipe execs the server, so the signal that
make passes to its child reaches uvicorn and not a shell that would ignore it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.services import ROOT, free_port, wait_for


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_sigterm_to_make_api_stops_the_api(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_DATA_DIR": str(tmp_path / "data"),
        "DIVERGENCE_LOG_LEVEL": "warning",
    }
    log = (tmp_path / "make.log").open("wb")
    make = subprocess.Popen(["make", "--no-print-directory", "api"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/healthz"

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, 120, "make api to serve")
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=30)
        wait_for(lambda: not answers(), 15, "the API to stop with make")
    finally:
        if make.poll() is None:
            make.kill()
        # nothing may be left listening on the port
        with httpx.Client() as client:
            try:
                client.get(url, timeout=1)
                leaked = True
            except httpx.TransportError:
                leaked = False
        assert not leaked, (tmp_path / "make.log").read_text()
