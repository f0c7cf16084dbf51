"""The client is its own package (./client, divergence-client, import name divergence_client):
it installs and works without anything of the server, the server shares its wire models and
vocabularies instead of defining them again, and the version is written once."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import get_args

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from app import catalog
from app.infotheory import histograms, matrix, parametric, stability, units
from app.main import VERSION
from divergence_client import __version__
from divergence_client.models.common import UNITS
from divergence_client.models.experiments import DATASET_NAMES
from divergence_client.models.matrix import MATRIX_MEASURE_NAMES
from divergence_client.models.measures import PsiBand
from divergence_client.models.parametric import Method
from divergence_client.models.samples import SAMPLE_MEASURES
from tests.e2e.services import ROOT, Services

CLIENT = ROOT / "client"
# what the server has and the client must not need
SERVER_ONLY = ("app", "numpy", "scipy", "fastapi", "starlette", "sqlalchemy", "uvicorn")


# -- one vocabulary: the client names, the server's registries agree -------------------------


def test_the_server_registries_are_the_client_vocabularies() -> None:
    assert UNITS == units.UNITS and set(units.NATS_PER_UNIT) == set(UNITS)
    assert tuple(catalog.DATASETS) == DATASET_NAMES
    assert all(name == spec.name for name, spec in catalog.DATASETS.items())
    assert tuple(matrix.MATRIX_MEASURES) == MATRIX_MEASURE_NAMES
    assert tuple(histograms.HISTOGRAM_MEASURES) == SAMPLE_MEASURES
    assert tuple(band for _, band in stability.PSI_BANDS) == get_args(PsiBand)
    assert get_args(parametric.Method) == get_args(Method)


# -- one version ------------------------------------------------------------------------------


def test_the_version_is_written_once() -> None:
    written = (CLIENT / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", written)
    assert metadata.version("divergence-client") == metadata.version("divergence-service")
    assert metadata.version("divergence-client") == written == __version__ == VERSION
    for project in (ROOT, CLIENT):  # both read the file; neither writes a version of its own
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())
        assert "version" not in pyproject["project"]
        assert pyproject["project"]["dynamic"] == ["version"]
        version_file = pyproject["tool"]["setuptools"]["dynamic"]["version"]["file"]
        assert (project / version_file).resolve() == (CLIENT / "VERSION").resolve()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():  # the images are tagged with it
        if "build" in service:
            assert service["image"].endswith(f":{written}"), name


def test_the_client_declares_only_what_it_needs() -> None:
    required = {
        canonicalize_name(Requirement(text).name)
        for text in metadata.requires("divergence-client") or []
        if Requirement(text).marker is None
    }
    assert required == {"httpx", "pydantic", "httpx-sse"}
    server = {Requirement(text).name for text in metadata.requires("divergence-service") or []}
    assert "divergence-client" in server


# -- a fresh environment with the client alone ------------------------------------------------


def _closure(name: str) -> list[metadata.Distribution]:
    """The installed distributions ``name`` needs, itself excluded: its requirements and
    theirs, without extras and requirements whose markers do not hold here."""
    found: dict[str, metadata.Distribution] = {}
    todo = [
        Requirement(text) for text in metadata.requires(name) or [] if _applies(Requirement(text))
    ]
    while todo:
        requirement = todo.pop()
        key = canonicalize_name(requirement.name)
        if key in found:
            continue
        found[key] = dist = metadata.distribution(requirement.name)
        todo += [r for r in map(Requirement, dist.requires or []) if _applies(r)]
    return list(found.values())


def _applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate({"extra": ""})


def _link_closure(site_packages: Path) -> list[str]:
    """Link the client's dependency closure, as installed here, into ``site_packages``: each
    distribution's top-level packages and modules and its metadata. Returns the names."""
    linked: list[str] = []
    for dist in _closure("divergence-client"):
        tops = {file.parts[0] for file in dist.files or []}
        for top in sorted(tops - {"..", "__pycache__"}):
            if top.endswith(".pth"):
                continue
            (site_packages / top).symlink_to(Path(str(dist.locate_file(top))))
            linked.append(top)
    return linked


CALLS = """
import importlib.util, json, sys
import divergence_client
from divergence_client import DivergenceClient

absent = {name: importlib.util.find_spec(name) is None for name in sys.argv[2].split(",")}
with DivergenceClient(sys.argv[1]) as client:
    kl = client.kl_divergence([0.5, 0.5], [0.25, 0.75])
    rows = client.matrix([[0.5, 0.5]], [[0.25, 0.75]], measure="kl_divergence")
print(json.dumps({
    "absent": absent,
    "kl": kl.value,
    "unit": kl.unit,
    "matrix": rows.value,
    "version": divergence_client.__version__,
    "loaded": sorted({m.split(".")[0] for m in sys.modules}),
    "file": divergence_client.__file__,
}))
"""


@pytest.mark.e2e
def test_the_client_installs_and_works_without_the_server(tmp_path: Path) -> None:
    """A venv without system site packages gets the client's declared dependencies (linked
    from this environment: offline) and the client itself (its wheel, pip-installed); the
    server's packages are not importable there, and the client and its command work against
    a running service."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    linked = _link_closure(Path(site))
    assert {"httpx", "pydantic", "pydantic_core", "httpx_sse"} <= set(linked)
    assert not set(linked) & set(SERVER_ONLY)

    # the client, built from a copy of its folder (no build files in the tree) and installed
    source = tmp_path / "client"
    shutil.copytree(CLIENT, source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))  # fmt: skip
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    wheels = tmp_path / "wheels"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels),
         str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("divergence_client-*.whl")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    services = Services(tmp_path / "service")
    services.start_api()
    try:
        url = f"http://127.0.0.1:{services.port}"
        done = subprocess.run(
            [str(python), "-c", CALLS, url, ",".join(SERVER_ONLY)],
            cwd=tmp_path, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        (tmp_path / "p.json").write_text("[0.5, 0.5]")
        (tmp_path / "q.json").write_text("[0.25, 0.75]")
        command = subprocess.run(
            [str(venv / "bin" / "divergence"), "--url", url, "--json", "kl", "p.json", "q.json"],
            cwd=tmp_path, env=env, capture_output=True, text=True,
        )  # fmt: skip
        helped = subprocess.run(
            [str(venv / "bin" / "divergence"), "--help"],
            cwd=tmp_path, env=env, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        services.close()

    closed_form = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)  # D(p || q), nats
    assert answer["absent"] == dict.fromkeys(SERVER_ONLY, True)
    assert not set(answer["loaded"]) & set(SERVER_ONLY)
    assert Path(answer["file"]).is_relative_to(site)  # the installed copy, not the tree's
    assert answer["version"] == (CLIENT / "VERSION").read_text().strip()
    assert answer["unit"] == "nats" and abs(answer["kl"] - closed_form) < 1e-12
    assert abs(answer["matrix"][0][0] - closed_form) < 1e-12  # lists go as JSON: no numpy
    assert command.returncode == 0, command.stderr
    assert abs(json.loads(command.stdout)["value"] - closed_form) < 1e-12
    assert helped.returncode == 0 and "kl" in helped.stdout
