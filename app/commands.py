"""``divergence-service``: run the service (the server's console script).

::

    divergence-service serve                 # the API and one worker (what `make run` runs)
    divergence-service serve --no-worker     # the API alone (`make api`)
    divergence-service worker                # one worker (`make worker`)

``serve`` is ``python -m app`` and ``worker`` is ``python -m app.worker``; the options set the
same ``DIVERGENCE_*`` variables that configure every setting. Calling the service from the
shell is the client's ``divergence`` command (``divergence_client``).
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import version

__all__ = ["main", "main_exit"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="divergence-service",
        description="Run the divergence service: the API (with one worker), or a worker.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version('divergence-service')}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API (and one worker)")
    serve.add_argument("--host", help="DIVERGENCE_HOST (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="DIVERGENCE_PORT (default 8000)")
    serve.add_argument("--no-worker", action="store_true", help="the API alone")
    sub.add_parser("worker", help="run one worker")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "worker":
        from app.worker.__main__ import main as work

        work()
        return 0
    if args.host:
        os.environ["DIVERGENCE_HOST"] = args.host
    if args.port:
        os.environ["DIVERGENCE_PORT"] = str(args.port)
    if args.no_worker:
        os.environ["DIVERGENCE_EMBEDDED_WORKER"] = "false"
    from app.__main__ import main as serve

    serve()
    return 0


def main_exit() -> None:
    """The console script's entry point."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
