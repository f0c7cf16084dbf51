"""The CLI's answer when no service answers: a line naming the URL, exit status 2."""

from __future__ import annotations

import io

import pytest

from divergence_client.cli import main
from tests.e2e.services import free_port


@pytest.mark.parametrize(
    "command", [["experiment", "watch", "some-id"], ["experiment", "show", "x"]]
)
def test_no_service_exits_2_naming_the_url(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["--url", url, *command], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"divergence: {url}: ") and "Traceback" not in err
