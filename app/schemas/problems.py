"""The problem+json document (RFC 9457): the client's model (``divergence_client``), which the
API documents and renders."""

from __future__ import annotations

from divergence_client.models.problems import Problem, ProblemItem

__all__ = ["Problem", "ProblemItem"]
