"""The `divergence` command against a live API and worker that the tests start."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from divergence_client.cli import main
from tests.e2e.services import Services


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(tmp_path_factory.mktemp("cli"))
    svc.start_api()
    svc.start_worker()
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def url(services: Services) -> str:
    return f"http://127.0.0.1:{services.port}"


def run(url: str, *args: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(["--url", url, *args], out=out)
    finally:
        sys.stdin = old
    return code, out.getvalue()


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "p.json").write_text("[0.5, 0.5]")
    (tmp_path / "q.json").write_text("[0.9, 0.1]")
    return str(tmp_path / "p.json"), str(tmp_path / "q.json")


def test_kl_from_files_as_a_table_and_as_json(url: str, files: tuple[str, str]) -> None:
    code, table = run(url, "kl", *files, "--unit", "bits")
    assert code == 0
    assert "value            0.7369655942" in table and "unit             bits" in table
    assert "normalized       no" in table and "False" not in table
    code, text = run(url, "kl", *files, "--unit", "bits", "--json")
    assert json.loads(text)["value"] == pytest.approx(0.7369655941662062)


def test_reads_standard_input(url: str, files: tuple[str, str]) -> None:
    code, text = run(url, "--json", "entropy", "-", "--unit", "bits", stdin="[0.25, 0.75, 0]")
    assert code == 0 and json.loads(text)["value"] == pytest.approx(0.8112781244591328)
    code, text = run(url, "compare", "-", files[1], stdin='{"x": 0.5, "y": 0.5}')
    assert code != 0  # a label map against an array is refused by the service


def test_bad_input_exits_1_with_the_problem(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(url, "entropy", "-", stdin="[0.5, -1]")
    assert code == 1
    assert "p[1]: probabilities must be >= 0" in capsys.readouterr().err


def test_experiment_run_watch_show_plot(url: str, services: Services, tmp_path: Path) -> None:
    code, text = run(url, "experiment", "run", "--dataset", "synthetic", "--epochs", "2",
                     "--train-samples", "200", "--test-samples", "40", "--batch-size", "50",
                     "--label-smoothing", "0.1", "--watch")  # fmt: skip
    assert code == 0, f"{text}\n--- api log ---\n{services.log('api')}"
    lines = text.strip().splitlines()
    job_id = lines[0].removeprefix("submitted ")
    bars = [line for line in lines if " epoch " in line]
    assert len(bars) == 4 and "epoch 2/2" in bars[-1] and "100.0%" in bars[-1]
    # the watch ends with the comparison: the table, the per-epoch gaps, the verdict
    end = lines.index(f"{job_id}: succeeded")
    summary = lines[end + 1 :]
    assert summary[0].split() == ["loss", "seeds", "test", "acc", "gap", "95%", "interval",
                                  "beyond", "noise", "grad", "cosine", "max", "|dg|"]  # fmt: skip
    assert summary[1].split()[:2] == ["kl_divergence", "1"]
    assert summary[2].split()[0] == "categorical_crossentropy" and "(baseline)" in summary[2]
    assert "per epoch, kl_divergence minus categorical_crossentropy:" in summary
    assert summary[-1].startswith("At the initial weights kl_divergence and")
    assert "0.5003 nats" in summary[-1]  # H(y) of the smoothed targets
    code, compared = run(url, "experiment", "compare", job_id)
    assert code == 0 and compared.strip().splitlines() == summary
    code, compared = run(url, "experiment", "compare", job_id, "--json")
    assert json.loads(compared)["baseline"] == "categorical_crossentropy"
    code, shown = run(url, "experiment", "show", job_id)
    rows = {line[:40].strip(): line[40:].strip() for line in shown.splitlines()}
    assert code == 0 and rows["status"] == "succeeded" and rows["CE - KL = H(labels)"] == "yes"
    assert rows["kl_divergence epochs"] == "2"
    code, listing = run(url, "experiment", "list", "--json")
    assert job_id in {j["id"] for j in json.loads(listing)["items"]}
    code, _ = run(url, "experiment", "plot", job_id, "-o", str(tmp_path / "c.svg"))
    assert (tmp_path / "c.svg").read_text().startswith("<svg")


def test_console_scripts_are_installed() -> None:
    """The client's `divergence` calls the service; the server's `divergence-service` runs
    it (serve, worker): the client has no command that needs the server's code."""
    bin_dir = Path(sys.executable).parent
    done = subprocess.run([str(bin_dir / "divergence"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for command in ("kl", "experiment", "drift", "matrix"):
        assert command in done.stdout
    commands = done.stdout[done.stdout.index("{") + 1 : done.stdout.index("}")].split(",")
    assert "serve" not in commands and "worker" not in commands
    service = subprocess.run(
        [str(bin_dir / "divergence-service"), "--help"], capture_output=True, text=True
    )
    assert service.returncode == 0
    for command in ("serve", "worker"):
        assert command in service.stdout
