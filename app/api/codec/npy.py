"""``application/x-npy`` bodies: one ``.npy`` array, read without a copy when it is float64.

For a pair, ``p`` and ``q`` come stacked in one array: shape ``(2, n)`` or ``(2, rows, n)``.
The header is checked before anything is allocated, and an array of a narrow type (one-byte
integers) whose float64 form would outgrow the memory rule (4x the bytes received plus
``NPY_SLACK_BYTES``) is refused with 413 before it is converted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib import format as npy
from numpy.typing import NDArray

from app.api.codec.errors import body_error
from app.api.limits import BodyTooLargeError

__all__ = ["NPY", "NPY_SLACK_BYTES", "from_npy", "parse_npy"]

NPY = "application/x-npy"
# the small constant of the memory rule: an array of narrow type expanding to float64 may
# take up to 4x the body plus this much (a 4 MiB int8 body, 32 MiB as float64, still passes)
NPY_SLACK_BYTES = 16 * 2**20

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
        raise body_error(f"not an .npy array: {exc}") from None
    read_header = _NPY_VERSIONS.get(version)
    if read_header is None:
        shown = ".".join(map(str, version))
        raise body_error(f"unsupported .npy format version {shown} (1.0, 2.0 or 3.0)")
    reader = _Reader(stream, offset=8)
    try:
        shape, fortran, dtype = read_header(reader)
    except Exception as exc:  # a forged header raises ValueError, TokenError, SyntaxError...
        raise body_error(f"not an .npy array: {exc}") from None
    if dtype.hasobject or dtype.kind not in "fiu":
        raise body_error(f"unsupported dtype {dtype}")
    if len(shape) > _NPY_MAX_DIMS or not all(type(n) is int and n >= 0 for n in shape):
        raise body_error(f"the .npy shape {shape!r} is not a list of sizes >= 0")
    count = math.prod(shape)  # a Python int: never wraps around
    received = len(data) - reader.offset
    if received != count * dtype.itemsize:
        raise body_error(
            f"the .npy header declares shape {shape} of {dtype} ({count * dtype.itemsize} "
            f"bytes of data), the body holds {received}"
        )
    _refuse_expansion(count, dtype, len(data))
    array = np.frombuffer(data, dtype=dtype, count=count, offset=reader.offset)
    array = array.reshape(shape, order="F" if fortran else "C")
    return np.asarray(array, dtype=np.float64)


def _refuse_expansion(count: int, dtype: np.dtype[Any], received: int) -> None:
    """413 for an array whose float64 form breaks the memory rule (int8 and uint8 grow 8x)."""
    wide = count * 8
    if dtype.itemsize < 8 and wide > 4 * received + NPY_SLACK_BYTES:
        raise BodyTooLargeError(
            f"the .npy array of {count} {dtype} values takes {wide} bytes as float64, more "
            f"than this service's limit of 4x the {received} bytes received plus "
            f"{NPY_SLACK_BYTES} bytes: send float32 or float64 values, or a smaller array"
        )


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


def from_npy(data: bytes | bytearray, pair: bool) -> dict[str, Any]:
    """The request's arrays from a ``.npy`` body (``p``, and ``q`` for a pair)."""
    array = parse_npy(data)
    if not pair:
        return {"p": array}
    if array.ndim not in (2, 3) or array.shape[0] != 2:
        raise body_error(f"a pair is one array of shape (2, n) or (2, rows, n), got {array.shape}")
    return {"p": array[0], "q": array[1]}
