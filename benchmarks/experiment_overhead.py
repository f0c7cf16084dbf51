"""The service's overhead on the article's experiment (``make bench-experiment``).

At the article's sizes (40,000 training images of CIFAR shape, batch 250, validation split
0.2, 3 epochs, 10,000 test images; the synthetic data set, so it runs offline) this trains the
article's ConvNet twice in one run:

1. as the plain Keras script: generate the data, build, fit, predict on the test set;
2. through the service: a real API process and worker process, submit over HTTP, poll until
   the job succeeds.

It prints seconds per epoch for both, the end-to-end seconds, and their ratio; the target is
an overhead under 5% (ratio < 1.05). The worker loads TensorFlow when it starts, before the
job, just as the plain script's process has already imported keras before its clock starts.
"""

from __future__ import annotations

import argparse
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def through_service(config: dict[str, object]) -> tuple[float, list[float]]:
    """Submit over HTTP to a real API and worker; returns submit-to-done and epoch seconds."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    port = _free_port()
    env = {
        **os.environ,
        "DIVERGENCE_DATA_DIR": str(tmp / "data"),
        "DIVERGENCE_KERAS_HOME": str(tmp / "keras"),
        "DIVERGENCE_PORT": str(port),
        "DIVERGENCE_EMBEDDED_WORKER": "false",
        "DIVERGENCE_LOG_LEVEL": "info",  # the worker logs "ready" once TensorFlow is loaded
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
        started = time.perf_counter()
        job = http.post("/v1/experiments", json=config).json()
        while job["status"] not in ("succeeded", "failed", "cancelled"):
            time.sleep(0.1)
            job = http.get(f"/v1/experiments/{job['id']}").json()
        total = time.perf_counter() - started
        if job["status"] != "succeeded":
            raise RuntimeError(f"the job ended {job['status']}: {job['error']}")
        return total, [e["seconds"] for e in job["runs"][0]["history"]]
    finally:
        http.close()
        for proc in (worker, api):
            proc.terminate()
            proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-samples", type=int, default=40000)
    parser.add_argument("--write", type=Path, help="also save the table to this file")
    args = parser.parse_args()
    config = {**CONFIG, "epochs": args.epochs, "train_samples": args.train_samples}
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    service_total, service_epochs = through_service(config)
    plain_total, plain_epochs = plain_keras(config)
    ratio = service_total / plain_total
    epoch_ratio = sum(service_epochs) / sum(plain_epochs)

    def row(name: str, total: float, epochs: list[float]) -> str:
        per_epoch = sum(epochs) / len(epochs)
        listed = " ".join(f"{s:.2f}" for s in epochs)
        return f"{name:<16} {total:>10.2f}s {per_epoch:>8.2f}  {listed}"

    lines = [
        f"article sizes: {config['train_samples']} training images, batch {config['batch_size']}, "
        f"{config['epochs']} epochs, validation split {config['validation_split']}",
        f"{'':<16} {'end to end':>11} {'s/epoch':>8}  epochs",
        row("plain keras", plain_total, plain_epochs),
        row("service", service_total, service_epochs),
        f"ratio service/plain: end to end {ratio:.3f}, training epochs {epoch_ratio:.3f} "
        f"(target < 1.05: {'met' if ratio < 1.05 else 'MISSED'})",
    ]
    print("\n".join(lines))
    if args.write:
        args.write.write_text("\n".join(lines) + "\n")
    return 0 if ratio < 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
