"""Errors of the codec, worded as the exact path (stdlib JSON and pydantic) words them."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.exceptions import RequestValidationError

__all__ = [
    "DuplicateKeyError",
    "SurrogateError",
    "body_error",
    "refuse_duplicates",
    "surrogate_error",
    "unique_keys",
]


def body_error(msg: str, kind: str = "npy") -> RequestValidationError:
    """An error about the body as a whole (``loc`` ``["body"]``)."""
    return RequestValidationError([{"loc": ("body",), "msg": msg, "type": kind}])


def refuse_duplicates(keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            msg = f"duplicate key {key!r}: each label or field may appear once"
            raise body_error(msg, "duplicate_key")
        seen.add(key)


class DuplicateKeyError(ValueError):
    pass


class SurrogateError(ValueError):
    pass


_SURROGATE = re.compile("[\ud800-\udfff]")


def _not_unicode(text: str) -> bool:
    """Whether a decoded JSON string holds a lone UTF-16 surrogate (``"\\ud800"`` decodes to
    one; a valid pair decodes to one character): it has no UTF-8 form, so it cannot be a
    label, nor echoed in an answer."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse duplicate keys (json.loads would keep the last one silently) and keys or text
    values that are not Unicode (orjson and simdjson refuse those, json.loads does not)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"duplicate key {key!r}: each label or field may appear once")
        if _not_unicode(key) or (isinstance(value, str) and _not_unicode(value)):
            raise SurrogateError
        out[key] = value
    return out


def surrogate_error(data: bytes | bytearray) -> RequestValidationError:
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
