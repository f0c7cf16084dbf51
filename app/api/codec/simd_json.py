"""Medium JSON bodies (4 KiB to 1 MiB), and every body the chunked path leaves: one simdjson
parse of the whole document, each array copied into float64 without a Python object per
number.

Also the pieces the chunked path (:mod:`.large_json`) shares: one parser per thread, label
maps built in chunks, and the scan that names the elements that are not numbers.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import simdjson
from numpy.typing import NDArray

from app.api.codec.errors import body_error, refuse_duplicates
from app.api.codec.query import OPTION_FIELDS
from app.errors import MAX_REPORTED_ERRORS, CappedValidationError

__all__ = [
    "ARRAYS",
    "LARGE_JSON_BYTES",
    "Problems",
    "chunked_dict",
    "parser",
    "plain",
    "scan_numbers",
    "whole_json",
]

# above this, one parse of the whole document would hold the GIL for more than a few ms
LARGE_JSON_BYTES = 1 << 20
ARRAYS = ("p", "q")
_ALLOWED = frozenset(ARRAYS + OPTION_FIELDS)
_SCAN_CHUNK = 65536
_NUMBER_TYPES = frozenset({int, float})
_parsers = threading.local()

Loc = tuple[str | int, ...]


def parser() -> simdjson.Parser:
    """One simdjson parser per thread (a parser is not thread-safe). It keeps the capacity of
    the largest document it parsed: give it documents of a MiB or so, no larger."""
    found: simdjson.Parser | None = getattr(_parsers, "parser", None)
    if found is None:
        found = _parsers.parser = simdjson.Parser()
    return found


class Problems:
    """The first ``MAX_REPORTED_ERRORS`` problems of a body, and how many there are."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.total = 0

    def add(self, loc: Loc, msg: str, kind: str) -> None:
        self.total += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"loc": ("body", *loc), "msg": msg, "type": kind})

    def error(self) -> CappedValidationError:
        return CappedValidationError(self.errors, self.total)


def _numbers(value: Any) -> NDArray[np.float64] | None:
    """A JSON array of numbers (1-D) or of equally long arrays of numbers (2-D), as float64
    straight from the parsed document; None for anything else (the general path explains)."""
    if not isinstance(value, simdjson.Array) or len(value) == 0:
        return None
    rows = len(value)
    if isinstance(value[0], simdjson.Array):
        widths = {len(row) if isinstance(row, simdjson.Array) else -1 for row in value}
        if len(widths) != 1 or (width := widths.pop()) <= 0:
            return None
        shape: tuple[int, ...] = (rows, width)
    else:
        shape = (rows,)
    try:
        flat = np.frombuffer(value.as_buffer(of_type="d"), dtype=np.float64)
    except TypeError:  # a boolean, string or null among the numbers
        return None
    if flat.size != int(np.prod(shape)):  # deeper nesting was flattened away
        return None
    return flat.reshape(shape)


def plain(value: Any) -> Any:
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value


def whole_json(data: bytes | bytearray) -> Any | None:
    """The fields of a body whose arrays are plain numbers, or None for the exact path.

    simdjson parses the document without making a Python object per number and copies each
    array into a float64 buffer; booleans, strings and nulls among the numbers, label maps,
    ragged rows, duplicate keys and invalid JSON all fall back to the exact path, except in
    a large body (over ``LARGE_JSON_BYTES``, which gets here only when the chunked path
    cannot follow its structure): there the exact path would hold the event loop's GIL for
    seconds and make 8 bytes of Python objects per byte, so the problems are found here, in
    short steps, and reported as the exact path would word them.
    """
    large = len(data) > LARGE_JSON_BYTES
    # a parser keeps the capacity of the largest document it parsed: a large body gets its
    # own, freed with it, rather than leaving each pool thread's parser hundreds of MiB
    doc_parser = simdjson.Parser() if large else parser()
    try:
        document = doc_parser.parse(data)  # bytes or bytearray, parsed in place
    except (ValueError, RuntimeError) as exc:
        if large and "BIGINT" not in str(exc):  # a huge integer is JSON: the exact path
            raise body_error(f"invalid JSON: {exc}", "json_invalid") from None
        return None
    try:
        if not isinstance(document, simdjson.Object):
            # the model refuses any array the same way: an empty one costs nothing
            return [] if large and isinstance(document, simdjson.Array) else None
        keys = list(document.keys())
        if not large and (
            len(set(keys)) != len(keys) or not set(keys) <= _ALLOWED or "p" not in keys
        ):
            return None
        refuse_duplicates(keys)
        fields: dict[str, Any] = {}
        problems: list[tuple[str, Any]] = []
        brackets = 0
        for key in keys:
            value = document[key]
            array = _numbers(value) if key in ARRAYS else None
            if array is not None:
                fields[key] = array
                brackets += 1 if array.ndim == 1 else 1 + array.shape[0]
            elif not large and key in ARRAYS:
                return None
            elif key in ARRAYS and isinstance(value, simdjson.Array):
                problems.append((key, value))
            elif isinstance(value, simdjson.Object):  # a label map, or smoothing
                fields[key] = chunked_dict(value)
            else:
                fields[key] = plain(value)
        # as_buffer flattens nested arrays, so [[0.5]] in place of 0.5 would pass unseen: every
        # "[" of the body must be one of the arrays' own (an extra one takes the exact path)
        if not problems and _count_up_to(data, b"[", brackets + 1) != brackets:
            if not large:
                return None
            problems = [(key, document[key]) for key in keys if key in ARRAYS]
        if problems:
            found = Problems()
            for key, value in problems:
                array_problems(key, value, found)
            if found.total == 0:  # nothing this scan can name: let the exact path decide
                return None
            raise found.error()
        return fields
    finally:
        del document  # the parser can be reused only once its document is released


