"""Pure numpy kernels for information measures (no FastAPI, no pydantic, no I/O).

Every kernel takes one distribution (1-D) or a batch (2-D, one distribution per row) in
float64, follows ``0 log 0 = 0``, reports ``+inf`` honestly, never adds an epsilon, and
returns values in ``"bits"``, ``"nats"`` (default) or ``"bans"``.
"""

from app.infotheory._arrays import Float64Array
from app.infotheory.divergence import cross_entropy, infinite_events, kl_divergence
from app.infotheory.entropy import entropy, self_information
from app.infotheory.jensen_shannon import js_distance, js_divergence
from app.infotheory.units import NATS_PER_UNIT, UNITS, Unit, nats_per_unit

__all__ = [
    "NATS_PER_UNIT",
    "UNITS",
    "Float64Array",
    "Unit",
    "cross_entropy",
    "entropy",
    "infinite_events",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "nats_per_unit",
    "self_information",
]
