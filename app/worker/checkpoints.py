"""A job's checkpoint: where its runs stand, so that a requeued job resumes, not restarts.

One folder per job under the data directory (``checkpoints/<job id>``), which every worker
of a deployment reads (a shared volume in scale-out). After every finished epoch the run in
progress saves its weights and its optimizer's state (Adam's moments and step count, in one
Keras ``.weights.h5`` file) under a new name, then ``state.json`` is replaced in one step
(write, then rename) to point at them; so a worker killed at any moment leaves either the
old state or the new one, never half of one. A finished run's results and history stay in
``state.json`` for the rest of the job.

A checkpoint belongs to one configuration (a hash of it): another one's is ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Checkpoint", "RunState", "fingerprint"]

log = logging.getLogger("app.worker")

STATE = "state.json"


def fingerprint(config: dict[str, Any]) -> str:
    """A hash of the configuration a checkpoint belongs to."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class RunState:
    """One run's place: its finished epochs' metrics and, when it is done, its result."""

    history: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None  # set once the run has been tested
    files: str | None = None  # stem of the weights file of its last epoch
    resumed_after: list[int] = field(default_factory=list)


class Checkpoint:
    """The checkpoint of one job in ``folder``; ``load`` reads what an earlier attempt left."""

    def __init__(self, folder: Path, config_hash: str) -> None:
        self.folder, self.config_hash = folder, config_hash
        self.runs: dict[str, RunState] = {}

    def load(self) -> None:
        """Read ``state.json`` if it is this configuration's; otherwise start empty."""
        try:
            state = json.loads((self.folder / STATE).read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("checkpoint %s unreadable (%s); starting afresh", self.folder, exc)
            return
        if state.get("config") != self.config_hash:
            log.warning("checkpoint %s is another configuration's; starting afresh", self.folder)
            return
        self.runs = {key: RunState(**run) for key, run in state["runs"].items()}

    def epochs(self) -> dict[str, set[int]]:
        """Run key -> the epochs saved for it."""
        return {key: {int(m["epoch"]) for m in run.history} for key, run in self.runs.items()}

    def run(self, key: str) -> RunState:
        return self.runs.setdefault(key, RunState())

    def save_epoch(self, key: str, model: Any, metrics: dict[str, Any]) -> None:
        """Record a finished epoch of run ``key`` with the model's weights and optimizer."""
        run = self.run(key)
        stem = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}-epoch{metrics['epoch']}"
        self.folder.mkdir(parents=True, exist_ok=True)
        model.save_weights(self.folder / f"{stem}.weights.h5")  # the optimizer's state too
        old = run.files
        run.history.append(metrics)
        run.files = stem
        self._write()
        if old is not None:
            self._remove(old)

    def finish_run(self, key: str, result: dict[str, Any]) -> None:
        """Record run ``key``'s result; its weights are not needed any more."""
        run = self.run(key)
        old, run.files, run.result = run.files, None, result
        self._write()
        if old is not None:
            self._remove(old)

    def restore(self, key: str, model: Any) -> bool:
        """Put run ``key``'s last saved weights and optimizer state into ``model`` (built and
        compiled as the run was); False when there are none."""
        run = self.runs.get(key)
        if run is None or run.files is None:
            return False
        model.optimizer.build(model.trainable_variables)  # so that its state is loaded too
        model.load_weights(self.folder / f"{run.files}.weights.h5")
        return True

    def remove(self) -> None:
        """Delete the whole checkpoint (the job is over)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write(self) -> None:
        state = {"config": self.config_hash, "runs": {k: asdict(r) for k, r in self.runs.items()}}
        temporary = self.folder / f"{STATE}.tmp"
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.folder / STATE)

    def _remove(self, stem: str) -> None:
        (self.folder / f"{stem}.weights.h5").unlink(missing_ok=True)
