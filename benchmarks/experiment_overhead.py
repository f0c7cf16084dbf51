"""The service's overhead on the article's experiment (``make bench-experiment``).

At the article's sizes (40,000 training images of CIFAR shape, batch 250, validation split
0.2, 3 epochs, 10,000 test images; the synthetic data set, so it runs offline) this trains the
article's ConvNet twice in one run:

1. as the plain Keras script: generate the data, build, fit, predict on the test set;
2. through the service: a real API process and worker process, submit over HTTP, poll until
   the job succeeds.

Both run once per Keras backend installed here (TensorFlow, JAX, torch; ``--backends`` picks),
the plain script in a process of its own with ``KERAS_BACKEND`` set, the service's worker with
``DIVERGENCE_KERAS_BACKEND``. Each runs ``--rounds`` times (3), in alternating order, and
the run of median end-to-end time counts. It prints, per backend, seconds per epoch for both,
the end-to-end seconds, and their ratio; the target is an overhead under 5% (ratio < 1.05) on
every backend. The worker loads its backend when it starts, before the job, just as the plain
script's process has already imported keras before its clock starts.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "dataset": "synthetic",
    "losses": ["categorical_crossentropy"],
    "epochs": 3,
    "batch_size": 250,
    "validation_split": 0.2,
    "seed": 0,
    "train_samples": 40000,
    "test_samples": 10000,
}


def plain_keras(config: dict[str, object]) -> tuple[float, list[float]]:
    """The article's script, on the same synthetic data; returns total and epoch seconds."""
    import keras
    import numpy as np

    from app.worker.datasets import synthetic

    epoch_seconds: list[float] = []

    class EpochTimer(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            epoch_seconds.append(time.perf_counter() - self.started)

    started = time.perf_counter()
    (x, y), (xt, _yt) = synthetic(
        int(config["train_samples"]),  # type: ignore[call-overload]
        int(config["test_samples"]),  # type: ignore[call-overload]
        int(config["seed"]),  # type: ignore[call-overload]
    )
    x, xt = x.astype(np.float32) / 255.0, xt.astype(np.float32) / 255.0
    keras.utils.set_random_seed(int(config["seed"]))  # type: ignore[call-overload]
    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Dropout(0.5),
            keras.layers.Conv2D(64, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Dropout(0.5),
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        x,
        keras.utils.to_categorical(y, 10),
        batch_size=int(config["batch_size"]),  # type: ignore[call-overload]
        epochs=int(config["epochs"]),  # type: ignore[call-overload]
        validation_split=float(config["validation_split"]),  # type: ignore[arg-type]
        callbacks=[EpochTimer()],
        verbose=0,
    )
    model.predict(xt, batch_size=int(config["batch_size"]), verbose=0)  # type: ignore[call-overload]
    return time.perf_counter() - started, epoch_seconds


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain_in_process(config: dict[str, object], backend: str) -> tuple[float, list[float]]:
    """:func:`plain_keras` in a process of its own whose Keras runs on ``backend``."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, __file__, "--plain", json.dumps(config)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    total, epochs = json.loads(out.strip().splitlines()[-1])
    return float(total), [float(s) for s in epochs]


def available_backends() -> list[str]:
    return [name for name in ("tensorflow", "jax", "torch") if importlib.util.find_spec(name)]


def through_service(config: dict[str, object], backend: str) -> tuple[float, list[float]]:
    """Submit over HTTP to a real API and worker; returns submit-to-done and epoch seconds."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    port = _free_port()
    env = {
        **os.environ,
        "DIVERGENCE_DATA_DIR": str(tmp / "data"),
        "DIVERGENCE_KERAS_HOME": str(tmp / "keras"),
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_EMBEDDED_WORKER": "false",
        "DIVERGENCE_KERAS_BACKEND": backend,
        "DIVERGENCE_LOG_LEVEL": "info",  # the worker logs "ready" once its backend is loaded
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    log = (tmp / "services.log").open("wb")
    api = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=log, stderr=log)
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.worker"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 120
        while True:  # the API answers, and the worker has loaded TensorFlow
            try:
                if (
                    http.get("/healthz").status_code == 200
                    and "ready" in (tmp / "services.log").read_text()
                ):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError((tmp / "services.log").read_text()[-3000:])
            time.sleep(0.2)
        api_cpu = _cpu_seconds(api.pid)
        started = time.perf_counter()
        job = http.post("/v1/experiments", json=config).json()
        epochs = int(config["epochs"])  # type: ignore[call-overload]
        while job["status"] not in ("succeeded", "failed", "cancelled"):
            # as a client would: now and then while it trains, then often near the end (the
            # API's work per look would otherwise take CPU from the training)
            trained = sum(len(run["history"]) for run in job["runs"])
            time.sleep(0.05 if trained >= epochs else 1.0)
            job = http.get(f"/v1/experiments/{job['id']}").json()
        total = time.perf_counter() - started
        print(
            f"  ({backend}: the API process used {_cpu_seconds(api.pid) - api_cpu:.2f} s of CPU "
            f"during the job)",
            flush=True,
        )
        if job["status"] != "succeeded":
            raise RuntimeError(f"the job ended {job['status']}: {job['error']}")
        return total, [e["seconds"] for e in job["runs"][0]["history"]]
    finally:
        http.close()
        for proc in (worker, api):
            proc.terminate()
            proc.wait(timeout=30)


def _median_run(runs: list[tuple[float, list[float]]]) -> tuple[float, list[float]]:
    """The run of median end-to-end time."""
    return sorted(runs, key=lambda run: run[0])[len(runs) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-samples", type=int, default=40000)
    parser.add_argument(
        "--backends", help="comma-separated Keras backends (default: every one installed)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each, in alternating order (medians)"
    )
    parser.add_argument("--write", type=Path, help="also save the table to this file")
    parser.add_argument("--plain", help=argparse.SUPPRESS)  # the plain script's own process
    args = parser.parse_args()
    if args.plain:
        print(json.dumps(plain_keras(json.loads(args.plain))))
        return 0
    config = {**CONFIG, "epochs": args.epochs, "train_samples": args.train_samples}
    backends = args.backends.split(",") if args.backends else available_backends()

    def row(name: str, total: float, epochs: list[float]) -> str:
        per_epoch = sum(epochs) / len(epochs)
        listed = " ".join(f"{s:.2f}" for s in epochs)
        return f"{name:<22} {total:>10.2f}s {per_epoch:>8.2f}  {listed}"

    lines = [
        f"article sizes: {config['train_samples']} training images, batch {config['batch_size']}, "
        f"{config['epochs']} epochs, validation split {config['validation_split']}; "
        f"medians of {args.rounds} runs each, alternating",
        f"{'':<22} {'end to end':>11} {'s/epoch':>8}  epochs",
    ]
    print("\n".join(lines), flush=True)
    missed = 0
    for backend in backends:
        runs: dict[str, list[tuple[float, list[float]]]] = {"service": [], "plain": []}
        for r in range(args.rounds):  # alternating which goes first
            for name in ("service", "plain") if r % 2 == 0 else ("plain", "service"):
                run = through_service if name == "service" else plain_in_process
                runs[name].append(run(config, backend))
        service_total, service_epochs = _median_run(runs["service"])
        plain_total, plain_epochs = _median_run(runs["plain"])
        ratio = service_total / plain_total
        epoch_ratio = sum(service_epochs) / sum(plain_epochs)
        missed += ratio >= 1.05
        rows = [
            row(f"{backend}: plain keras", plain_total, plain_epochs),
            row(f"{backend}: service", service_total, service_epochs),
            f"{backend}: ratio service/plain: end to end {ratio:.3f}, training epochs "
            f"{epoch_ratio:.3f} (target < 1.05: {'met' if ratio < 1.05 else 'MISSED'})",
        ]
        print("\n".join(rows), flush=True)
        lines += rows
    if args.write:
        args.write.write_text("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
