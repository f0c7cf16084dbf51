"""Over real HTTP against a served API: pictures and model fits do not stall `/healthz`, and
loss and bootstrap requests cost memory in proportion to what they are.

Peak memory is the API's VmHWM after resetting it through ``/proc/<pid>/clear_refs``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.e2e.services import Services

PNG = b"\x89PNG\r\n\x1a\n"


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _peak_growth_kib(api: Services, method: str, url: str, **kwargs: object) -> tuple[int, int]:
    """Status and growth of the API's peak RSS (KiB) over one request."""
    assert api.api is not None
    pid = api.api.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = _kib(pid, "VmRSS")
    r = api.http.request(method, url, timeout=120, **kwargs)  # type: ignore[arg-type]
    return r.status_code, _kib(pid, "VmHWM") - before


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(tmp_path_factory.mktemp("render"))
    svc.start_api()
    try:
        yield svc
    finally:
        svc.close()


def _wide_fit() -> dict[str, object]:
    counts = np.bincount(np.random.default_rng(0).poisson(3000, 20_000), minlength=10_001)
    return {"counts": counts.tolist(), "bootstrap": {"resamples": 0}}


def test_png_of_a_wide_fit_leaves_healthz_fast(api: Services) -> None:
    """A 10,001-value fit as PNG stalled /healthz 1.7 s when resvg ran in the API process."""
    body = _wide_fit()
    url = f"http://127.0.0.1:{api.port}/v1/model-fit?format=png"
    with httpx.Client(timeout=60) as warm:  # first-use imports out of the measurement
        assert warm.post(url, json=body).content.startswith(PNG)
    stop = threading.Event()
    pictures: list[float] = []

    def draw() -> None:
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                start = time.perf_counter()
                r = client.post(url, json=body)
                assert r.status_code == 200 and r.content.startswith(PNG)
                pictures.append(time.perf_counter() - start)

    drawer = threading.Thread(target=draw)
    drawer.start()
    latencies = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api.port}", timeout=10) as probe:
            probe.get("/healthz")
            deadline = time.monotonic() + 4.0
            while time.monotonic() < deadline or len(pictures) < 3:
                start = time.perf_counter()
                assert probe.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - start)
                time.sleep(0.01)
    finally:
        stop.set()
        drawer.join(timeout=60)
    assert len(pictures) >= 3
    assert max(latencies) < 0.1, f"/healthz took up to {max(latencies):.3f} s"
    assert max(pictures) < 2.0, f"a picture took {max(pictures):.2f} s"


def test_sixteen_thousand_classes_over_http(api: Services) -> None:
    """One class index against a 16,000-wide row (about 32 KB): +1.95 GiB with np.eye."""
    row = [0.0] * 16_000
    row[7] = 1.0
    body = {"labels": [7], "predictions": [row]}
    url = "/v1/losses/categorical-cross-entropy"
    api.http.post(url, json=body)  # warm the path
    status, growth = _peak_growth_kib(api, "POST", url, json=body)
    assert status == 200
    assert growth < 16 * 1024, f"peak grew {growth} KiB"


def test_bootstrap_at_the_limit_over_http(api: Services) -> None:
    """2501 values x 3998 resamples (the default limit, 10**7 cells); 20,000 peaked at 4.7 GiB."""
    body = {"counts": [1] * 2501, "bootstrap": {"resamples": 3998}}
    api.http.post("/v1/model-fit", json={"counts": [1] * 11})  # warm the path
    status, growth = _peak_growth_kib(api, "POST", "/v1/model-fit", json=body)
    assert status == 200
    assert growth < 64 * 1024, f"peak grew {growth} KiB"
    over = api.http.post("/v1/model-fit", json={**body, "bootstrap": {"resamples": 20_000}})
    assert over.status_code == 422 and "DIVERGENCE_MAX_BOOTSTRAP_WORK" in over.text
