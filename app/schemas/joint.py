"""Models of ``/v1/joint/*``: a joint table (or paired samples) in, information out.

A table arrives as nested JSON arrays (2-D ``P[x][y]``, 3-D ``P[x][y][z]``), as nested label
maps (``{"rain": {"umbrella": 30, "none": 5}, ...}``, an inner label missing from one map
counts 0), or as one ``.npy`` array. Parsing checks shape, types, finiteness and signs with
vectorised tests and names the first offending cell. A label map is kept sparse until the
service has checked how many cells it spans (a few labels per axis can span many cells).
The answers' models are the client's (``divergence_client.models.joint``), re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from app.schemas.common import Unit
from app.schemas.samples import LabelSample, not_unicode
from divergence_client.models.joint import (
    ConditionalInformationResponse,
    JointInformationResponse,
    NormalizedMutualInformation,
)

__all__ = [
    "ConditionalInformationRequest",
    "ConditionalInformationResponse",
    "JointInformationRequest",
    "JointInformationResponse",
    "NormalizedMutualInformation",
    "ParsedTable",
    "parse_table",
]

Position = tuple[int | str, ...]
_NUMBER_TYPES = frozenset({int, float})


@dataclass(frozen=True, eq=False)
class ParsedTable:
    """A validated table: finite, non-negative numbers, dense or as (cell, value) entries."""

    shape: tuple[int, ...]
    labels: list[list[str]] | None  # one list per axis, for a label map
    dense: NDArray[np.float64] | None = None
    cells: tuple[NDArray[np.intp], ...] | None = None  # with values: a label map's entries
    values: NDArray[np.float64] | None = None

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def to_array(self) -> NDArray[np.float64]:
        """The dense table (for a label map, allocated here: check ``size`` first)."""
        if self.dense is not None:
            return self.dense
        assert self.cells is not None and self.values is not None
        table = np.zeros(self.shape)
        table[self.cells] = self.values  # a label map names each cell once
        return table


def _error(kind: str, message: str, index: Position | None = None) -> PydanticCustomError:
    return PydanticCustomError(kind, message, {} if index is None else {"index": index})


def _check(values: NDArray[np.float64], where: Any) -> None:
    """Refuse NaN, infinities and negative numbers; ``where(flat)`` names the cell."""
    bad = ~np.isfinite(values)
    if bad.any():
        at = where(int(np.flatnonzero(bad)[0]))
        raise _error("not_finite", "NaN and infinite numbers are not counts", at)
    negative = values < 0
    if negative.any():
        flat = int(np.flatnonzero(negative)[0])
        got = float(values.reshape(-1)[flat])
        raise _error("negative", f"counts and probabilities must be >= 0, got {got!r}", where(flat))


def _from_array(array: NDArray[np.float64], ndim: int) -> ParsedTable:
    if array.ndim != ndim:
        raise _error("table_shape", f"expected a {ndim}-D table, got shape {array.shape}")
    if array.size == 0:
        raise _error("empty", f"the table has no cells (shape {array.shape})")
    values = np.asarray(array, dtype=np.float64)
    _check(values, lambda flat: tuple(int(i) for i in np.unravel_index(flat, values.shape)))
    return ParsedTable(shape=values.shape, labels=None, dense=values)


def _nested(value: list[Any], ndim: int) -> tuple[list[Any], tuple[int, ...]]:
    """Flatten nested arrays ``ndim`` deep, checking they are rectangular."""
    items: list[Any] = value
    shape: list[int] = [len(value)]
    for _ in range(1, ndim):
        width: int | None = None
        flat: list[Any] = []
        for index, row in enumerate(items):
            at = tuple(int(i) for i in np.unravel_index(index, shape)) if shape else ()
            if not isinstance(row, list):
                raise _error("table_shape", f"expected a {ndim}-D table of nested arrays", at)
            if width is None:
                width = len(row)
            elif len(row) != width:
                msg = f"ragged table: this row has {len(row)} values, the first has {width}"
                raise _error("ragged_table", msg, at)
            flat.extend(row)
        shape.append(width or 0)
        items = flat
        if not items:
            break
    return items, tuple(shape)


def _from_lists(value: list[Any], ndim: int) -> ParsedTable:
    items, shape = _nested(value, ndim)
    if len(shape) != ndim or not items:
        raise _error("empty", f"the table has no cells (shape {shape})")
    if not set(map(type, items)) <= _NUMBER_TYPES:
        for flat, item in enumerate(items):
            if type(item) not in _NUMBER_TYPES:
                at = tuple(int(i) for i in np.unravel_index(flat, shape))
                if isinstance(item, list):
                    raise _error("table_shape", f"nested deeper than a {ndim}-D table", at)
                shown = "null" if item is None else type(item).__name__
                raise _error("number_type", f"expected a number, got {shown}", at)
    try:
        values = np.array(items, dtype=np.float64).reshape(shape)
    except OverflowError:
        raise _error("number_range", "a number is too large for float64") from None
    return _from_array(values, ndim)


def _from_map(value: dict[str, Any], ndim: int) -> ParsedTable:
    """Nested label maps ``ndim`` deep; the labels of each axis in order of appearance."""
    axes: list[dict[str, int]] = [{} for _ in range(ndim)]
    cells: list[tuple[int, ...]] = []
    numbers: list[Any] = []
    paths: list[Position] = []

    def walk(node: Any, depth: int, prefix: tuple[int, ...], path: Position) -> None:
        if not isinstance(node, dict):
            raise _error("table_shape", f"expected label maps {ndim} levels deep", path)
        if not node:
            raise _error("empty", "a label map needs at least one label", path)
        for label, item in node.items():
            if not_unicode(label):
                raise _error("unicode", "not valid Unicode: a lone UTF-16 surrogate", path)
            index = axes[depth].setdefault(label, len(axes[depth]))
            if depth < ndim - 1:
                walk(item, depth + 1, (*prefix, index), (*path, label))
                continue
            if type(item) not in _NUMBER_TYPES:
                shown = "null" if item is None else type(item).__name__
                raise _error("number_type", f"expected a number, got {shown}", (*path, label))
            cells.append((*prefix, index))
            numbers.append(item)
            paths.append((*path, label))

    walk(value, 0, (), ())
    try:
        values = np.array(numbers, dtype=np.float64)
    except OverflowError:
        raise _error("number_range", "a number is too large for float64") from None
    _check(values, lambda flat: paths[flat])
    index = tuple(np.array(axis, dtype=np.intp) for axis in zip(*cells, strict=True))
    return ParsedTable(
        shape=tuple(len(axis) for axis in axes),
        labels=[list(axis) for axis in axes],
        cells=index,
        values=values,
    )


def parse_table(value: Any, ndim: int) -> ParsedTable:
    """Parse nested arrays, nested label maps or an array (``.npy``) into a ParsedTable."""
    if isinstance(value, ParsedTable):
        return value
    if isinstance(value, np.ndarray):
        return _from_array(value, ndim)
    if isinstance(value, dict):
        return _from_map(value, ndim)
    if isinstance(value, list):
        return _from_lists(value, ndim)
    raise _error("table_type", "expected nested arrays or nested label maps")


TableJSON = list[list[float]] | dict[str, dict[str, float]]
Table3JSON = list[list[list[float]]] | dict[str, dict[str, dict[str, float]]]
Table2 = Annotated[
    ParsedTable, PlainValidator(partial(parse_table, ndim=2), json_schema_input_type=TableJSON)
]
Table3 = Annotated[
    ParsedTable, PlainValidator(partial(parse_table, ndim=3), json_schema_input_type=Table3JSON)
]

_TABLE = (
    "The joint table: nested arrays (rows are x, columns y), or nested label maps "
    '({"rain": {"umbrella": 30, "none": 5}, ...}; a missing inner label counts 0). '
    "Give table, or the paired samples x and y, not both."
)
_PAIRED = "Paired samples: the i-th values of x, y (and z) are one observation (labels)."


class _JointOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    unit: Unit = Field("nats", description="bits (log 2), nats (ln) or bans (log 10).")
    normalize: bool = Field(
        False,
        description="Treat the table as counts or weights and divide it by its sum. Without "
        "it, a table whose sum is off 1 by more than `tolerance` is refused. Paired samples "
        "are always counted and normalised.",
    )
    tolerance: float | None = Field(
        None,
        ge=0,
        le=0.5,
        allow_inf_nan=False,
        description="Allowed |sum - 1| when `normalize` is false; default 1e-6 (configurable).",
    )
    x: LabelSample | None = Field(None, description=_PAIRED)
    y: LabelSample | None = Field(None, description=_PAIRED)


class JointInformationRequest(_JointOptions):
    """A 2-D joint table of X and Y, or paired samples of them."""

    table: Table2 | None = Field(None, description=_TABLE)


class ConditionalInformationRequest(_JointOptions):
    """A 3-D joint table ``P[x][y][z]``, or paired samples x, y, z."""

    table: Table3 | None = Field(
        None, description=_TABLE.replace("rows are x, columns y", "P[x][y][z]")
    )
    z: LabelSample | None = Field(None, description=_PAIRED)
