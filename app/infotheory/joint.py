"""Information of joint distributions: mutual information and its relatives from a table.

A 2-D table ``P[x, y]`` is a joint distribution (non-negative, summing to 1; the service
checks that), with marginals ``p_x = sum_y P``, ``p_y = sum_x P``::

    H(X), H(Y)   the marginal entropies; H(X, Y) = -sum P log P, the joint entropy
    I(X; Y)      = sum P log(P / (p_x p_y)) = H(X) + H(Y) - H(X, Y)
    H(X | Y)     = H(X, Y) - H(Y) = H(X) - I(X; Y), and H(Y | X) likewise
    VI(X, Y)     = H(X | Y) + H(Y | X) = H(X, Y) - I(X; Y), the variation of information

A 3-D table ``P[x, y, z]`` gives the conditional mutual information::

    I(X; Y | Z)  = sum P log(P p_z / (p_xz p_yz)) = H(X, Z) + H(Y, Z) - H(X, Y, Z) - H(Z)

Conventions as in every kernel: float64, ``0 log 0 = 0``, no epsilon, values clamped into
their bounds (``0 <= I <= min(H(X), H(Y))``, ``0 <= H(X | Y) <= H(X)``,
``max(H(X), H(Y)) <= H(X, Y) <= H(X) + H(Y)``), ``+0.0`` never ``-0.0``.

Mutual information is summed from the cells, ``sum P log(P / (p_x p_y))``, one ``log`` per
cell; the joint entropy then follows from the identity ``H(X, Y) = H(X) + H(Y) - I``. The
terms of that sum are small where the variables are nearly independent, so a tiny MI keeps
its relative accuracy (the difference of entropies would lose it all to cancellation), and
the identity holds to rounding. ``I(X; Y | Z)`` likewise, with ``H(X, Y, Z)`` from its identity.

The normalised variants (:data:`NMI_VARIANTS`) are unitless, in ``[0, 1]``. A zero
denominator: two constant variables (``H(X) = H(Y) = 0``) are a perfect match, 1 (as
scikit-learn's ``normalized_mutual_info_score``); any other zero denominator means
``I = 0``, and the answer is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array
from app.infotheory.entropy import entropy
from app.infotheory.units import nats_per_unit

__all__ = [
    "NMI_VARIANTS",
    "ConditionalInformation",
    "JointInformation",
    "conditional_information",
    "conditional_mutual_information",
    "joint_information",
    "mutual_information",
    "normalized_mutual_information",
]

NMI_VARIANTS: dict[str, str] = {
    "arithmetic": "2 I(X; Y) / (H(X) + H(Y))",
    "geometric": "I(X; Y) / sqrt(H(X) H(Y))",
    "min": "I(X; Y) / min(H(X), H(Y))",
    "max": "I(X; Y) / max(H(X), H(Y))",
    "joint": "I(X; Y) / H(X, Y)",
}

# a marginal below this has a reciprocal that may overflow: the logs are then taken apart
_TINY = 1e-300


@dataclass(frozen=True)
class JointInformation:
    """Every two-variable quantity of one joint table, in one unit (the ``normalized``
    variants and ``normalized_variation_of_information`` are unitless)."""

    entropy_x: float
    entropy_y: float
    joint_entropy: float
    mutual_information: float
    conditional_entropy_x_given_y: float
    conditional_entropy_y_given_x: float
    variation_of_information: float
    normalized_variation_of_information: float  # VI / H(X, Y), in [0, 1]
    normalized: dict[str, float]  # one value per variant of NMI_VARIANTS
    marginal_x: Float64Array
    marginal_y: Float64Array


@dataclass(frozen=True)
class ConditionalInformation:
    """The three-variable quantities of one table ``P[x, y, z]``, in one unit."""

    conditional_mutual_information: float  # I(X; Y | Z)
    mutual_information: float  # I(X; Y), Z marginalised out
    interaction_information: float  # I(X; Y) - I(X; Y | Z), of either sign
    joint_entropy: float  # H(X, Y, Z)
    entropy_z: float
    conditional_entropy_x_given_z: float
    conditional_entropy_y_given_z: float
    marginal_z: Float64Array


def _table(table: ArrayLike, ndim: int) -> Float64Array:
    arr = np.asarray(table, dtype=np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"the table must be {ndim}-D, got {arr.ndim}-D")
    if arr.size == 0:
        raise ValueError("the table must not be empty")
    return arr


def _h(p: Float64Array) -> float:
    """Entropy in nats of the distribution held in ``p``, whatever its shape."""
    return float(entropy(p.reshape(-1)))


def _smallest(a: Float64Array) -> float:
    positive = a[a > 0]
    return float(positive.min()) if positive.size else 1.0


def _reciprocal(a: Float64Array) -> Float64Array:
    """``1 / a``, and 0 where ``a = 0`` (the cells there hold ``P = 0``)."""
    return np.divide(1.0, a, out=np.zeros_like(a), where=a > 0)


def _sum_p_log_ratio(
    p: Float64Array, left: Float64Array, right: Float64Array, top: Float64Array | None = None
) -> float:
    """``sum P log(P top / (left right))`` over the cells with ``P > 0``, in nats; the
    marginals broadcast against ``p``, and ``left, right >= P`` (``top`` defaults to 1).

    The ratio is formed first and its ``log`` taken once, so a ratio near 1 (nearly
    independent variables) keeps its digits; cells with ``P = 0`` contribute 0."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if min(_smallest(left), _smallest(right)) >= _TINY:
            ratio = p * _reciprocal(left)  # in (0, 1] where P > 0, 0 elsewhere
            ratio *= _reciprocal(right) if top is None else top * _reciprocal(right)
            logs = np.log(ratio, out=ratio, where=ratio > 0)
        else:  # subnormal marginals: their reciprocals would overflow
            logs = np.log(p) - np.log(left) - np.log(right)
            if top is not None:
                logs += np.log(top)
            logs[p == 0] = 0.0
    return float(np.dot(np.ravel(p), logs.reshape(-1)))


