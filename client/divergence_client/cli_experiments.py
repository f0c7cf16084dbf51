"""``divergence experiment``: submit, follow, show, compare, list, cancel and plot the
loss-comparison experiments.

::

    divergence experiment run --dataset synthetic --epochs 3 --watch
    divergence experiment show ID
    divergence experiment compare ID       # every loss against the baseline, and why
    divergence experiment list | cancel ID | plot ID -o curves.svg
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from divergence_client._output import cell, show
from divergence_client._sync import DivergenceClient
from divergence_client.models.experiments import DEFAULT_LOSSES, JobStatus

__all__ = ["experiment_command", "experiment_parser"]


def experiment_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``experiment`` command and its actions."""
    experiment = sub.add_parser("experiment", help="loss-comparison experiments", parents=[common])
    actions = experiment.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="submit an experiment", parents=[common])
    run.add_argument("--dataset", default="synthetic")
    run.add_argument("--losses", nargs="+", default=list(DEFAULT_LOSSES))
    run.add_argument("--epochs", type=int, default=3)
    run.add_argument("--batch-size", type=int, default=250)
    run.add_argument("--validation-split", type=float, default=0.2)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--train-samples", type=int)
    run.add_argument("--test-samples", type=int)
    run.add_argument("--label-smoothing", type=float, default=0.0, help="soft targets")
    run.add_argument(
        "--mixup", type=float, default=0.0, help="mixup's Beta(a, a) parameter (0: off)"
    )
    run.add_argument("--repeats", type=int, help="train every loss under this many seeds")
    run.add_argument("--seeds", type=int, nargs="+", help="explicit seeds (not with --repeats)")
    run.add_argument("--baseline", help="the loss the others are compared against")
    run.add_argument("--watch", action="store_true", help="follow it with a progress bar")
    for name in ("show", "cancel", "watch", "plot", "compare"):
        cmd = actions.add_parser(name, parents=[common])
        cmd.add_argument("id")
        if name == "plot":
            cmd.add_argument("-o", "--output", default="-", help="file for the SVG (- = stdout)")
    listing = actions.add_parser("list", parents=[common])
    listing.add_argument("--status")
    listing.add_argument("--limit", type=int, default=20)


def _bar(fraction: float, width: int = 30) -> str:
    done = round(fraction * width)
    return "[" + "#" * done + "-" * (width - done) + f"] {100 * fraction:5.1f}%"


def _watch(client: DivergenceClient, job_id: str, out: TextIO) -> int:
    status = JobStatus.RUNNING
    for event in client.follow(job_id):
        if event.name == "progress":
            d = event.data
            progress = d["progress"]
            line = (
                f"{progress['loss'] or '':<26} epoch {d['epoch']}/{progress['epochs']}  "
                f"{_bar(progress['fraction'])}  loss {d['loss']:.4f}  acc {d['accuracy']:.3f}"
            )
            out.write(("\r" if out.isatty() else "") + line + ("" if out.isatty() else "\n"))
            out.flush()
        elif event.name == "end":
            status = event.data.status
            out.write(("\n" if out.isatty() else "") + f"{job_id}: {status}\n")
            if event.data.comparison is not None:
                out.write(_comparison_text(event.data.comparison))
    return 0 if status == JobStatus.SUCCEEDED else 1


def _columns(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n"
        for row in rows
    )


def _signed(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:+.{digits}f}"


