"""``divergence``: run the service, and call it from the shell.

::

    divergence serve                       # the API and one worker (what `make run` runs)
    divergence worker                      # one worker
    divergence kl p.json q.json --unit bits
    divergence hellinger p.json q.json       # every measure of the registry is a command
    echo '[0.5, 0.5]' | divergence entropy - --unit bits
    divergence experiment run --dataset synthetic --epochs 3 --watch
    divergence experiment show ID
    divergence experiment list | cancel ID | plot ID -o curves.svg

Distributions are JSON files (an array, a label map, or an array of rows) or ``-`` for
standard input. Results print as tables for people, or as the API's JSON with ``--json``.
The service is ``--url`` or ``$DIVERGENCE_URL`` (default http://127.0.0.1:8000); a key, where
the service wants one, is ``--api-key`` or ``$DIVERGENCE_API_KEY``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, get_args

import httpx
from pydantic import BaseModel

from app.client import DivergenceClient, DivergenceError
from app.measures import MEASURES as REGISTRY
from app.measures import Measure
from app.schemas.common import Unit
from app.schemas.experiments import JobStatus

__all__ = ["main", "main_exit"]

# one command per entry of the measure registry
MEASURES: dict[str, Measure] = {measure.command: measure for measure in REGISTRY}


def _number(text: str) -> float:
    """A number option; inf, Infinity allowed (Rényi's alpha)."""
    return math.inf if text.strip() in ("inf", "Infinity") else float(text)


def _numbers(text: str) -> list[float]:
    return [_number(item) for item in text.split(",")]


def _names(text: str) -> list[str]:
    return [item.strip() for item in text.split(",")]


_PARAMETER_TYPES: dict[str, Callable[[str], Any]] = {
    "number": _number,
    "numbers": _numbers,
    "names": _names,
}


def _read(source: str, stdin: TextIO) -> Any:
    text = stdin.read() if source == "-" else Path(source).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"divergence: {source}: not JSON ({exc})") from None


