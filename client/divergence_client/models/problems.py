"""The problem+json document (RFC 9457) as a model: the API documents it, the client reads it."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Problem", "ProblemItem"]


class ProblemItem(BaseModel):
    loc: list[str | int] = Field(description="Where: 'body', the field, then any index.")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemItem] | None = None
    error_count: int | None = Field(
        None, description="How many errors there were in all; `errors` lists the first 20."
    )
