"""Models of the answers of ``/v1/joint/*``: a joint table's information."""

from __future__ import annotations

from pydantic import BaseModel, Field

from divergence_client.models.common import Unit

__all__ = [
    "ConditionalInformationResponse",
    "JointInformationResponse",
    "NormalizedMutualInformation",
]


class NormalizedMutualInformation(BaseModel):
    """Mutual information divided by a bound of it: unitless, in [0, 1]. Both entropies 0
    (two constants): 1; any other zero denominator (then I = 0): 0."""

    arithmetic: float = Field(description="2 I / (H(X) + H(Y)): scikit-learn's default.")
    geometric: float = Field(description="I / sqrt(H(X) H(Y)) (Strehl and Ghosh).")
    min: float = Field(description="I / min(H(X), H(Y)).")
    max: float = Field(description="I / max(H(X), H(Y)).")
    joint: float = Field(description="I / H(X, Y) = 1 - VI / H(X, Y).")


class _Echo(BaseModel):
    unit: Unit
    normalized: bool = Field(description="Whether the table was divided by its sum.")
    samples: int | None = Field(description="The number of paired samples, if given.")
    shape: list[int] = Field(description="The table's shape.")


class JointInformationResponse(_Echo):
    """Every two-variable quantity of the table, with its marginals."""

    mutual_information: float = Field(description="I(X; Y) = H(X) + H(Y) - H(X, Y).")
    entropy_x: float = Field(description="H(X).")
    entropy_y: float = Field(description="H(Y).")
    joint_entropy: float = Field(description="H(X, Y).")
    conditional_entropy_x_given_y: float = Field(description="H(X | Y) = H(X) - I(X; Y).")
    conditional_entropy_y_given_x: float = Field(description="H(Y | X) = H(Y) - I(X; Y).")
    variation_of_information: float = Field(description="VI = H(X | Y) + H(Y | X): a metric.")
    normalized_variation_of_information: float = Field(
        description="VI / H(X, Y), unitless in [0, 1] (0 when H(X, Y) = 0): a metric."
    )
    normalized_mutual_information: NormalizedMutualInformation
    marginal_x: list[float] = Field(description="p(x): the table's row sums.")
    marginal_y: list[float] = Field(description="p(y): the table's column sums.")
    labels_x: list[str] | None = Field(description="The labels of x (label maps, samples).")
    labels_y: list[str] | None = Field(description="The labels of y.")


class ConditionalInformationResponse(_Echo):
    """I(X; Y | Z) and the quantities it is made of."""

    conditional_mutual_information: float = Field(
        description="I(X; Y | Z) = H(X, Z) + H(Y, Z) - H(X, Y, Z) - H(Z)."
    )
    mutual_information: float = Field(description="I(X; Y) of the table summed over z.")
    interaction_information: float = Field(
        description="I(X; Y) - I(X; Y | Z), of either sign: > 0 when Z accounts for part of "
        "the dependence of X and Y, < 0 when conditioning on Z creates dependence."
    )
    joint_entropy: float = Field(description="H(X, Y, Z).")
    entropy_z: float = Field(description="H(Z).")
    conditional_entropy_x_given_z: float = Field(description="H(X | Z).")
    conditional_entropy_y_given_z: float = Field(description="H(Y | Z).")
    marginal_z: list[float] = Field(description="p(z).")
    labels_x: list[str] | None = Field(description="The labels of x (label maps, samples).")
    labels_y: list[str] | None = Field(description="The labels of y.")
    labels_z: list[str] | None = Field(description="The labels of z.")
