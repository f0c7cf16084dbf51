"""Run one job: claim its row, heartbeat while training, write every epoch, finish the row."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.jobs.models import ACTIVE, EpochRow, JobStatus
from app.jobs.store import JobStore
from app.schemas.experiments import ExperimentConfig
from app.worker.checkpoints import Checkpoint, fingerprint
from app.worker.datasets import DatasetUnavailableError
from app.worker.experiment import EpochMetrics, run_experiment

__all__ = ["JobReporter", "execute"]

log = logging.getLogger("app.worker")


class JobReporter:
    """The experiment's window on its job row: progress out, cancellation in.

    A heartbeat thread writes the latest progress every ``interval`` seconds and reads the
    row's status back; a status of ``cancelling`` (or the row no longer being this worker's)
    makes :meth:`cancelled` true, which stops training at the next batch.
    """

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        worker: str,
        runs: int,
        epochs: int,
        interval: float,
        shutdown: threading.Event | None = None,
    ) -> None:
        self.store, self.job_id, self.worker, self.interval = store, job_id, worker, interval
        self._cancel = threading.Event()
        self.shutdown = shutdown or threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.progress: dict[str, Any] = {
            "loss": None,
            "seed": None,
            "run": 0,
            "runs": runs,
            "epoch": 0,
            "epochs": epochs,
            "fraction": 0.0,
        }
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> JobReporter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                status = self.store.heartbeat(self.job_id, self.worker, self.snapshot())
            except Exception as exc:  # a database blip must not kill the job; try next beat
                log.warning(
                    "heartbeat for job %s failed: %s: %s",
                    self.job_id,
                    type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "",
                )
                continue
            if status not in ACTIVE or status == JobStatus.CANCELLING:
                self._cancel.set()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self.progress)

    def cancelled(self) -> bool:
        """Stop at the next batch: the job was cancelled, or this worker is shutting down."""
        return self._cancel.is_set() or self.shutdown.is_set()

    def batch_done(self, fraction: float, loss: str, run: int, epoch: int, seed: int) -> None:
        with self._lock:
            self.progress.update(loss=loss, seed=seed, run=run + 1, epoch=epoch, fraction=fraction)

    def epoch_done(self, metrics: EpochMetrics, fraction: float) -> None:
        with self._lock:
            self.progress.update(
                loss=metrics.loss_name, seed=metrics.seed, epoch=metrics.epoch, fraction=fraction
            )
            progress = dict(self.progress)
        row = EpochRow(
            job_id=self.job_id,
            loss=metrics.run,
            epoch=metrics.epoch,
            loss_value=metrics.loss_value,
            accuracy=metrics.accuracy,
            val_loss=metrics.val_loss,
            val_accuracy=metrics.val_accuracy,
            seconds=metrics.seconds,
        )
        self.store.record_epoch(self.job_id, row, progress, worker=self.worker)


def execute(
    store: JobStore,
    job_id: str,
    worker: str,
    keras_home: Path,
    interval: float,
    shutdown: threading.Event | None = None,
    requeue: Callable[[str], None] | None = None,
    data_dirs: Sequence[Path] | None = None,
    checkpoints: Path | None = None,
    progress_interval: float = 1.0,
) -> None:
    """Run job ``job_id`` if it is still queued; every outcome ends in its row.

    When ``shutdown`` is set (SIGTERM) the job stops at the next batch and goes back to the
    queue through ``requeue`` instead of ending: a worker's shutdown never loses a job.
    With ``checkpoints`` (a folder every worker reads) the job saves every finished epoch in
    ``checkpoints/<job id>`` and a requeued job resumes there; the folder goes when the job
    ends. Progress within an epoch reaches the row's snapshot at most once every
    ``progress_interval`` seconds (the heartbeat writes it).
    """
    shutdown = shutdown or threading.Event()
    if shutdown.is_set():  # taken off the queue as the worker stops: put it back
        if requeue is not None:
            requeue(job_id)
        return
    job = store.claim(job_id, worker)
    if job is None:
        log.info("job %s is not queued any more; skipped", job_id)
        return
    config = job.config
    log.info("job %s: running (attempt %d)", job_id, job.attempts)
    runs = len(ExperimentConfig.model_validate(config).run_plan())
    reporter = JobReporter(store, job_id, worker, runs, int(config["epochs"]), interval, shutdown)
    checkpoint = None
    if checkpoints is not None:
        checkpoint = Checkpoint(checkpoints / job_id, fingerprint(config))
        checkpoint.load()
    # the epochs an earlier attempt recorded stay only where the checkpoint can go on from
    # them (they are written again, identical, as the run takes them up)
    try:
        store.keep_epochs(job_id, {} if checkpoint is None else checkpoint.epochs())
    except Exception:
        log.exception("job %s: its epochs could not be trimmed; back to the queue", job_id)
        try:
            released = store.release(job_id, worker)
        except Exception:  # the database is away: the reaper requeues the job later
            released = False
        if released and requeue is not None:
            requeue(job_id)
        return
    with reporter:
        try:
            outcome = run_experiment(
                config, keras_home, reporter, data_dirs, checkpoint, progress_interval
            )
        except DatasetUnavailableError as exc:
            if store.finish(job_id, worker, JobStatus.FAILED, None, error=str(exc)):
                _forget(checkpoint)
            log.warning("job %s failed: %s", job_id, exc)
            return
        except Exception as exc:
            log.exception("job %s failed", job_id)
            error = f"{type(exc).__name__}: {exc}"
            if store.finish(job_id, worker, JobStatus.FAILED, None, error=error):
                _forget(checkpoint)
            return
    if (
        shutdown.is_set()
        and outcome.status == JobStatus.CANCELLED
        and store.release(job_id, worker)
    ):
        log.info("job %s: requeued, this worker is shutting down", job_id)
        if requeue is not None:
            requeue(job_id)
        return
    progress = reporter.snapshot()
    if outcome.status == JobStatus.SUCCEEDED:
        progress["fraction"] = 1.0
    if store.finish(job_id, worker, outcome.status, outcome.result, progress=progress):
        _forget(checkpoint)  # only the job's owner: another worker may be resuming from it
    else:
        log.warning("job %s was taken from this worker before it finished", job_id)
    log.info("job %s: %s", job_id, outcome.status)


def _forget(checkpoint: Checkpoint | None) -> None:
    """The job is over: its checkpoint will not be read again."""
    if checkpoint is not None:
        checkpoint.remove()
