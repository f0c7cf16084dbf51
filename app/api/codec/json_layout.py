"""Where the structure of a large JSON document is, found by vectorised passes over its bytes.

A quote is a string's edge unless an odd run of backslashes precedes it; a byte is inside a
string when an odd number of quotes precedes it; a bracket or brace outside strings opens or
closes a level, and the depth after each is the running sum of +1 and -1. numpy does each
pass over a block of a MiB with the GIL released, so the event loop keeps running meanwhile,
and no pass allocates more than a few bytes per byte of a block. What comes out is small
for the bodies this is for: the positions of the quotes and brackets, with their depths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["WHITESPACE", "Layout", "layout"]

_BLOCK = 1 << 20
_QUOTE, _BACKSLASH = 0x22, 0x5C
# the longest run of backslashes before a quote that is followed: beyond it, None (the caller
# takes the whole-document path)
_MAX_ESCAPE_RUN = 256
WHITESPACE = re.compile(rb"[ \t\n\r]*")


@dataclass(frozen=True)
class Layout:
    """The quotes (string edges, in pairs) and the brackets and braces outside strings of a
    document, by position; ``depth[i]`` is the nesting depth after ``brackets[i]``."""

    quotes: NDArray[np.int64]
    brackets: NDArray[np.int64]
    opens: NDArray[np.bool_]
    depth: NDArray[np.int32]

    def in_string(self, at: int) -> int:
        """The position of the quote opening the string around ``at``, or -1."""
        before = int(np.searchsorted(self.quotes, at))
        return int(self.quotes[before - 1]) if before % 2 else -1

    def depth_at(self, at: int) -> tuple[int, int]:
        """The depth at ``at`` (outside strings), and the index of the last bracket before."""
        last = int(np.searchsorted(self.brackets, at)) - 1
        return (int(self.depth[last]) if last >= 0 else 0), last


def layout(data: bytes | bytearray) -> Layout | None:
    """The layout of ``data``; None where a quote follows a very long run of backslashes.
    ValueError where a string does not end (the document is not JSON)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    quote_blocks: list[NDArray[np.intp]] = []
    bracket_blocks: list[NDArray[np.intp]] = []
    escapes = False
    for start in range(0, len(buf), _BLOCK):
        block = buf[start : start + _BLOCK]
        found = np.flatnonzero(block == _QUOTE)
        if found.size:
            quote_blocks.append(found + start)
        # [ ] { } are 0x5B 0x5D 0x7B 0x7D: with bits 1, 2 and 5 masked, 0x59 (as are Y _ y
        # and DEL, dropped below): one mask and one comparison instead of four
        found = np.flatnonzero((block & 0xD9) == 0x59)
        if found.size:
            bracket_blocks.append(found + start)
        escapes = escapes or data.find(b"\\", start, start + _BLOCK) >= 0  # one memchr
    quotes = _positions(quote_blocks)
    if escapes:
        unescaped = _unescaped(buf, quotes)
        if unescaped is None:
            return None
        quotes = unescaped
    if quotes.size % 2:
        raise ValueError("a string does not end")
    brackets = _positions(bracket_blocks)
    chars = buf[brackets]
    brackets = brackets[(chars == 0x5B) | (chars == 0x5D) | (chars == 0x7B) | (chars == 0x7D)]
    if quotes.size:  # outside strings: an even number of quotes before
        brackets = brackets[np.searchsorted(quotes, brackets) % 2 == 0]
    opens = (buf[brackets] & 0xDF) == 0x5B
    depth = np.cumsum(np.where(opens, 1, -1).astype(np.int32), dtype=np.int32)
    return Layout(quotes, brackets, opens, depth)


def _positions(blocks: list[NDArray[np.intp]]) -> NDArray[np.int64]:
    if not blocks:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(blocks).astype(np.int64, copy=False)


def _unescaped(buf: NDArray[np.uint8], quotes: NDArray[np.int64]) -> NDArray[np.int64] | None:
    """The quotes not escaped: those after an even run of backslashes (``"\\\\"`` ends)."""
    escaped = np.zeros(quotes.size, dtype=bool)
    alive = np.flatnonzero((quotes > 0) & (buf[np.maximum(quotes - 1, 0)] == _BACKSLASH))
    run = 1
    while alive.size:
        if run > _MAX_ESCAPE_RUN:
            return None
        escaped[alive] ^= True  # one more backslash in the run flips the parity
        at = quotes[alive] - run - 1
        alive = alive[(at >= 0) & (buf[np.maximum(at, 0)] == _BACKSLASH)]
        run += 1
    return quotes[~escaped]
