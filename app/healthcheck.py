"""``python -m app.healthcheck api|worker``: the containers' health checks (exit 0 = healthy).

- ``api``: ``GET /readyz`` on this host's API answers 200 (the database takes a write, the
  queue answers and, under ``python -m app``, its supervised worker is alive).
- ``worker``: the worker's liveness file (``DIVERGENCE_WORKER_ALIVE_FILE``) was touched within
  three heartbeat intervals: the worker's main loop touches it every interval once it serves,
  and goes on waiting (alive) while its database or queue is down.
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request

from app.config import Settings, get_settings

__all__ = ["check_api", "check_worker", "main"]


def check_api(settings: Settings) -> tuple[bool, str]:
    url = f"http://127.0.0.1:{settings.port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return response.status == 200, f"{url}: {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url}: {exc}"


def check_worker(settings: Settings) -> tuple[bool, str]:
    path = settings.alive_file
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False, f"{path}: missing"
    limit = max(3 * settings.heartbeat_interval, 10.0)
    return age <= limit, f"{path}: touched {age:.1f} s ago (limit {limit:g} s)"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("api", "worker"):
        print("usage: python -m app.healthcheck api|worker", file=sys.stderr)
        return 2
    settings = get_settings()
    healthy, detail = (check_api if argv[0] == "api" else check_worker)(settings)
    print(("healthy: " if healthy else "unhealthy: ") + detail)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
