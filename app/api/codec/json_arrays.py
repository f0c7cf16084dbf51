"""The arrays ``p`` and ``q`` of a large JSON body, read in pieces of about a MiB.

An array is cut at its own separators (commas of its depth, outside strings, as the layout
says) into pieces of about ``CHUNK_BYTES``; each piece is wrapped as a JSON array and parsed
by simdjson (one small parser per thread) into a preallocated float64 array. A piece that is
not JSON makes the body invalid JSON; a piece whose elements are not all numbers (or rows of
the first row's width) is read again to name them, with indices counted from the start of
the array, as one parse of the whole document would. A batch row longer than a piece is
parsed as one piece; an integer beyond 64 bits (which simdjson does not take) makes its
piece go through stdlib JSON.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import numpy as np
import simdjson
from fastapi.exceptions import RequestValidationError
from numpy.typing import NDArray

from app.api.codec.errors import body_error
from app.api.codec.json_layout import WHITESPACE, Layout
from app.api.codec.simd_json import Problems, parser, row_problems, scan_numbers

__all__ = ["CHUNK_BYTES", "UnresolvedError", "cuts", "invalid", "read_array"]

CHUNK_BYTES = 1 << 20
_MAX_FLOAT_INT = 2**1024


class UnresolvedError(Exception):
    """An array flagged as not plain numbers, without a problem this module can name."""


def invalid(exc: Exception | str) -> RequestValidationError:
    return body_error(f"invalid JSON: {exc}", "json_invalid")


def cuts(data: bytes | bytearray, lay: Layout, low: int, high: int, level: int) -> list[int]:
    """Commas of depth ``level`` (the array's own separators), about a chunk apart."""
    cuts: list[int] = []
    target = low + CHUNK_BYTES
    while target < high:
        cut = _cut_before(data, lay, cuts[-1] + 1 if cuts else low, target, level)
        if cut is None:  # no separator of this level in the stretch: a longer piece
            target += CHUNK_BYTES
            continue
        cuts.append(cut)
        target = cut + CHUNK_BYTES
    return cuts


def _cut_before(
    data: bytes | bytearray, lay: Layout, low: int, before: int, level: int
) -> int | None:
    """The last comma of depth ``level`` outside strings in ``[low, before)``, if found in a
    few steps back (out of a string to its quote, out of a nested array to its bracket)."""
    for _ in range(16):
        comma = data.rfind(b",", low, before)
        if comma < 0:
            return None
        quote = lay.in_string(comma)
        if quote >= 0:
            before = quote
            continue
        depth, last = lay.depth_at(comma)
        if depth == level:
            return comma
        before = int(lay.brackets[last])  # inside something nested: step before its bracket
    return None


def read_array(
    data: bytes | bytearray, lay: Layout, opening: int, closing: int, key: str, found: Problems
) -> NDArray[np.float64] | None:
    """The array p or q as float64, or None with its problems added to ``found``."""
    low, high = opening + 1, closing
    first = WHITESPACE.match(data, low).end()  # type: ignore[union-attr]
    if first == high:
        found.add((key,), "a distribution needs at least one event", "empty")
        return None
    batch = data[first] == 0x5B
    level, _ = lay.depth_at(opening + 1)
    bounds = [low, *(c + 1 for c in cuts(data, lay, low, high, level))]
    pieces = list(zip(bounds, [b - 1 for b in bounds[1:]] + [high], strict=True))
    # at most one number per two bytes; pages never written are never resident
    out = np.empty((high - low + 1) // 2, dtype=np.float64)
    filled = rows = 0
    width = -1
    flagged: list[tuple[int, int, int]] = []  # (start, end, index of its first element)
    for a, b in pieces:
        if batch and width < 0:
            width = _first_width(data, a, b)
        opened = _brackets_between(lay, a, b) // 2  # a piece's brackets balance
        count, flat = _plain_numbers(_parse_piece(data, a, b), opened, width if batch else -1)
        if flat is None:
            flagged.append((a, b, rows))
        else:
            out[filled : filled + flat.size] = flat
            filled += flat.size
        rows += count
    if flagged:
        _name_problems(data, flagged, key, batch, width, found)
        return None
    return out[:filled].reshape((rows, width) if batch else (rows,))


def _brackets_between(lay: Layout, a: int, b: int) -> int:
    """Brackets and braces outside strings in ``a:b``."""
    return int(np.searchsorted(lay.brackets, b) - np.searchsorted(lay.brackets, a))


def _parse_piece(data: bytes | bytearray, a: int, b: int) -> Any:
    """Elements ``a:b`` of an array, parsed as one (simdjson, or stdlib JSON for integers
    beyond 64 bits, which simdjson does not take)."""
    text = b"[" + data[a:b] + b"]"
    doc_parser = parser() if len(text) <= 4 * CHUNK_BYTES else simdjson.Parser()
    values: Any
    try:
        values = doc_parser.parse(text)
    except (ValueError, RuntimeError) as exc:
        if "BIGINT" not in str(exc):
            raise invalid(exc) from None
        values = _big_integers(text)
    if len(values) == 0:  # [1,] or [1,,2]: an element is missing
        raise invalid("an array element is missing")
    return values


def _big_integers(text: bytes) -> list[Any]:
    def refuse(token: str) -> float:
        raise ValueError(f"{token} is not JSON")

    def finite(token: str) -> float:
        value = float(token)
        if value - value != 0:
            raise ValueError(f"{token} does not fit a float64")
        return value

    try:
        values: list[Any] = json.loads(text, parse_constant=refuse, parse_float=finite)
    except (ValueError, RecursionError) as exc:
        raise invalid(exc) from None
    return values


def _first_width(data: bytes | bytearray, a: int, b: int) -> int:
    first = _parse_piece(data, a, b)[0]
    return len(first) if isinstance(first, simdjson.Array | list) else 0


def _plain_numbers(
    values: Any, brackets: int, width: int
) -> tuple[int, NDArray[np.float64] | None]:
    """How many elements the piece has, and its numbers as float64 when it holds only numbers
    (``width`` < 0) or rows of ``width`` numbers, with no "[" but the rows' own."""
    count = len(values)
    if (width < 0 and brackets != 0) or (width >= 0 and (brackets != count or width == 0)):
        return count, None
    if width >= 0 and any(
        not isinstance(row, simdjson.Array | list) or len(row) != width for row in values
    ):
        return count, None
    if isinstance(values, list):
        items = values if width < 0 else [x for row in values for x in row]
        if not set(map(type, items)) <= {int, float}:
            return count, None
        try:
            return count, np.array(items, dtype=np.float64)
        except OverflowError:
            return count, None
    try:
        flat = np.frombuffer(values.as_buffer(of_type="d"), dtype=np.float64)
    except TypeError:  # a boolean, string, null or object among the numbers
        return count, None
    return count, (flat if flat.size == count * max(width, 1) else None)


def _name_problems(
    data: bytes | bytearray,
    flagged: list[tuple[int, int, int]],
    key: str,
    batch: bool,
    width: int,
    found: Problems,
) -> None:
    """Name the problems of the flagged pieces, as the whole-document scan would: in a batch
    the rows' shapes first, their numbers only when every row is in shape."""
    before = found.total
    if batch:
        bad = sum(_row_shapes(data, piece, key, width, found) for piece in flagged)
        if bad == 0 and width == 0:
            found.add((key, 0), "a distribution needs at least one event", "empty")
        elif bad == 0:
            for piece in flagged:
                _row_numbers(data, piece, key, found)
    else:
        for piece in flagged:
            _numbers(data, piece, key, found)
    if found.total == before:
        raise UnresolvedError


# one function per piece: its parsed document must be gone before the parser is used again


def _row_shapes(
    data: bytes | bytearray, piece: tuple[int, int, int], key: str, width: int, found: Problems
) -> int:
    a, b, first = piece
    return row_problems(key, enumerate(_parse_piece(data, a, b), first), width, found)


def _row_numbers(
    data: bytes | bytearray, piece: tuple[int, int, int], key: str, found: Problems
) -> None:
    a, b, first = piece
    for row_index, row in enumerate(_parse_piece(data, a, b), first):
        at: tuple[str | int, ...] = (key, row_index)
        scan_numbers(iter(row), partial(_at, at), found)
        _too_large(row, at, found)


def _numbers(
    data: bytes | bytearray, piece: tuple[int, int, int], key: str, found: Problems
) -> None:
    a, b, first = piece
    values = _parse_piece(data, a, b)
    scan_numbers(iter(values), partial(_at, (key,), offset=first), found)
    _too_large(values, (key,), found, first)


def _at(at: tuple[str | int, ...], index: int, offset: int = 0) -> tuple[str | int, ...]:
    return (*at, offset + index)


def _too_large(values: Any, at: tuple[str | int, ...], found: Problems, first: int = 0) -> None:
    """Integers beyond float64 (only stdlib JSON gives Python ints that large)."""
    if isinstance(values, list):
        for index, item in enumerate(values, first):
            if type(item) is int and abs(item) >= _MAX_FLOAT_INT:
                found.add((*at, index), "number too large for float64", "number_range")