def _table(rows: list[tuple[str, Any]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {_cell(v)}" for k, v in rows)


def _cell(value: Any) -> str:
    if isinstance(value, bool):  # before numbers: a bool is an int
        return "yes" if value else "no"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def _print(result: BaseModel, as_json: bool, rows: list[tuple[str, Any]], out: TextIO) -> None:
    if as_json:
        out.write(result.model_dump_json(indent=2) + "\n")
    else:
        out.write(_table(rows) + "\n")


def _measure(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    measure = MEASURES[args.command]
    if [args.p, args.q].count("-") > 1:
        raise SystemExit("divergence: only one of p and q can come from standard input")
    values = [_read(src, sys.stdin) for src in [args.p, args.q][: measure.arity]]
    options = {"normalize": args.normalize or None}
    if measure.has_unit:
        options["unit"] = args.unit
    for parameter in measure.parameters:
        options[parameter.name] = getattr(args, parameter.name)
    result = getattr(client, measure.name)(*values, **options)
    data = result.model_dump(mode="json")
    if isinstance(data["value"], dict):  # several measures in one answer (compare)
        rows = list(data["value"].items())
    else:
        rows = [(k, v) for k, v in data.items() if k not in ("smoothing",) and v is not None]
    _print(result, args.json, rows, out)
    return 0


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
    return 0 if status == JobStatus.SUCCEEDED else 1


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


def _experiment(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    action = args.action
    if action == "run":
        config = {
            "dataset": args.dataset, "losses": args.losses, "epochs": args.epochs,
            "batch_size": args.batch_size, "validation_split": args.validation_split,
            "seed": args.seed, "train_samples": args.train_samples,
            "test_samples": args.test_samples,
        }  # fmt: skip
        job = client.submit_experiment(**config)
        if not args.watch:
            _print(job, args.json, _show_rows(job), out)
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
        _print(job, args.json, _show_rows(job), out)
        return 0
    if action == "cancel":
        job = client.cancel_experiment(args.id)
        _print(job, args.json, [("id", job.id), ("status", job.status)], out)
        return 0
    if action == "watch":
        return _watch(client, args.id, out)
    assert action == "plot"
    svg = client.experiment_plot(args.id)
    if args.output == "-":
        out.write(svg)
    else:
        Path(args.output).write_text(svg)
    return 0


def _parser() -> argparse.ArgumentParser:
    # --url and --json are accepted before or after the command
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help="the service's base URL")
    common.add_argument(
        "--api-key", default=argparse.SUPPRESS, help="an API key (default: $DIVERGENCE_API_KEY)"
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON"
    )
    parser = argparse.ArgumentParser(
        prog="divergence", description=__doc__.split("\n\n")[0], parents=[common]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API (and one worker)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-worker", action="store_true", help="the API alone")
    sub.add_parser("worker", help="run one worker")
    for name, measure in MEASURES.items():
        arguments = "p" if measure.arity == 1 else "p and q"
        cmd = sub.add_parser(
            name,
            help=f"{measure.title} of {arguments}",
            description=f"{measure.summary} {measure.formula}, in {measure.bounds}.",
            parents=[common],
        )
        cmd.add_argument("p", help="JSON file, or - for standard input")
        if measure.arity == 2:
            cmd.add_argument("q", help="JSON file, or - for standard input")
        cmd.set_defaults(q=None)
        if measure.has_unit:
            cmd.add_argument("--unit", choices=list(get_args(Unit)), default="nats")
        cmd.add_argument("--normalize", action="store_true")
        for parameter in measure.parameters:
            cmd.add_argument(
                f"--{parameter.name}",
                type=_PARAMETER_TYPES[parameter.kind],
                required=parameter.required,
                help=parameter.help + ("" if parameter.kind == "number" else ", comma-separated"),
            )
    experiment = sub.add_parser("experiment", help="loss-comparison experiments", parents=[common])
    actions = experiment.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="submit an experiment", parents=[common])
    run.add_argument("--dataset", default="synthetic")
    run.add_argument("--losses", nargs="+", default=["kl_divergence", "categorical_crossentropy"])
    run.add_argument("--epochs", type=int, default=3)
    run.add_argument("--batch-size", type=int, default=250)
    run.add_argument("--validation-split", type=float, default=0.2)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--train-samples", type=int)
    run.add_argument("--test-samples", type=int)
    run.add_argument("--watch", action="store_true", help="follow it with a progress bar")
    for name in ("show", "cancel", "watch", "plot"):
        cmd = actions.add_parser(name, parents=[common])
        cmd.add_argument("id")
        if name == "plot":
            cmd.add_argument("-o", "--output", default="-", help="file for the SVG (- = stdout)")
    listing = actions.add_parser("list", parents=[common])
    listing.add_argument("--status")
    listing.add_argument("--limit", type=int, default=20)
    return parser


def _serve(args: argparse.Namespace) -> int:
    if args.host:
        os.environ["DIVERGENCE_HOST"] = args.host
    if args.port:
        os.environ["DIVERGENCE_PORT"] = str(args.port)
    if args.no_worker:
        os.environ["DIVERGENCE_EMBEDDED_WORKER"] = "false"
    from app.__main__ import main as serve

    serve()
    return 0


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    # not set_defaults: the shared --url/--json actions would pass the default to subparsers
    args.url = getattr(args, "url", None) or os.environ.get(
        "DIVERGENCE_URL", "http://127.0.0.1:8000"
    )
    args.json = getattr(args, "json", False)
    args.api_key = getattr(args, "api_key", None) or os.environ.get("DIVERGENCE_API_KEY")
    out = out or sys.stdout
    if args.command == "serve":
        return _serve(args)
    if args.command == "worker":
        from app.worker.__main__ import main as work

        work()
        return 0
    with DivergenceClient(args.url, api_key=args.api_key) as client:
        try:
            if args.command == "experiment":
                return _experiment(args, client, out)
            return _measure(args, client, out)
        except DivergenceError as exc:
            sys.stderr.write(f"divergence: {exc}\n")
            for error in exc.errors:
                sys.stderr.write(f"  {error['loc']}: {error['msg']}\n")
            return 1
        except (OSError, httpx.TransportError) as exc:  # no service there, or it went away
            sys.stderr.write(f"divergence: {args.url}: {exc}\n")
            return 2


def main_exit() -> None:
    """The console script's entry point."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
