"""Request bodies of the numeric endpoints: JSON, parsed fast, or raw ``.npy`` arrays.

JSON is the default. A body whose ``p`` and ``q`` are plain arrays of numbers (or arrays of
equal rows) is parsed by simdjson and copied into float64 arrays without a Python object per
number; a small body (under 4 KiB) is parsed by orjson, refusing duplicate keys as the exact
path does; any other body (label maps among large arrays, mixed shapes, invalid input) takes
the exact path, stdlib JSON and pydantic, whose errors name the field and index exactly.

``application/x-npy`` bodies skip JSON altogether: one ``.npy`` array (for a pair, ``p`` and
``q`` stacked: shape ``(2, n)`` or ``(2, rows, n)``), read without a copy; the options come
from the query string.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import orjson
import simdjson
from fastapi.exceptions import RequestValidationError
from numpy.lib import format as npy
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import MAX_REPORTED_ERRORS, CappedValidationError

__all__ = ["NPY", "RawBody", "parse_npy", "parse_request"]

NPY = "application/x-npy"
Model = TypeVar("Model", bound=BaseModel)

_OPTION_FIELDS = ("unit", "normalize", "tolerance", "smoothing")


@dataclass(frozen=True)
class RawBody:
    """What the endpoint received, read by the event loop, parsed in the thread pool."""

    content_type: str
    data: bytes | bytearray
    query: dict[str, str]


_FAST_JSON_MIN_BYTES = 4096
# above this, the general path's json.loads would hold the GIL for more than a few ms
_LARGE_JSON_BYTES = 1 << 20
_ARRAYS = ("p", "q")
_ALLOWED = frozenset(_ARRAYS + _OPTION_FIELDS)
_parsers = threading.local()


def _parser() -> simdjson.Parser:
    """One simdjson parser per thread (a parser is not thread-safe)."""
    parser: simdjson.Parser | None = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = simdjson.Parser()
    return parser


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


def _plain(value: Any) -> Any:
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value


def _fast_json(data: bytes | bytearray) -> Any | None:
    """The fields of a body whose arrays are plain numbers, or None for the general path.

    simdjson parses the document without making a Python object per number and copies each
    array into a float64 buffer; booleans, strings and nulls among the numbers, label maps,
    ragged rows, duplicate keys and invalid JSON all fall back to the general path, except in
    a large body (over ``_LARGE_JSON_BYTES``): there the general path would hold the event
    loop's GIL for seconds and make 8 bytes of Python objects per byte, so the problems are
    found here, in short steps, and reported as the general path would word them.
    """
    large = len(data) > _LARGE_JSON_BYTES
    # a parser keeps the capacity of the largest document it parsed: a large body gets its
    # own, freed with it, rather than leaving each pool thread's parser hundreds of MiB
    parser = simdjson.Parser() if large else _parser()
    try:
        document = parser.parse(data)  # bytes or bytearray, parsed in place
    except (ValueError, RuntimeError) as exc:
        if large and "BIGINT" not in str(exc):  # a huge integer is JSON: the general path
            raise _body_error(f"invalid JSON: {exc}", "json_invalid") from None
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
        _refuse_duplicates(keys)
        fields: dict[str, Any] = {}
        problems: list[tuple[str, Any]] = []
        brackets = 0
        for key in keys:
            value = document[key]
            array = _numbers(value) if key in _ARRAYS else None
            if array is not None:
                fields[key] = array
                brackets += 1 if array.ndim == 1 else 1 + array.shape[0]
            elif not large and key in _ARRAYS:
                return None
            elif key in _ARRAYS and isinstance(value, simdjson.Array):
                problems.append((key, value))
            elif isinstance(value, simdjson.Object):  # a label map, or smoothing
                fields[key] = _chunked_dict(value)
            else:
                fields[key] = _plain(value)
        # as_buffer flattens nested arrays, so [[0.5]] in place of 0.5 would pass unseen: every
        # "[" of the body must be one of the arrays' own (an extra one takes the general path)
        if not problems and _count_up_to(data, b"[", brackets + 1) != brackets:
            if not large:
                return None
            problems = [(key, document[key]) for key in keys if key in _ARRAYS]
        if problems:
            errors, total = _array_problems(problems)
            if total == 0:  # nothing this scan can name: let the general path decide
                return None
            raise CappedValidationError(errors, total)
        return fields
    finally:
        del document  # the parser can be reused only once its document is released


def _refuse_duplicates(keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            msg = f"duplicate key {key!r}: each label or field may appear once"
            raise _body_error(msg, "duplicate_key")
        seen.add(key)


def _chunked_dict(value: Any) -> dict[str, Any]:
    """A JSON object as a dict, built in chunks (a million labels in one call would hold the
    GIL for a quarter of a second), refusing duplicate keys as the general path does."""
    out: dict[str, Any] = {}
    items = value.items()
    while chunk := list(itertools.islice(items, _SCAN_CHUNK)):
        plain = [(k, _plain(v)) for k, v in chunk]
        new = dict(plain)
        if len(new) != len(plain) or not out.keys().isdisjoint(new):
            _refuse_duplicates([*out, *(k for k, _ in plain)])
        out.update(new)
    return out


def _array_problems(arrays: list[tuple[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The first problems of arrays that are not plain numbers (or equal rows of them), and
    how many there are: read in chunks, so the event loop's thread gets the GIL between them."""
    errors: list[dict[str, Any]] = []
    total = 0

    def add(loc: tuple[str | int, ...], msg: str, kind: str) -> None:
        nonlocal total
        total += 1
        if len(errors) < MAX_REPORTED_ERRORS:
            errors.append({"loc": ("body", *loc), "msg": msg, "type": kind})

    for key, value in arrays:
        if len(value) == 0:
            add((key,), "a distribution needs at least one event", "empty")
        elif not isinstance(value[0], simdjson.Array):
            _scan_numbers(iter(value), lambda i, key=key: (key, i), add)
        else:
            width, shaped = len(value[0]), True
            for row_index, row in enumerate(value):
                if not isinstance(row, simdjson.Array):
                    add((key, row_index), "a batch must hold only arrays", "batch_shape")
                    shaped = False
                elif len(row) != width:
                    msg = f"row {row_index} has {len(row)} values, row 0 has {width}"
                    add((key, row_index), msg, "ragged_batch")
                    shaped = False
            if shaped and width == 0:
                add((key, 0), "a distribution needs at least one event", "empty")
            elif shaped:
                for row_index, row in enumerate(value):
                    at = (key, row_index)
                    _scan_numbers(iter(row), lambda i, at=at: (*at, i), add)
    return errors, total


