"""The client and the CLI send an API key; with keys, jobs are private to their key."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from divergence_client import DivergenceClient, DivergenceError
from divergence_client.cli import main
from tests.e2e.services import Services

SMALL = {"dataset": "synthetic", "epochs": 1, "train_samples": 100, "test_samples": 20}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    svc = Services(tmp_path_factory.mktemp("keys"), DIVERGENCE_API_KEYS="alpha,beta")
    svc.start_api()
    try:
        yield f"http://127.0.0.1:{svc.port}"
    finally:
        svc.close()


def test_a_job_is_visible_to_its_key_only(url: str) -> None:
    with DivergenceClient(url, api_key="alpha") as alpha, DivergenceClient(url, api_key="beta") as beta:  # fmt: skip
        job = alpha.submit_experiment(**SMALL)
        assert alpha.experiment(job.id).id == job.id
        with pytest.raises(DivergenceError) as caught:
            beta.experiment(job.id)
        assert caught.value.status == 404
        assert job.id not in [j.id for j in beta.experiments().items]
    with DivergenceClient(url) as anonymous, pytest.raises(DivergenceError) as caught:
        anonymous.experiments()
    assert caught.value.status == 401


def test_cli_takes_the_key_from_an_option_or_the_environment(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("DIVERGENCE_API_KEY", raising=False)
    assert main(["--url", url, "experiment", "list"], out=io.StringIO()) == 1
    assert "API key is required" in capsys.readouterr().err
    out = io.StringIO()
    assert main(["--url", url, "--api-key", "alpha", "--json", "experiment", "list"], out=out) == 0
    assert '"items"' in out.getvalue()
    monkeypatch.setenv("DIVERGENCE_API_KEY", "beta")
    assert main(["--url", url, "experiment", "list"], out=io.StringIO()) == 0
