"""``divergence``: call the service from the shell.

::

    divergence kl p.json q.json --unit bits
    divergence hellinger p.json q.json       # every measure of the catalogue is a command
    divergence matrix P.json Q.json --measure kl-divergence --top-k 3
    divergence parametric kl P.json Q.json   # laws by parameters: {"family": "normal", ...}
    divergence estimate entropy counts.json --method all   # and divergence, knn-entropy, ...
    echo '[0.5, 0.5]' | divergence entropy - --unit bits
    divergence experiment run --dataset synthetic --epochs 3 --watch   # and show, compare, ...
    divergence drift reference create shop features.json   # and check, history, plot

Distributions are JSON files (an array, a label map, or an array of rows) or ``-`` for
standard input. Results print as tables for people, or as the API's JSON with ``--json``.
The service is ``--url`` or ``$DIVERGENCE_URL`` (default http://127.0.0.1:8000); a key, where
the service wants one, is ``--api-key`` or ``$DIVERGENCE_API_KEY``. The service itself is run
by the server's command, ``divergence-service serve | worker``.
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

from divergence_client import DivergenceClient, DivergenceError, __version__
from divergence_client._output import cell, show
from divergence_client.catalogue import MEASURES as CATALOGUE
from divergence_client.catalogue import Measure
from divergence_client.cli_drift import drift_command, drift_parser
from divergence_client.cli_experiments import experiment_command, experiment_parser
from divergence_client.models.common import Unit
from divergence_client.models.estimators import EntropyMethod
from divergence_client.models.matrix import MATRIX_MEASURE_NAMES, NearestResponse
from divergence_client.models.samples import SAMPLE_MEASURES

__all__ = ["main", "main_exit"]

# one command per entry of the measure catalogue
MEASURES: dict[str, Measure] = {measure.command: measure for measure in CATALOGUE}


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


def _edges(text: str) -> list[float]:
    return [float(item) for item in text.split(",")]


def _read(source: str, stdin: TextIO) -> Any:
    text = stdin.read() if source == "-" else Path(source).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"divergence: {source}: not JSON ({exc})") from None


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
    show(result, args.json, rows, out)
    return 0


def _depth(value: Any) -> int:
    """How deep a table's arrays or label maps nest (2 or 3)."""
    depth = 0
    while isinstance(value, list | dict) and value:
        value = value[0] if isinstance(value, list) else next(iter(value.values()))
        depth += 1
    return depth


