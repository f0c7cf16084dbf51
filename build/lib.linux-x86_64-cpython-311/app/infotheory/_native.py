"""The optional C kernels for short inputs (``_small.c``), or ``None`` where not built.

A call into numpy costs about a microsecond whatever the size, so for one distribution of a
few hundred events the numpy kernels are mostly overhead. The C loops take a fraction of
that; above ``SMALL_MAX_EVENTS`` numpy's vectorised ``log`` wins and the numpy path runs.
Both paths follow the same conventions and are tested against each other.
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["SMALL_MAX_EVENTS", "small"]

# Measured crossover of the two paths on this project's machines (benchmarks/kernels.py).
SMALL_MAX_EVENTS = 2048

small: ModuleType | None
try:
    from app.infotheory import _small as small
except ImportError:  # built without a C compiler: numpy serves every size
    small = None