_SCAN_CHUNK = 65536
_NUMBER_TYPES = frozenset({int, float})


def _scan_numbers(items: Any, position: Any, add: Any) -> None:
    """Report every element of ``items`` that is not a JSON number (a boolean is not)."""
    offset = 0
    while chunk := list(itertools.islice(items, _SCAN_CHUNK)):
        if not set(map(type, chunk)) <= _NUMBER_TYPES:
            for index, item in enumerate(chunk):
                if type(item) not in _NUMBER_TYPES:
                    add(
                        position(offset + index),
                        f"expected a number, got {_shown(item)}",
                        "number_type",
                    )
        offset += len(chunk)


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


class _DuplicateKeyError(ValueError):
    pass


class _SurrogateError(ValueError):
    pass


_SURROGATE = re.compile("[\ud800-\udfff]")


def _not_unicode(text: str) -> bool:
    """Whether a decoded JSON string holds a lone UTF-16 surrogate (``"\\ud800"`` decodes to
    one; a valid pair decodes to one character): it has no UTF-8 form, so it cannot be a
    label, nor echoed in an answer."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse duplicate keys (json.loads would keep the last one silently) and keys or text
    values that are not Unicode (orjson and simdjson refuse those, json.loads does not)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(f"duplicate key {key!r}: each label or field may appear once")
        if _not_unicode(key) or (isinstance(value, str) and _not_unicode(value)):
            raise _SurrogateError
        out[key] = value
    return out


def _surrogate_error(data: bytes | bytearray) -> RequestValidationError:
    """Name the field whose label or text holds a lone surrogate (an error path: the body is
    parsed again, without checks, to find it)."""
    loc, text = _find_surrogate(json.loads(data), ())
    shown = text.encode("utf-8", "backslashreplace").decode()
    msg = f"{shown!r} is not valid Unicode: it holds a lone UTF-16 surrogate"
    return RequestValidationError([{"loc": ("body", *loc), "msg": msg, "type": "unicode"}])


def _find_surrogate(value: Any, loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str]:
    """The location of the object (or list) holding the first lone surrogate, and its text."""
    if isinstance(value, dict):
        for key, item in value.items():
            if _not_unicode(key) or (isinstance(item, str) and _not_unicode(item)):
                return loc, key if _not_unicode(key) else item
            if isinstance(item, dict | list):
                found = _find_surrogate(item, (*loc, key))
                if found[1]:
                    return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                found = _find_surrogate(item, (*loc, index))
                if found[1]:
                    return found
    return loc, ""


def _body_error(msg: str, kind: str = "npy") -> RequestValidationError:
    return RequestValidationError([{"loc": ("body",), "msg": msg, "type": kind}])


# numpy writes 1.0; 2.0 and 3.0 only widen the header length (3.0 allows UTF-8 field names,
# which no accepted dtype has); any other version is not a format this service can trust
_NPY_VERSIONS = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0,
                 (3, 0): npy.read_array_header_2_0}  # fmt: skip
_NPY_MAX_DIMS = 32


def parse_npy(data: bytes | bytearray) -> NDArray[np.float64]:
    """A ``.npy`` body as a float64 array, without a copy when it is already float64.

    The header is checked before anything is allocated: a known format version, a shape of
    non-negative integers, and exactly as many data bytes as shape and dtype declare."""
    stream = memoryview(data)
    try:
        version = npy.read_magic(_Reader(stream))
    except ValueError as exc:
        raise _body_error(f"not an .npy array: {exc}") from None
    read_header = _NPY_VERSIONS.get(version)
    if read_header is None:
        shown = ".".join(map(str, version))
        raise _body_error(f"unsupported .npy format version {shown} (1.0, 2.0 or 3.0)")
    reader = _Reader(stream, offset=8)
    try:
        shape, fortran, dtype = read_header(reader)
    except Exception as exc:  # a forged header raises ValueError, TokenError, SyntaxError...
        raise _body_error(f"not an .npy array: {exc}") from None
    if dtype.hasobject or dtype.kind not in "fiu":
        raise _body_error(f"unsupported dtype {dtype}")
    if len(shape) > _NPY_MAX_DIMS or not all(type(n) is int and n >= 0 for n in shape):
        raise _body_error(f"the .npy shape {shape!r} is not a list of sizes >= 0")
    count = math.prod(shape)  # a Python int: never wraps around
    received = len(data) - reader.offset
    if received != count * dtype.itemsize:
        raise _body_error(
            f"the .npy header declares shape {shape} of {dtype} ({count * dtype.itemsize} "
            f"bytes of data), the body holds {received}"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=reader.offset)
    array = array.reshape(shape, order="F" if fortran else "C")
    return np.asarray(array, dtype=np.float64)


class _Reader:
    """The minimal file interface numpy's .npy header readers need, over a buffer."""

    def __init__(self, buffer: memoryview, offset: int = 0) -> None:
        self.buffer, self.offset = buffer, offset

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            size = len(self.buffer) - self.offset
        chunk = bytes(self.buffer[self.offset : self.offset + size])
        self.offset += len(chunk)
        return chunk