def chunked_dict(value: Any) -> dict[str, Any]:
    """A JSON object as a dict, built in chunks (a million labels in one call would hold the
    GIL for a quarter of a second), refusing duplicate keys as the exact path does."""
    out: dict[str, Any] = {}
    items = value.items()
    while chunk := list(itertools.islice(items, _SCAN_CHUNK)):
        pairs = [(k, plain(v)) for k, v in chunk]
        new = dict(pairs)
        if len(new) != len(pairs) or not out.keys().isdisjoint(new):
            refuse_duplicates([*out, *(k for k, _ in pairs)])
        out.update(new)
    return out


def array_problems(key: str, value: Any, found: Problems) -> None:
    """The problems of one array that is not plain numbers (or equal rows of them), read in
    chunks, so the event loop's thread gets the GIL between them."""
    if len(value) == 0:
        found.add((key,), "a distribution needs at least one event", "empty")
    elif not isinstance(value[0], simdjson.Array):
        scan_numbers(iter(value), lambda i: (key, i), found)
    else:
        width = len(value[0])
        if row_problems(key, enumerate(value), width, found) == 0:
            if width == 0:
                found.add((key, 0), "a distribution needs at least one event", "empty")
            else:
                for row_index, row in enumerate(value):
                    scan_numbers(iter(row), partial(_at, (key, row_index)), found)


def row_problems(key: str, rows: Iterator[tuple[int, Any]], width: int, found: Problems) -> int:
    """Report the rows of a batch that are not arrays of ``width`` elements; how many."""
    bad = 0
    for row_index, row in rows:
        if not isinstance(row, simdjson.Array | list):
            found.add((key, row_index), "a batch must hold only arrays", "batch_shape")
            bad += 1
        elif len(row) != width:
            msg = f"row {row_index} has {len(row)} values, row 0 has {width}"
            found.add((key, row_index), msg, "ragged_batch")
            bad += 1
    return bad


def scan_numbers(items: Iterator[Any], position: Callable[[int], Loc], found: Problems) -> None:
    """Report every element of ``items`` that is not a JSON number (a boolean is not)."""
    offset = 0
    while chunk := list(itertools.islice(items, _SCAN_CHUNK)):
        if not set(map(type, chunk)) <= _NUMBER_TYPES:
            for index, item in enumerate(chunk):
                if type(item) not in _NUMBER_TYPES:
                    msg = f"expected a number, got {_shown(item)}"
                    found.add(position(offset + index), msg, "number_type")
        offset += len(chunk)


def _at(at: Loc, index: int) -> Loc:
    return (*at, index)


def _shown(item: Any) -> str:
    if item is None:
        return "null"
    if isinstance(item, simdjson.Array):
        return "list"
    if isinstance(item, simdjson.Object):
        return "dict"
    return type(item).__name__


def _count_up_to(data: bytes | bytearray, byte: bytes, limit: int) -> int:
    """Occurrences of ``byte`` in ``data``, counting no further than ``limit``; one memchr
    per occurrence, several times quicker than ``count`` when there are few of them."""
    count, at = 0, data.find(byte)
    while at >= 0 and count < limit:
        count += 1
        at = data.find(byte, at + 1)
    return count
