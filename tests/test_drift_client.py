"""The drift methods of both clients and the ``divergence drift`` commands, against the app
in-process."""

from __future__ import annotations

import asyncio
import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from divergence_client import AsyncDivergenceClient, DivergenceClient, DivergenceError, cli


@pytest.fixture
def transport(tmp_path: Path) -> Iterator[httpx.MockTransport]:
    settings = Settings(data_dir=tmp_path / "data", keras_home=tmp_path / "keras")
    with TestClient(create_app(settings)) as client:

        def handle(request: httpx.Request) -> httpx.Response:
            answer = client.request(
                request.method,
                request.url.raw_path.decode(),
                content=request.content,
                headers=request.headers,
            )
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )

        yield httpx.MockTransport(handle)


def test_sync_and_async_clients(transport: httpx.MockTransport) -> None:
    reference = np.random.default_rng(0).normal(size=1000)
    with DivergenceClient("http://test", transport=transport) as sync:
        made = sync.create_drift_reference(
            "shop",
            {
                "amount": {
                    "kind": "numeric",
                    "samples": reference,
                    "bins": {"rule": "quantiles", "count": 4},
                }
            },
        )
        assert made.version == 1 and made.features["amount"].counts == [250] * 4
        window = {"amount": reference[:400] + 2.0}
        check = sync.check_drift("shop", window, bootstrap={"seed": 3})
        assert check.verdict == "drift" and check.bootstrap.seed == 3
        assert [c.id for c in sync.drift_checks("shop").items] == [check.id]
        assert sync.drift_plot("shop", "amount").startswith(b"<svg")
        assert [r.name for r in sync.drift_references().items] == ["shop"]
        with pytest.raises(DivergenceError) as refused:
            sync.check_drift("shop", {"height": [1.0]})
        assert refused.value.status == 422
        assert refused.value.errors[0]["loc"] == ["body", "window", "height"]

    async def from_async() -> tuple[str | None, int]:
        async with AsyncDivergenceClient("http://test", transport=transport) as aclient:
            check = await aclient.check_drift(
                "shop", {"amount": reference[:300]}, bootstrap={"resamples": 0}
            )
            await aclient.delete_drift_reference("shop")
            return check.verdict, len((await aclient.drift_references()).items)

    assert asyncio.run(from_async()) == ("no drift", 0)


def test_cli(
    transport: httpx.MockTransport, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        cli,
        "DivergenceClient",
        lambda url, api_key=None: DivergenceClient(url, transport=transport),
    )
    spec = tmp_path / "features.json"
    spec.write_text(
        json.dumps(
            {"features": {"country": {"kind": "categorical", "counts": {"DE": 60, "FR": 40}}}}
        )
    )
    window = tmp_path / "window.json"
    window.write_text(json.dumps({"country": {"DE": 20, "FR": 80}}))

    def run(*args: str) -> str:
        out = io.StringIO()
        assert cli.main(list(args), out=out) == 0
        return out.getvalue()

    assert run("drift", "reference", "create", "shop", str(spec)).startswith("shop version 1")
    text = run("drift", "check", "shop", str(window), "--seed", "1", "--resamples", "99")
    assert text.startswith("shop v1: drift (seed 1)")
    assert "population_stability_index" in text
    found = json.loads(run("drift", "check", "shop", str(window), "--resamples", "0", "--json"))
    p, q = np.array([0.2, 0.8]), np.array([0.6, 0.4])
    psi = found["features"]["country"]["measures"]["population_stability_index"]["value"]
    assert psi == pytest.approx(float(np.sum((p - q) * np.log(p / q))), rel=1e-12)
    assert len(run("drift", "history", "shop").splitlines()) == 2
    assert "shop  v1  1 features  drift" in run("drift", "reference", "list")
    out_file = tmp_path / "country.svg"
    run("drift", "plot", "shop", "--feature", "country", "-o", str(out_file))
    assert out_file.read_text().startswith("<svg")
    run("drift", "reference", "delete", "shop")
    assert run("drift", "reference", "list") == ""
