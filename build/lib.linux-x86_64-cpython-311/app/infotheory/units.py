"""Units of information and the conversion from nats.

The kernels compute in nats (natural logarithm) and divide by ``ln(base)`` at the end:

========  ==========  ==============
unit      logarithm   nats per unit
========  ==========  ==============
bits      log2        ln 2
nats      ln          1
bans      log10       ln 10
========  ==========  ==============
"""

from __future__ import annotations

import math
from typing import Literal, get_args

__all__ = ["NATS_PER_UNIT", "UNITS", "Unit", "nats_per_unit"]

Unit = Literal["bits", "nats", "bans"]
UNITS: tuple[str, ...] = get_args(Unit)

NATS_PER_UNIT: dict[str, float] = {
    "bits": math.log(2.0),
    "nats": 1.0,
    "bans": math.log(10.0),
}


def nats_per_unit(unit: str) -> float:
    """Return how many nats make one ``unit``; raise ``ValueError`` naming the unit if unknown."""
    try:
        return NATS_PER_UNIT[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}") from None