def _mi_nats(p: Float64Array, hx: float, hy: float) -> float:
    """I(X; Y) in nats for the 2-D table ``p``, clamped into ``[0, min(H(X), H(Y))]``."""
    px, py = p.sum(axis=1), p.sum(axis=0)
    value = _sum_p_log_ratio(p, px[:, np.newaxis], py[np.newaxis, :])
    return min(max(value, 0.0), hx, hy)


def mutual_information(table: ArrayLike, unit: str = "nats") -> float:
    """Return ``I(X; Y) = sum P log(P / (p_x p_y))`` of the 2-D joint table ``P[x, y]``.

    In ``[0, min(H(X), H(Y))]``; raises ``ValueError`` for a table that is not 2-D or empty.
    """
    scale = nats_per_unit(unit)
    p = _table(table, 2)
    return _mi_nats(p, _h(p.sum(axis=1)), _h(p.sum(axis=0))) / scale


def normalized_mutual_information(
    mi: float, hx: float, hy: float, hxy: float, variant: str
) -> float:
    """Return one variant of :data:`NMI_VARIANTS` from I, H(X), H(Y), H(X, Y) (any one unit).

    In ``[0, 1]``; two constant variables give 1, any other zero denominator 0."""
    if variant not in NMI_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(NMI_VARIANTS)}")
    if hx == 0.0 and hy == 0.0:
        return 1.0
    denominator = {
        "arithmetic": (hx + hy) / 2,
        "geometric": math.sqrt(hx * hy),
        "min": min(hx, hy),
        "max": max(hx, hy),
        "joint": hxy,
    }[variant]
    if mi == 0.0 or denominator == 0.0:
        return 0.0
    return min(max(mi / denominator, 0.0), 1.0)


def joint_information(table: ArrayLike, unit: str = "nats") -> JointInformation:
    """Return every quantity of :class:`JointInformation` for the 2-D joint table ``P[x, y]``.

    Raises ``ValueError`` for a table that is not 2-D or empty."""
    scale = nats_per_unit(unit)
    p = _table(table, 2)
    px, py = p.sum(axis=1), p.sum(axis=0)
    hx, hy = _h(px), _h(py)
    mi = _mi_nats(p, hx, hy)
    hxy = hx + hy - mi  # in [max(H(X), H(Y)), H(X) + H(Y)], as I is in [0, min]
    h_x_y, h_y_x = hx - mi, hy - mi
    vi = h_x_y + h_y_x
    return JointInformation(
        entropy_x=hx / scale,
        entropy_y=hy / scale,
        joint_entropy=hxy / scale,
        mutual_information=mi / scale,
        conditional_entropy_x_given_y=h_x_y / scale,
        conditional_entropy_y_given_x=h_y_x / scale,
        variation_of_information=vi / scale,
        normalized_variation_of_information=0.0 if hxy == 0.0 else min(vi / hxy, 1.0),
        normalized={v: normalized_mutual_information(mi, hx, hy, hxy, v) for v in NMI_VARIANTS},
        marginal_x=px,
        marginal_y=py,
    )


def conditional_information(table: ArrayLike, unit: str = "nats") -> ConditionalInformation:
    """Return :class:`ConditionalInformation` for the 3-D joint table ``P[x, y, z]``.

    ``I(X; Y | Z)`` is clamped into ``[0, min(H(X | Z), H(Y | Z))]``. Raises ``ValueError``
    for a table that is not 3-D or empty."""
    scale = nats_per_unit(unit)
    p = _table(table, 3)
    pxz, pyz, pz = p.sum(axis=1), p.sum(axis=0), p.sum(axis=(0, 1))
    hz = _h(pz)
    h_x_z, h_y_z = max(_h(pxz) - hz, 0.0), max(_h(pyz) - hz, 0.0)
    cells = _sum_p_log_ratio(p, pxz[:, np.newaxis, :], pyz[np.newaxis], pz[np.newaxis, np.newaxis])
    cmi = min(max(cells, 0.0), h_x_z, h_y_z)
    hxyz = hz + h_x_z + h_y_z - cmi  # H(X, Z) + H(Y, Z) - H(Z) - I(X; Y | Z)
    pxy = p.sum(axis=2)
    mi = _mi_nats(pxy, _h(pxy.sum(axis=1)), _h(pxy.sum(axis=0)))
    return ConditionalInformation(
        conditional_mutual_information=cmi / scale,
        mutual_information=mi / scale,
        interaction_information=(mi - cmi) / scale,
        joint_entropy=hxyz / scale,
        entropy_z=hz / scale,
        conditional_entropy_x_given_z=h_x_z / scale,
        conditional_entropy_y_given_z=h_y_z / scale,
        marginal_z=pz,
    )


def conditional_mutual_information(table: ArrayLike, unit: str = "nats") -> float:
    """Return ``I(X; Y | Z)`` of the 3-D joint table ``P[x, y, z]`` (see
    :func:`conditional_information`)."""
    return conditional_information(table, unit).conditional_mutual_information
