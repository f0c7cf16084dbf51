"""Pure numpy kernels for information measures (no FastAPI, no pydantic, no I/O).

Every kernel takes one distribution (1-D) or a batch (2-D, one distribution per row) in
float64, follows ``0 log 0 = 0``, reports ``+inf`` honestly, never adds an epsilon, and
returns values in ``"bits"``, ``"nats"`` (default) or ``"bans"``.
"""

from app.infotheory._arrays import Float64Array
from app.infotheory._parallel import set_threads as set_kernel_threads
from app.infotheory.chi_square import neyman_chi_square, pearson_chi_square
from app.infotheory.divergence import cross_entropy, infinite_events, kl_divergence
from app.infotheory.entropy import entropy, self_information
from app.infotheory.hellinger import (
    bhattacharyya_coefficient,
    bhattacharyya_distance,
    hellinger_distance,
)
from app.infotheory.jeffreys import jeffreys_divergence
from app.infotheory.jensen_shannon import js_distance, js_divergence
from app.infotheory.matrix import (
    BLOCK_BYTES,
    MATRIX_MEASURES,
    MatrixMeasure,
    nearest,
    pairwise,
)
from app.infotheory.perplexity import cross_perplexity, perplexity
from app.infotheory.renyi import renyi_divergence, renyi_entropy
from app.infotheory.stability import PSI_BANDS, PsiBand, population_stability_index, psi_band
from app.infotheory.total_variation import total_variation
from app.infotheory.tsallis import tsallis_divergence, tsallis_entropy
from app.infotheory.units import NATS_PER_UNIT, UNITS, Unit, nats_per_unit
from app.infotheory.wasserstein import wasserstein_distance
from app.infotheory.weighted_jensen_shannon import WEIGHTS_TOLERANCE, weighted_js_divergence

__all__ = [
    "BLOCK_BYTES",
    "MATRIX_MEASURES",
    "NATS_PER_UNIT",
    "PSI_BANDS",
    "UNITS",
    "WEIGHTS_TOLERANCE",
    "Float64Array",
    "MatrixMeasure",
    "PsiBand",
    "Unit",
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "cross_entropy",
    "cross_perplexity",
    "entropy",
    "hellinger_distance",
    "infinite_events",
    "jeffreys_divergence",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "nats_per_unit",
    "nearest",
    "neyman_chi_square",
    "pairwise",
    "pearson_chi_square",
    "perplexity",
    "population_stability_index",
    "psi_band",
    "renyi_divergence",
    "renyi_entropy",
    "self_information",
    "set_kernel_threads",
    "total_variation",
    "tsallis_divergence",
    "tsallis_entropy",
    "wasserstein_distance",
    "weighted_js_divergence",
]
