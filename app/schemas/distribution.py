"""The accepted forms of a distribution, parsed straight into numpy at the edge.

A distribution arrives as a JSON array of numbers, a JSON object mapping labels to numbers,
or a JSON array of equally long arrays (a batch, one distribution per row). Parsing checks
types, shape, finiteness and signs with vectorised numpy tests instead of validating every
number as a Python object, and names the first offending index.

Errors are ``PydanticCustomError`` with the offending position in ``ctx["index"]``; the
problem+json handler appends it to the error's ``loc``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import PlainValidator
from pydantic_core import PydanticCustomError

__all__ = [
    "Distribution",
    "DistributionJSON",
    "Numbers",
    "ParsedDistribution",
    "parse_distribution",
    "parse_numbers",
]

DistributionJSON = list[float] | list[list[float]] | dict[str, float]
Position = int | str | tuple[int, int]
_NUMBER_TYPES = frozenset({int, float})


@dataclass(frozen=True, eq=False)
class ParsedDistribution:
    """A validated distribution: finite, non-negative float64 values, 1-D or 2-D."""

    values: NDArray[np.float64]
    labels: list[str] | None = None


def _error(kind: str, message: str, index: Position | None = None) -> PydanticCustomError:
    ctx: dict[str, Any] = {} if index is None else {"index": index}
    return PydanticCustomError(kind, message, ctx)


def _position(flat: int, shape: tuple[int, ...], labels: list[str] | None) -> Position:
    """The position of the ``flat``-th element, for error messages (never a list of all)."""
    if labels is not None:
        return labels[flat]
    if len(shape) == 1:
        return flat
    row, col = divmod(flat, shape[1])
    return (row, col)


def _to_array(
    items: list[Any], shape: tuple[int, ...], labels: list[str] | None
) -> NDArray[np.float64]:
    """Convert JSON numbers to float64, refusing booleans, strings, nulls and huge integers."""
    if set(map(type, items)) <= _NUMBER_TYPES:
        try:
            return np.array(items, dtype=np.float64).reshape(shape)
        except OverflowError:
            pass
    for flat, item in enumerate(items):
        if type(item) not in _NUMBER_TYPES:
            shown = "null" if item is None else type(item).__name__
            raise _error(
                "number_type", f"expected a number, got {shown}", _position(flat, shape, labels)
            )
        if isinstance(item, int) and abs(item) >= 2**1024:
            raise _error(
                "number_range", "number too large for float64", _position(flat, shape, labels)
            )
    raise _error("number_type", "expected numbers")  # unreachable in practice


def _flatten_batch(value: list[Any]) -> tuple[list[Any], int]:
    """Flatten a batch, checking it is rectangular; return its items and row length."""
    width = len(value[0])
    items: list[Any] = []
    for row_index, row in enumerate(value):
        if not isinstance(row, list):
            raise _error("batch_shape", "a batch must hold only arrays", row_index)
        if len(row) != width:
            raise _error(
                "ragged_batch",
                f"row {row_index} has {len(row)} values, row 0 has {width}",
                row_index,
            )
        items.extend(row)
    if width == 0:
        raise _error("empty", "a distribution needs at least one event", 0)
    return items, width


# Up to this many events, the sum and the minimum of the JSON numbers are quicker in Python
# than numpy's reductions (each costs a microsecond or so whatever the size).
_SMALL = 64


def _check_values(
    values: NDArray[np.float64],
    labels: list[str] | None,
    nonnegative: bool = True,
    items: list[Any] | None = None,
) -> NDArray[np.float64]:
    """Refuse NaN, infinities and (with ``nonnegative``) negative numbers, naming the first;
    return the values, with ``nonnegative`` any -0.0 made +0.0 (a copy only then).

    -0.0 is >= 0, but ``p / -0.0`` is ``-inf`` where ``p / 0.0`` is ``+inf``: left as it is,
    a probability of -0.0 in ``q`` would turn an infinite divergence into a finite one.
    ``items``, the same numbers as Python ints and floats, lets a short list be checked
    without numpy; anything it finds wrong is then located by the numpy path below."""
    if items is not None and len(items) <= _SMALL:
        total = sum(items)  # NaN or infinite if any number is (or the sum overflows)
        if total - total == 0 and not nonnegative:
            return values
        if total - total == 0 and (low := min(items)) >= 0:
            return _positive_zeros(values) if low == 0 else values
    with np.errstate(over="ignore"):  # huge but finite values may overflow the sum
        total = float(np.add.reduce(values, axis=None))
    if not np.isfinite(total):  # a NaN or an infinity somewhere (or an overflowing sum)
        finite = np.isfinite(values)
        if not finite.all():
            at = _first(~finite, labels)
            raise _error("not_finite", "NaN and infinite numbers are not probabilities", at)
    if not nonnegative:
        return values
    low = float(np.minimum.reduce(values, axis=None))
    if low >= 0:
        return _positive_zeros(values) if low == 0 else values
    negative = values < 0
    at = _first(negative, labels)  # low < 0: there is one
    raise _error("negative", f"probabilities must be >= 0, got {float(values[negative][0])!r}", at)


def _positive_zeros(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``values`` with every -0.0 made +0.0 (``x + 0.0`` is +0.0 for either zero)."""
    if not np.signbit(values).any():
        return values
    fixed: NDArray[np.float64] = values + 0.0
    return fixed


def _first(mask: NDArray[np.bool_], labels: list[str] | None) -> Position:
    flat = int(np.flatnonzero(mask)[0])
    if labels is not None:
        return labels[flat]
    if mask.ndim == 1:
        return flat
    row, col = divmod(flat, mask.shape[1])
    return (row, col)


def _parse(value: Any, nonnegative: bool) -> ParsedDistribution:
    labels: list[str] | None = None
    if isinstance(value, dict):
        labels = list(value)
        items = list(value.values())
        shape: tuple[int, ...] = (len(items),)
    elif isinstance(value, list):
        if value and isinstance(value[0], list):
            items, width = _flatten_batch(value)
            shape = (len(value), width)
        else:
            items = value
            shape = (len(items),)
    else:
        raise _error("distribution_type", "expected an array, an array of arrays or an object")
    if not items:
        raise _error("empty", "a distribution needs at least one event")
    values = _check_values(_to_array(items, shape, labels), labels, nonnegative, items)
    return ParsedDistribution(values=values, labels=labels)


def parse_distribution(value: Any) -> ParsedDistribution:
    """Parse one JSON value (or an array the fast paths made) into a ParsedDistribution."""
    if isinstance(value, ParsedDistribution):
        return value
    if isinstance(value, np.ndarray):
        if value.ndim not in (1, 2):
            shape = value.shape
            raise _error("distribution_shape", f"expected 1-D or 2-D values, got shape {shape}")
        if value.size == 0:
            raise _error("empty", "a distribution needs at least one event")
        values = _check_values(np.asarray(value, dtype=np.float64), None)
        return ParsedDistribution(values=values)
    return _parse(value, nonnegative=True)


def parse_numbers(value: Any) -> NDArray[np.float64]:
    """Parse a JSON array (1-D) or array of equal arrays (2-D) of finite numbers, any sign."""
    if isinstance(value, dict):
        raise _error("array_type", "expected an array or an array of arrays")
    return _parse(value, nonnegative=False).values


Distribution = Annotated[
    ParsedDistribution,
    PlainValidator(parse_distribution, json_schema_input_type=DistributionJSON),
]

Numbers = Annotated[
    NDArray[np.float64],
    PlainValidator(parse_numbers, json_schema_input_type=list[float] | list[list[float]]),
]
