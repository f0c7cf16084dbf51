"""Play the worker's part on a job store: claim a job, record its epochs, finish it."""

from __future__ import annotations

from typing import Any

from app.jobs.models import EpochRow
from app.jobs.store import JobStore

CONFIG: dict[str, Any] = {
    "dataset": "synthetic",
    "losses": ["kl_divergence", "categorical_crossentropy"],
    "epochs": 2,
    "batch_size": 50,
    "train_samples": 100,
    "test_samples": 20,
    "seed": 1,
    "validation_split": 0.2,
}
WORKER = "test-host:1"


def run_epochs(store: JobStore, job_id: str, epochs: list[tuple[str, int]]) -> None:
    """Record finished epochs of a running job as its worker would (loss value 1/epoch)."""
    for loss, epoch in epochs:
        row = EpochRow(
            job_id=job_id, loss=loss, epoch=epoch, loss_value=1.0 / epoch, accuracy=0.1 * epoch,
            val_loss=None, val_accuracy=None, seconds=0.5,
        )  # fmt: skip
        store.record_epoch(job_id, row, {"loss": loss, "epoch": epoch})


def finished_job(
    store: JobStore,
    epochs: list[tuple[str, int]],
    owner: str | None = None,
    status: str = "succeeded",
) -> str:
    """A job that ran ``epochs`` and ended with ``status``; its id."""
    job = store.create(CONFIG, owner=owner)
    assert store.claim(job.id, WORKER) is not None
    run_epochs(store, job.id, epochs)
    assert store.finish(job.id, WORKER, status, {"runs": {}})
    return job.id


ALL_EPOCHS = [
    ("kl_divergence", 1), ("kl_divergence", 2),
    ("categorical_crossentropy", 1), ("categorical_crossentropy", 2),
]  # fmt: skip