def _comparison_text(comparison: Any) -> str:
    """Every loss against the baseline as a table, the per-epoch gaps, then the verdict."""
    head = ["loss", "seeds", "test acc", "gap", "95% interval", "beyond noise", "grad cosine",
            "max |dg|"]  # fmt: skip
    rows = [head]
    for pair in comparison.against_baseline:
        gap = pair.test_accuracy_gap
        interval = "-"
        if gap.interval is not None:
            interval = f"[{_signed(gap.interval[0])}, {_signed(gap.interval[1])}]"
        cosines = [c.cosine for c in pair.gradient_checks if c.cosine is not None]
        differences = [c.max_abs_difference for c in pair.gradient_checks]
        rows.append([
            pair.loss, str(len(gap.runs)), cell(comparison.test_accuracy.get(pair.loss)),
            _signed(gap.mean), interval, cell(gap.distinguishable),
            f"{min(cosines):.8f}" if cosines else "-",
            f"{max(differences):.2g}" if differences else "-",
        ])  # fmt: skip
    baseline = comparison.baseline
    rows.append([baseline, "", cell(comparison.test_accuracy.get(baseline)), "(baseline)", "",
                 "", "", ""])  # fmt: skip
    text = _columns(rows)
    for pair in comparison.against_baseline:
        text += f"\nper epoch, {pair.loss} minus {pair.baseline}:\n"
        epochs = [["epoch", "loss gap", "acc gap", "val loss gap", "val acc gap", "identity"]]
        for e in pair.per_epoch:
            epochs.append([
                str(e.epoch), _signed(e.loss_gap, 6), _signed(e.accuracy_gap),
                _signed(e.val_loss_gap, 6), _signed(e.val_accuracy_gap),
                "-" if e.identity_residual is None else f"{e.identity_residual:+.1e}",
            ])  # fmt: skip
        text += _columns(epochs)
    return text + f"\n{comparison.verdict}\n"


def _show_rows(job: Any) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("id", job.id),
        ("status", job.status),
        ("dataset", job.config.dataset),
        ("progress", f"{job.progress.loss or '-'} epoch {job.progress.epoch}/{job.progress.epochs} "
                     f"({100 * job.progress.fraction:.0f}%)"),
    ]  # fmt: skip
    for run in job.runs:
        last = run.history[-1] if run.history else None
        rows.append((f"{run.loss} epochs", len(run.history)))
        if last is not None:
            rows.append((f"{run.loss} last loss/acc", f"{last.loss:.4f} / {last.accuracy:.4f}"))
        if run.test_accuracy is not None:
            rows.append((f"{run.loss} test accuracy", run.test_accuracy))
    if job.comparison is not None:
        rows.append(("test accuracy gap (KL-CE)", job.comparison.test_accuracy_gap))
        rows.append(
            ("CE - KL = H(labels)", job.comparison.cross_entropy_minus_kl_equals_label_entropy)
        )
    if job.error:
        rows.append(("error", job.error))
    return rows


def experiment_command(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    action = args.action
    if action == "run":
        config = {
            "dataset": args.dataset, "losses": args.losses, "epochs": args.epochs,
            "batch_size": args.batch_size, "validation_split": args.validation_split,
            "seed": args.seed, "train_samples": args.train_samples,
            "test_samples": args.test_samples, "label_smoothing": args.label_smoothing,
            "mixup": args.mixup,
        }  # fmt: skip
        if args.seeds is not None:
            config["seeds"] = args.seeds
        elif args.repeats is not None:
            config["repeats"] = args.repeats
        if args.baseline is not None:
            config["baseline"] = args.baseline
        job = client.submit_experiment(**config)
        if not args.watch:
            show(job, args.json, _show_rows(job), out)
            return 0
        out.write(f"submitted {job.id}\n")
        code = _watch(client, job.id, out)
        if args.json:
            out.write(client.experiment(job.id).model_dump_json(indent=2) + "\n")
        return code
    if action == "list":
        page = client.experiments(status=args.status, limit=args.limit)
        if args.json:
            out.write(page.model_dump_json(indent=2) + "\n")
        else:
            for job in page.items:
                out.write(
                    f"{job.id}  {job.status:<10}  {job.config.dataset:<13}  {job.created_at}\n"
                )
        return 0
    if action == "show":
        job = client.experiment(args.id)
        show(job, args.json, _show_rows(job), out)
        return 0
    if action == "cancel":
        job = client.cancel_experiment(args.id)
        show(job, args.json, [("id", job.id), ("status", job.status)], out)
        return 0
    if action == "watch":
        return _watch(client, args.id, out)
    if action == "compare":
        job = client.experiment(args.id)
        if args.json:
            out.write(json.dumps(job.model_dump(mode="json")["comparison"], indent=2) + "\n")
        elif job.comparison is None:
            out.write(f"{job.id}: {job.status}; no pair of runs has finished epochs yet\n")
        else:
            out.write(_comparison_text(job.comparison))
        return 0
    assert action == "plot"
    svg = client.experiment_plot(args.id)
    if args.output == "-":
        out.write(svg)
    else:
        Path(args.output).write_text(svg)
    return 0