class _QueryOptions(BaseModel):
    """The options as query parameters, each checked on its own (as the OpenAPI says)."""

    model_config = ConfigDict(extra="ignore")

    unit: Literal["bits", "nats", "bans"] | None = None
    normalize: bool | None = None
    tolerance: float | None = Field(None, ge=0, le=0.5, allow_inf_nan=False)
    smoothing_alpha: float | None = Field(None, gt=0, le=1e6, allow_inf_nan=False)
    smoothing_apply_to: Literal["both", "p", "q"] | None = None


def _query_options(query: dict[str, str]) -> dict[str, Any]:
    """Options given in the query string (``smoothing_*`` fold into ``smoothing``)."""
    if not query:
        return {}
    try:
        given = _QueryOptions.model_validate(query)
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    options: dict[str, Any] = {
        k: getattr(given, k)
        for k in ("unit", "normalize", "tolerance")
        if k in given.model_fields_set
    }
    if given.smoothing_alpha is not None:  # smoothing_apply_to alone changes nothing
        smoothing: dict[str, Any] = {"alpha": given.smoothing_alpha}
        if given.smoothing_apply_to is not None:
            smoothing["apply_to"] = given.smoothing_apply_to
        options["smoothing"] = smoothing
    return options


def _from_npy(body: RawBody, pair: bool) -> dict[str, Any]:
    array = parse_npy(body.data)
    if not pair:
        return {"p": array}
    if array.ndim not in (2, 3) or array.shape[0] != 2:
        raise _body_error(f"a pair is one array of shape (2, n) or (2, rows, n), got {array.shape}")
    return {"p": array[0], "q": array[1]}


