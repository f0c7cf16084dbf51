"""The transport codec of the numeric endpoints: request bodies (JSON or ``.npy``) and the
query string, decoded into the endpoint's pydantic model.

JSON is the default, decoded by size:

- under 4 KiB: orjson (:mod:`.small_json`), the exact path deciding anything unusual;
- up to 1 MiB: one simdjson parse, arrays copied straight into float64 (:mod:`.simd_json`);
- over 1 MiB: in chunks of about 1 MiB (:mod:`.large_json`), so that no step holds the GIL
  for more than a few milliseconds and the memory stays a fraction of the body's size.

Whatever the path, the same input is refused with the same ``loc``. ``application/x-npy``
bodies (:mod:`.npy`) skip JSON altogether; the options then come from the query string
(:mod:`.query`). :mod:`.request` puts it together; errors are FastAPI's
``RequestValidationError``, rendered as problem+json by :mod:`app.errors`.
"""

from app.api.codec.npy import NPY, parse_npy
from app.api.codec.request import RawBody, parse_request

__all__ = ["NPY", "RawBody", "parse_npy", "parse_request"]