def _joint(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    """``divergence joint TABLE``: a 2-D table's information, or a 3-D table's I(X; Y | Z)."""
    table = _read(args.table, sys.stdin)
    options = {"unit": args.unit, "normalize": args.normalize or None}
    result: BaseModel
    if _depth(table) == 3:
        result = client.conditional_mutual_information(table, **options)
    else:
        result = client.joint_information(table, **options)
    data = result.model_dump(mode="json")
    rows = [(k, v) for k, v in data.items() if v is not None and not isinstance(v, list | dict)]
    normalized = data.get("normalized_mutual_information") or {}
    rows += [(f"normalized_mutual_information ({k})", v) for k, v in normalized.items()]
    show(result, args.json, rows, out)
    return 0


# `divergence samples --measure kl`: the catalogue's command names stand for the measures too
SAMPLE_ALIASES = {m.command: m.name for m in CATALOGUE if m.name in SAMPLE_MEASURES}


def _samples(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    """``divergence samples X Y``: measures of two samples through shared bins or labels."""
    if [args.x, args.y].count("-") > 1:
        raise SystemExit("divergence: only one of x and y can come from standard input")
    x, y = (_read(source, sys.stdin) for source in (args.x, args.y))
    measures = [SAMPLE_ALIASES.get(m, m) for m in args.measure] if args.measure else None
    options = {"measures": measures, "unit": args.unit, "kind": args.kind, "bins": args.bins,
               "edges": args.edges, "rule": args.rule}  # fmt: skip
    result = client.compare_samples(x, y, **options)
    rows: list[tuple[str, Any]] = list(result.value.items())
    rows.append(("events", ", ".join(result.events)))
    rows += [(f"infinite {k} at", ", ".join(v)) for k, v in result.infinite_events.items()]
    rows += [("note", note) for note in result.notes]
    show(result, args.json, rows, out)
    return 0


def _matrix(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    """``divergence matrix p.json [q.json] --measure NAME [--top-k K]``."""
    if [args.p, args.q].count("-") > 1:
        raise SystemExit("divergence: only one of p and q can come from standard input")
    p = _read(args.p, sys.stdin)
    q = None if args.q is None else _read(args.q, sys.stdin)
    options = {"unit": args.unit, "normalize": args.normalize or None}
    result = client.matrix(p, q, measure=args.measure, top_k=args.top_k, **options)
    if args.json:
        out.write(result.model_dump_json(indent=2, exclude_none=True) + "\n")
        return 0
    unit = f" in {result.unit}" if result.unit else ""
    out.write(f"{result.measure}{unit}, {result.shape[0]} x {result.shape[1]}\n")
    if isinstance(result, NearestResponse):
        for i, (found, values) in enumerate(zip(result.indices, result.values, strict=True)):
            nearest = ", ".join(f"{j} ({cell(v)})" for j, v in zip(found, values, strict=True))
            out.write(f"p[{i}]  {nearest}\n")
    else:
        for row in result.value:
            out.write("  ".join(f"{cell(v):>12}" for v in row) + "\n")
    return 0


def _matrix_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    cmd = sub.add_parser(
        "matrix",
        help="a measure between every row of p and every row of q",
        description="M[i, j] = measure(p_i, q_j) for the rows of p and of q (POST /v1/matrix); "
        "with --top-k, the nearest rows of q for each row of p.",
        parents=[common],
    )
    cmd.add_argument("p", help="JSON file of rows (an array of arrays), or - for standard input")
    cmd.add_argument("q", nargs="?", help="JSON file of rows; omitted: p against itself")
    cmd.add_argument(
        "--measure",
        required=True,
        type=lambda name: name.replace("-", "_"),
        choices=MATRIX_MEASURE_NAMES,
        help="the measure (kl-divergence and kl_divergence both name KL)",
    )
    cmd.add_argument("--top-k", type=int, help="the nearest rows of q per row of p")
    cmd.add_argument("--unit", choices=list(get_args(Unit)), help="for measures with a unit")
    cmd.add_argument("--normalize", action="store_true")


# `divergence parametric ACTION`: the client method and how many laws it takes
_PARAMETRIC = {
    "kl": ("parametric_kl", 2),
    "cross-entropy": ("parametric_cross_entropy", 2),
    "entropy": ("parametric_entropy", 1),
}


def _parametric_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    parametric = sub.add_parser(
        "parametric", help="measures of laws given by their parameters", parents=[common]
    )
    actions = parametric.add_subparsers(dest="action", required=True)
    for action, (_, arity) in _PARAMETRIC.items():
        cmd = actions.add_parser(action, parents=[common])
        for name in ("p", "q")[:arity]:
            cmd.add_argument(name, help='JSON file of a law ({"family": "normal", ...}), or -')
        cmd.add_argument("--unit", choices=list(get_args(Unit)), default="nats")
        cmd.add_argument("--draws", type=int, help="Monte Carlo draws (mixtures)")
        cmd.add_argument("--seed", type=int, help="Monte Carlo seed")


def _parametric(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    method, arity = _PARAMETRIC[args.action]
    sources = [args.p, getattr(args, "q", None)][:arity]
    if sources.count("-") > 1:
        raise SystemExit("divergence: only one of p and q can come from standard input")
    laws = [_read(source, sys.stdin) for source in sources]
    options = {"unit": args.unit, "draws": args.draws, "seed": args.seed}
    result = getattr(client, method)(*laws, **options)
    rows = [(k, v) for k, v in result.model_dump(mode="json").items() if v is not None]
    show(result, args.json, rows, out)
    return 0


# `divergence estimate ACTION`: the client method, and the files it reads
_ESTIMATES = {
    "entropy": ("estimate_entropy", ("counts",)),
    "divergence": ("estimate_divergence", ("p", "q")),
    "mutual-information": ("estimate_mutual_information", ("table",)),
    "knn-entropy": ("estimate_knn_entropy", ("x",)),
    "knn-divergence": ("estimate_knn_divergence", ("x", "y")),
}


def _estimate_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    estimate = sub.add_parser(
        "estimate",
        help="estimates from data: entropy of counts, KL/JS/MI with error bars, k-NN",
        parents=[common],
    )
    actions = estimate.add_subparsers(dest="action", required=True)
    helps = {
        "counts": "JSON file of counts (an array or a label map), or -",
        "p": "JSON file of the counts of P's sample, or -",
        "q": "JSON file of the counts of Q's sample, or -",
        "table": "JSON file of a 2-D table of counts, or -",
        "x": "JSON file of numbers (an array, or an array of points), or -",
        "y": "JSON file of numbers of the sample from Q, or -",
    }
    for action, (_, files) in _ESTIMATES.items():
        cmd = actions.add_parser(action, parents=[common])
        for name in files:
            cmd.add_argument(name, help=helps[name])
        cmd.add_argument("--unit", choices=list(get_args(Unit)), default="nats")
        if action == "entropy":
            methods = ["all", *get_args(EntropyMethod)]
            cmd.add_argument("--method", choices=methods, default="all")
            cmd.add_argument("--categories", type=int, help="K for NSB (default: those seen)")
        elif action.startswith("knn"):
            cmd.add_argument("--k", type=int, help="neighbour order (default 1)")
        else:
            if action == "divergence":
                cmd.add_argument("--measure", choices=["kl", "js"], default="kl")
            cmd.add_argument("--resamples", type=int, help="bootstrap resamples (0: none)")
            cmd.add_argument("--confidence", type=float, help="of the interval (0.95)")
            cmd.add_argument("--seed", type=int, help="of the bootstrap (0)")
            cmd.add_argument("--interval", choices=["percentile", "bca"], help="interval method")


def _estimate_rows(data: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    if isinstance(data["value"], dict):  # entropy: one value per method, NSB's deviation
        for method, value in data["value"].items():
            spread = f" +- {cell(data['nsb_std'])}" if method == "nsb" else ""
            rows.append((method, f"{cell(value)}{spread}"))
    skipped = ("value", "nsb_std", "warnings", "interval", "bias", "labels", "infinite_events")
    if not isinstance(data["value"], dict):
        rows.append(("value", data["value"]))
    rows += [(k, v) for k, v in data.items() if k not in skipped and v is not None]
    interval = data.get("interval")
    if interval:
        rows.append((
            "interval",
            f"[{cell(interval['low'])}, {cell(interval['high'])}] "
            f"({100 * interval['confidence']:g}% {interval['method']}, "
            f"{interval['resamples']} resamples)",
        ))  # fmt: skip
    bias = data.get("bias")
    if bias:
        rows += [(f"bias ({k})", bias[k]) for k in ("first_order", "bootstrap")]
    if data.get("infinite_events"):
        rows.append(("infinite at", data["infinite_events"]))
    rows += [("warning", f"{w['code']}: {w['message']}") for w in data.get("warnings", [])]
    return rows


def _estimate(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    method, files = _ESTIMATES[args.action]
    sources = [getattr(args, name) for name in files]
    if sources.count("-") > 1:
        raise SystemExit("divergence: only one input can come from standard input")
    data = [_read(source, sys.stdin) for source in sources]
    options: dict[str, Any] = {"unit": args.unit}
    if args.action == "entropy":
        options.update(method=args.method, categories=args.categories)
    elif args.action.startswith("knn"):
        options["k"] = args.k
    else:
        if args.action == "divergence":
            options["measure"] = args.measure
        given = {"resamples": args.resamples, "confidence": args.confidence,
                 "seed": args.seed, "method": args.interval}  # fmt: skip
        options["bootstrap"] = {k: v for k, v in given.items() if v is not None}
    result = getattr(client, method)(*data, **options)
    show(result, args.json, _estimate_rows(result.model_dump(mode="json")), out)
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
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
    joint = sub.add_parser(
        "joint",
        help="mutual information of a joint table (2-D), or I(X; Y | Z) of a 3-D one",
        parents=[common],
    )
    joint.add_argument("table", help="JSON file (nested arrays or label maps), or -")
    joint.add_argument("--unit", choices=list(get_args(Unit)), default="nats")
    joint.add_argument("--normalize", action="store_true", help="the table holds counts")
    samples = sub.add_parser(
        "samples", help="measures of two samples on shared bins or labels", parents=[common]
    )
    samples.add_argument("x", help="JSON array of numbers or labels, or -")
    samples.add_argument("y", help="JSON array of numbers or labels, or -")
    samples.add_argument(
        "--measure",
        action="append",
        choices=sorted({*SAMPLE_MEASURES, *SAMPLE_ALIASES}),
        metavar="MEASURE",
        help="kl, js, hellinger, wasserstein_distance, ... (repeatable)",
    )
    samples.add_argument("--unit", choices=list(get_args(Unit)), default="nats")
    samples.add_argument("--kind", choices=["numeric", "categorical"])
    samples.add_argument("--bins", type=int)
    samples.add_argument("--edges", type=_edges, help="comma-separated bin edges")
    samples.add_argument("--rule", choices=["fd", "sturges", "quantiles"])
    _matrix_parser(sub, common)
    _parametric_parser(sub, common)
    _estimate_parser(sub, common)
    drift_parser(sub, common)
    experiment_parser(sub, common)
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    # not set_defaults: the shared --url/--json actions would pass the default to subparsers
    args.url = getattr(args, "url", None) or os.environ.get(
        "DIVERGENCE_URL", "http://127.0.0.1:8000"
    )
    args.json = getattr(args, "json", False)
    args.api_key = getattr(args, "api_key", None) or os.environ.get("DIVERGENCE_API_KEY")
    out = out or sys.stdout
    with DivergenceClient(args.url, api_key=args.api_key) as client:
        try:
            if args.command == "experiment":
                return experiment_command(args, client, out)
            if args.command == "matrix":
                return _matrix(args, client, out)
            if args.command == "parametric":
                return _parametric(args, client, out)
            if args.command == "joint":
                return _joint(args, client, out)
            if args.command == "samples":
                return _samples(args, client, out)
            if args.command == "estimate":
                return _estimate(args, client, out)
            if args.command == "drift":
                return drift_command(args, client, out)
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