def _small_json(data: bytes | bytearray) -> Any | None:
    """A small body parsed by orjson, or None where the exact path must decide.

    orjson refuses NaN and Infinity tokens, invalid UTF-8 and overflowing numbers as the exact
    path does (that path then words the error), but keeps the last of duplicate keys silently.
    Every ':' outside a string separates a key from its value and every '{' outside a string
    opens an object, so when the body holds no more of them than the objects and keys that
    arrived (the top level and its object values: label maps, smoothing), no object is nested
    deeper and no key was dropped. A ':' or '{' inside a string only sends the body the exact
    way."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    objects = (
        [value, *(v for v in value.values() if isinstance(v, dict))]
        if isinstance(value, dict)
        else []
    )
    if data.count(b"{") != len(objects) or data.count(b":") != sum(map(len, objects)):
        return None
    return value


def _from_json(data: bytes | bytearray) -> Any:
    # simdjson pays off on large arrays; a small body is quicker through orjson
    fast = _fast_json if len(data) > _FAST_JSON_MIN_BYTES else _small_json
    fields = fast(data)
    if fields is not None:
        return fields
    try:
        return json.loads(data, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        raise _body_error(str(exc), "duplicate_key") from None
    except _SurrogateError:
        raise _surrogate_error(data) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _body_error(f"invalid JSON: {exc}", "json_invalid") from None
    except RecursionError:
        raise _body_error("the JSON is nested too deeply", "json_invalid") from None


def _fields(body: RawBody, pair: bool) -> tuple[Any, frozenset[str]]:
    """The request's fields, and the names of those that came from the query string.

    Options may come in the query string with either kind of body; one given in both places
    must be the same in both."""
    is_npy = body.content_type.split(";")[0].strip().lower() == NPY
    fields = _from_npy(body, pair) if is_npy else _from_json(body.data)
    options = _query_options(body.query)
    if not options or not isinstance(fields, dict):
        return fields, frozenset()
    for name, value in options.items():
        if name in fields and fields[name] != value:
            where = "smoothing_alpha" if name == "smoothing" else name
            msg = f"{name} is given in the body and, differently, in the query: give it once"
            raise RequestValidationError(
                [{"loc": ("query", where), "msg": msg, "type": "conflict"}]
            )
    from_query = frozenset(k for k in options if k not in fields)
    return {**options, **fields}, from_query


def parse_request(body: RawBody, model: type[Model], pair: bool) -> Model:
    """Validate a numeric request from JSON or ``.npy``; errors as RequestValidationError."""
    fields, from_query = _fields(body, pair)
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = []
        for error in exc.errors()[:MAX_REPORTED_ERRORS]:
            loc = tuple(error["loc"])
            origin = "query" if loc and loc[0] in from_query else "body"
            if origin == "query" and loc[0] == "smoothing" and len(loc) > 1:
                loc = (f"smoothing_{loc[1]}", *loc[2:])
            errors.append({**error, "loc": (origin, *loc)})
        raise CappedValidationError(errors, exc.error_count()) from None
