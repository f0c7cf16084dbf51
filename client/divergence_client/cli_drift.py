"""``divergence drift``: references and checks of distribution drift from the shell.

::

    divergence drift reference create shop features.json   # {"features": {...}} or features
    divergence drift reference list | show shop | delete shop [--version 2]
    divergence drift check shop window.json --resamples 200 --seed 7
    divergence drift history shop --since 2026-11-01T00:00:00Z
    divergence drift plot shop --feature amount -o amount.svg
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from divergence_client._sync import DivergenceClient
from divergence_client.models.drift import DriftCheck

__all__ = ["drift_command", "drift_parser"]


def _read(source: str) -> Any:
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"divergence: {source}: not JSON ({exc})") from None


def drift_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``drift`` command and its actions."""
    drift = sub.add_parser("drift", help="drift references and checks", parents=[common])
    actions = drift.add_subparsers(dest="action", required=True)
    reference = actions.add_parser("reference", help="create, list, show, delete references")
    verbs = reference.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", parents=[common])
    create.add_argument("name")
    create.add_argument("file", help='JSON: {"features": {...}, "thresholds": ...}, or -')
    verbs.add_parser("list", parents=[common]).add_argument("--limit", type=int, default=20)
    for verb in ("show", "delete"):
        cmd = verbs.add_parser(verb, parents=[common])
        cmd.add_argument("name")
        cmd.add_argument("--version", type=int)
    check = actions.add_parser("check", help="check a window against a reference", parents=[common])
    check.add_argument("name")
    check.add_argument("file", help='JSON: {"window": {...}, ...} or the window, or -')
    check.add_argument("--measures", nargs="+", help="default: PSI and JS divergence")
    check.add_argument("--resamples", type=int, help="bootstrap resamples (default 200)")
    check.add_argument("--seed", type=int, help="of the bootstrap (default: random, echoed)")
    check.add_argument("--confidence", type=float, help="of the interval and test (0.95)")
    check.add_argument("--smoothing", type=float, help="additive smoothing alpha")
    check.add_argument("--version", type=int)
    history = actions.add_parser("history", help="stored checks, newest first", parents=[common])
    history.add_argument("name")
    history.add_argument("--since", help="ISO time: only checks made after it")
    history.add_argument("--limit", type=int, default=20)
    plot = actions.add_parser(
        "plot", help="a feature's measures over its checks (SVG)", parents=[common]
    )
    plot.add_argument("name")
    plot.add_argument("--feature", required=True)
    plot.add_argument("-o", "--output", default="-", help="file for the SVG (- = stdout)")


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def check_text(check: DriftCheck) -> str:
    """A check as lines: the verdict, then one line per feature and measure."""
    lines = [
        f"{check.reference} v{check.version}: {check.verdict or '-'} (seed {check.bootstrap.seed})"
    ]
    for name, feature in check.features.items():
        outside = [
            f"{k} {v}"
            for k, v in (
                ("underflow", feature.underflow),
                ("overflow", feature.overflow),
                ("unseen", feature.unseen),
            )
            if v
        ]
        extra = f" ({', '.join(outside)})" if outside else ""
        lines.append(f"  {name}: {feature.verdict or '-'}, n={feature.n}{extra}")
        for measure, m in feature.measures.items():
            spread = (
                ""
                if m.interval is None
                else (f" [{_number(m.interval[0])}, {_number(m.interval[1])}] p={m.p_value:.3g}")
            )
            lines.append(f"    {measure}: {_number(m.value)}{spread} -> {m.verdict or '-'}")
    return "\n".join(lines)


def drift_command(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    """Run a ``drift`` action; 0 on success."""
    if args.action == "reference":
        return _reference(args, client, out)
    if args.action == "check":
        body = _read(args.file)
        options = {k: v for k, v in body.items() if k != "window"} if "window" in body else {}
        window = body.get("window", body)
        boot = {"resamples": args.resamples, "seed": args.seed, "confidence": args.confidence}
        if any(v is not None for v in boot.values()):
            options["bootstrap"] = {k: v for k, v in boot.items() if v is not None}
        if args.measures:
            options["measures"] = args.measures
        if args.smoothing is not None:
            options["smoothing"] = {"alpha": args.smoothing}
        if args.version is not None:
            options["version"] = args.version
        check = client.check_drift(args.name, window, **options)
        out.write((check.model_dump_json(indent=2) if args.json else check_text(check)) + "\n")
        return 0
    if args.action == "history":
        page = client.drift_checks(args.name, since=args.since, limit=args.limit)
        if args.json:
            out.write(page.model_dump_json(indent=2) + "\n")
        for item in [] if args.json else page.items:
            out.write(f"{item.created_at.isoformat()}  {item.verdict or '-'}  {item.id}\n")
        return 0
    svg = client.drift_plot(args.name, args.feature)
    if args.output == "-":
        out.write(svg.decode())
    else:
        Path(args.output).write_bytes(svg)
    return 0


def _reference(args: argparse.Namespace, client: DivergenceClient, out: TextIO) -> int:
    if args.verb == "create":
        body = _read(args.file)
        features = body.pop("features") if "features" in body else body
        body.pop("name", None)
        made = client.create_drift_reference(args.name, features, **body)
        out.write(
            made.model_dump_json(indent=2)
            if args.json
            else f"{made.name} version {made.version}: {', '.join(made.features)}"
        )
        out.write("\n")
    elif args.verb == "list":
        page = client.drift_references(limit=args.limit)
        if args.json:
            out.write(page.model_dump_json(indent=2) + "\n")
        for item in [] if args.json else page.items:
            out.write(
                f"{item.name}  v{item.version}  {len(item.features)} features  "
                f"{item.latest_verdict or '-'}\n"
            )
    elif args.verb == "show":
        out.write(client.drift_reference(args.name, args.version).model_dump_json(indent=2) + "\n")
    else:
        client.delete_drift_reference(args.name, args.version)
    return 0
