"""The Keras backend is a setting: the worker sets KERAS_BACKEND from it, and a backend whose
package is not installed is a configuration error (one line, exit status 2, no traceback),
not a worker that dies in a loop of tracebacks."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _worker(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.worker"],
        cwd=ROOT,
        env={**os.environ, "DIVERGENCE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_default_is_tensorflow() -> None:
    assert Settings().keras_backend == "tensorflow"


def test_an_uninstalled_backend_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.worker import __main__ as worker

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a)
    )
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    with pytest.raises(SystemExit) as exit:
        worker._use_backend("jax")
    assert exit.value.code == 2 and "KERAS_BACKEND" not in os.environ
    assert capsys.readouterr().err.strip() == (
        "configuration error: DIVERGENCE_KERAS_BACKEND='jax': the jax package is not "
        "installed in this worker's environment (install it, or use tensorflow)"
    )
    worker._use_backend("tensorflow")
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


def test_an_unknown_backend_is_refused_by_the_settings(tmp_path: Path) -> None:
    done = _worker(tmp_path, DIVERGENCE_KERAS_BACKEND="theano")
    assert done.returncode == 2
    assert "configuration error: DIVERGENCE_KERAS_BACKEND='theano'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_without_the_backend_exits_at_once(tmp_path: Path) -> None:
    """A real worker process: a backend package that cannot be imported here (torch and jax
    are not in this environment; where one is, the other is tried) ends it with status 2."""
    missing = next(b for b in ("torch", "jax") if importlib.util.find_spec(b) is None)
    done = _worker(tmp_path, DIVERGENCE_KERAS_BACKEND=missing)
    assert done.returncode == 2
    assert done.stderr.startswith(f"configuration error: DIVERGENCE_KERAS_BACKEND='{missing}'")
    assert "Traceback" not in done.stderr
