"""Small JSON bodies (orjson) and the exact path (stdlib JSON) that words every refusal."""

from __future__ import annotations

import json
from typing import Any

import orjson

from app.api.codec.errors import (
    DuplicateKeyError,
    SurrogateError,
    body_error,
    surrogate_error,
    unique_keys,
)

__all__ = ["exact_json", "small_json"]


def small_json(data: bytes | bytearray) -> Any | None:
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


def exact_json(data: bytes | bytearray) -> Any:
    """The body as Python objects (stdlib JSON), refusing duplicate keys and lone surrogates;
    for small bodies and the rare ones no quicker path takes."""
    try:
        return json.loads(data, object_pairs_hook=unique_keys)
    except DuplicateKeyError as exc:
        raise body_error(str(exc), "duplicate_key") from None
    except SurrogateError:
        raise surrogate_error(data) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise body_error(f"invalid JSON: {exc}", "json_invalid") from None
    except RecursionError:
        raise body_error("the JSON is nested too deeply", "json_invalid") from None
