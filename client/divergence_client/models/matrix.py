"""Models of the answers of ``POST /v1/matrix``: every row of ``p`` against every row of ``q``
for one measure, or the ``top_k`` nearest rows of ``q`` per row of ``p``; and the measures it
takes, named as everywhere in the service's bodies (``compare``'s ``measures``, the client
methods)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from divergence_client.models.common import Number, Smoothing, Unit

__all__ = ["MATRIX_MEASURE_NAMES", "MatrixResponse", "NearestResponse"]

# the server's matrix kernels, by name (a test keeps the two the same)
MATRIX_MEASURE_NAMES: tuple[str, ...] = (
    "cross_entropy",
    "kl_divergence",
    "js_divergence",
    "js_distance",
    "hellinger_distance",
    "bhattacharyya_coefficient",
    "total_variation",
    "pearson_chi_square",
)


class MatrixResponse(BaseModel):
    """The m x k matrix ``value[i][j] = measure(p_i, q_j)`` ("Infinity" where infinite)."""

    measure: str = Field(description="The measure computed.")
    unit: Unit | None = Field(None, description="The unit; absent for unitless measures.")
    normalized: bool = Field(description="Whether the rows were divided by their sums.")
    smoothing: Smoothing | None = Field(description="The smoothing applied, if any.")
    shape: list[int] = Field(description="[m, k]: rows of p, rows of q.")
    value: list[list[Number]] = Field(description="One row per row of p, one value per row of q.")


class NearestResponse(BaseModel):
    """The ``top_k`` nearest rows of q for each row of p, nearest first."""

    measure: str = Field(description="The measure computed.")
    unit: Unit | None = Field(None, description="The unit; absent for unitless measures.")
    normalized: bool = Field(description="Whether the rows were divided by their sums.")
    smoothing: Smoothing | None = Field(description="The smoothing applied, if any.")
    shape: list[int] = Field(description="[m, top_k].")
    indices: list[list[int]] = Field(
        description="Per row of p, the rows of q from the nearest (smallest value; largest for "
        "bhattacharyya_coefficient), ties to the lower index, infinite values last."
    )
    values: list[list[Number]] = Field(description="measure(p_i, q_j) at those indices.")
