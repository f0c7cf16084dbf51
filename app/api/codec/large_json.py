"""Large JSON bodies (over 1 MiB), parsed in chunks of about a MiB.

One simdjson parse of a 40 MB document holds the GIL for about 150 ms (the event loop, and
``/healthz`` with it, stall meanwhile) and takes about 10x the body in its buffers. Here the
structure of the document is found first with numpy (:mod:`.json_layout`); then each array
``p`` and ``q`` is read in pieces of about a MiB (:mod:`.json_arrays`) into a preallocated
float64 array. No step holds the GIL for more
than a few milliseconds; the memory is the output plus a few MiB.

Strictness is that of the whole-document parse: the same refusals with the same ``loc``.
The top level (keys, options, label maps, smoothing) is parsed as a small
document of its own, each array or object replaced by a placeholder.

Left to the whole-document parse (:func:`.simd_json.whole_json`): a document that is not an
object, one with more than ``_MAX_SPANS`` array or object values at the top level, a quote
after more than 256 backslashes, an integer beyond 64 bits among the options, and arrays
whose problems this module cannot name. Label maps are parsed whole as before (one
simdjson parse of the map, then a dict built in chunks); a batch row longer than a chunk is
parsed as one piece.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simdjson
from fastapi.exceptions import RequestValidationError

from app.api.codec.errors import refuse_duplicates
from app.api.codec.json_arrays import CHUNK_BYTES, UnresolvedError, invalid, read_array
from app.api.codec.json_layout import WHITESPACE, Layout, layout
from app.api.codec.simd_json import ARRAYS, Problems, chunked_dict, parser, plain, whole_json

__all__ = ["large_json"]

_MAX_SPANS = 16


def large_json(data: bytes | bytearray) -> Any | None:
    """The fields of a large body, arrays as float64; None for the exact path."""
    start = WHITESPACE.match(data).end()  # type: ignore[union-attr]
    if start < len(data) and data[start] == 0x5B:
        return []  # an array, not an object: the model refuses it as it refuses any
    if start == len(data) or data[start] != 0x7B:
        return whole_json(data)
    try:
        found_layout = layout(data)
    except ValueError as exc:
        raise invalid(exc) from None
    if found_layout is None:
        return whole_json(data)
    spans = _top_spans(data, found_layout, start)
    if spans is None:
        return whole_json(data)
    try:
        return _fields(data, found_layout, spans)
    except UnresolvedError:
        return whole_json(data)


def _top_spans(data: bytes | bytearray, lay: Layout, start: int) -> list[tuple[int, int]] | None:
    """(opening, closing) positions of the arrays and objects at the top level."""
    brackets, depth = lay.brackets, lay.depth
    end = int(brackets[-1]) if brackets.size else -1
    if (
        brackets.size < 2
        or brackets[0] != start
        or depth[-1] != 0
        or int(depth[:-1].min()) < 1
        or data[end] != 0x7D
        or WHITESPACE.match(data, end + 1).end() != len(data)  # type: ignore[union-attr]
    ):
        raise invalid("the brackets do not balance, or something follows the document")
    opens = brackets[(depth == 2) & lay.opens]
    closes = brackets[(depth == 1) & ~lay.opens]
    if opens.size > _MAX_SPANS:
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    if np.any(buf[closes].astype(np.int16) - buf[opens] != 2):  # [ ... } or { ... ]
        raise invalid("a bracket closes what a brace opened, or the reverse")
    return [(int(o), int(c)) for o, c in zip(opens, closes, strict=True)]


def _fields(data: bytes | bytearray, lay: Layout, spans: list[tuple[int, int]]) -> Any:
    entries = _top_level(data, spans)
    keys = [key for key, _ in entries]
    duplicate: RequestValidationError | None = None
    try:
        refuse_duplicates(keys)
    except RequestValidationError as exc:
        duplicate = exc  # named once every piece is known to be JSON, as a whole parse would
    fields: dict[str, Any] = {}
    found = Problems()
    for key, (is_span, value) in entries:
        if not is_span:
            fields[key] = value
            continue
        opening, closing = spans[value]
        if key in ARRAYS and data[opening] == 0x5B:
            array = read_array(data, lay, opening, closing, key, found)
            if array is not None:
                fields[key] = array
            continue
        try:
            fields[key] = _span_value(data, opening, closing)
        except RequestValidationError as exc:
            if exc.errors()[0]["type"] != "duplicate_key":
                raise
            duplicate = duplicate or exc
    if duplicate is not None:
        raise duplicate
    if found.total:
        raise found.error()
    return fields


def _top_level(data: bytes | bytearray, spans: list[tuple[int, int]]) -> list[tuple[str, Any]]:
    """The top level's (key, (True, span index) or (False, value)), in document order."""
    parts: list[bytes | bytearray] = []
    at = WHITESPACE.match(data).end()  # type: ignore[union-attr]
    for index, (opening, closing) in enumerate(spans):
        parts += [data[at:opening], b"[%d]" % index]
        at = closing + 1
    parts.append(data[at:])
    skeleton = b"".join(parts)
    doc_parser = parser() if len(skeleton) <= 4 * CHUNK_BYTES else simdjson.Parser()
    try:
        document = doc_parser.parse(skeleton)
    except (ValueError, RuntimeError) as exc:
        if "BIGINT" in str(exc):  # an integer beyond 64 bits as an option
            raise UnresolvedError from None
        raise invalid(exc) from None
    try:
        if not isinstance(document, simdjson.Object):
            raise invalid("the document is not an object")
        # items() gives every pair, a repeated key too; the placeholders come back as lists
        return [
            (key, (True, int(value[0])) if isinstance(value, list) else (False, value))
            for key, value in document.items()
        ]
    finally:
        del document


def _span_value(data: bytes | bytearray, opening: int, closing: int) -> Any:
    """An object (a label map, smoothing) or an array that is not p or q, as Python."""
    text = bytes(data[opening : closing + 1])
    doc_parser = parser() if len(text) <= 4 * CHUNK_BYTES else simdjson.Parser()
    try:
        document = doc_parser.parse(text)
    except (ValueError, RuntimeError) as exc:
        raise invalid(exc) from None
    try:
        return chunked_dict(document) if isinstance(document, simdjson.Object) else plain(document)
    finally:
        del document
