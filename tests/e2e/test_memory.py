"""Peak server memory of a 10**7-element request stays within about 4x its raw size."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.e2e.services import Services


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(tmp_path_factory.mktemp("memory"))
    svc.start_api()
    try:
        yield svc
    finally:
        svc.close()


def test_ten_million_events_in_under_four_times_the_raw_size(api: Services) -> None:
    assert api.api is not None
    pid = api.api.pid
    rng = np.random.default_rng(0)
    pair = rng.random((2, 10**7))
    pair /= pair.sum(axis=1, keepdims=True)
    buffer = io.BytesIO()
    np.save(buffer, pair)
    body = buffer.getvalue()
    raw_kib = pair.nbytes // 1024
    # warm the code path on a small request, then measure the large one
    small = io.BytesIO()
    np.save(small, pair[:, :1000] / pair[:, :1000].sum(axis=1, keepdims=True))
    api.http.post(
        "/v1/kl-divergence", content=small.getvalue(), headers={"content-type": "application/x-npy"}
    )
    before = _kib(pid, "VmRSS")
    r = httpx.post(
        f"http://127.0.0.1:{api.port}/v1/kl-divergence",
        content=body,
        headers={"content-type": "application/x-npy"},
        timeout=120,
    )
    assert r.status_code == 200 and r.json()["value"] > 0
    peak = _kib(pid, "VmHWM")
    growth = peak - before
    assert growth <= 4 * raw_kib, f"peak grew {growth} KiB for {raw_kib} KiB of arrays"
