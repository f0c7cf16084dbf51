"""Models of the classification-loss endpoints under ``/v1/losses`` (the answer's is the
client's, ``divergence_client.models.losses``, re-exported here)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import Unit
from app.schemas.distribution import Numbers
from divergence_client.models.losses import LossResponse, Reduction

__all__ = ["LossRequest", "LossResponse", "Reduction"]


class LossRequest(BaseModel):
    """Labels against predictions, one sample per row (or per element for binary losses)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    labels: Numbers = Field(
        description="Binary: 0/1 (or soft) per sample, or per sample and output (2-D). "
        "Categorical and KL: one row per sample (one-hot or probabilities); categorical "
        "cross-entropy also takes a 1-D array of class indices."
    )
    predictions: Numbers = Field(
        description="Probabilities (rows summing to 1 for categorical and KL) or, with "
        "`from_logits`, logits of any sign."
    )
    from_logits: bool = Field(False, description="Predictions are logits.")
    label_smoothing: float = Field(
        0.0, ge=0.0, le=1.0, description="Keras' label smoothing (binary: towards 0.5)."
    )
    reduction: Reduction = Field("mean", description="Reduce per-sample values by mean or sum.")
    unit: Unit = "nats"
    tolerance: float = Field(1e-6, ge=0, le=0.5, description="For prediction row sums.")
