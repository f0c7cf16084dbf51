"""A Python client for the divergence service, on httpx, synchronous and asynchronous.

::

    from divergence_client import DivergenceClient

    with DivergenceClient("http://127.0.0.1:8000") as client:
        client.kl_divergence([0.5, 0.5], [0.9, 0.1], unit="bits").value   # 0.7369...
        job = client.submit_experiment(dataset="synthetic", epochs=2)
        for event in client.follow(job.id):
            print(event.name, event.data)

Responses are the service's own pydantic models (``divergence_client.models``: the server
validates and documents with the same ones). Every error answer raises
:class:`DivergenceError`, which carries the problem+json document; 429 and 503 answers are
retried with exponential backoff (honouring ``Retry-After``) before that. ``follow`` reads an
experiment's Server-Sent Events and, when the connection drops before the ``end`` event,
reconnects with ``Last-Event-ID``, so that every event arrives once and in order.

The package needs httpx, pydantic and httpx-sse, nothing of the server; numpy only to send
numpy arrays as ``.npy`` bodies (the ``numpy`` extra). The ``divergence`` command is
:mod:`divergence_client.cli`.
"""

from importlib.metadata import PackageNotFoundError, version

from divergence_client._async import AsyncDivergenceClient
from divergence_client._calls import DivergenceError, Event
from divergence_client._sync import DivergenceClient

__all__ = ["AsyncDivergenceClient", "DivergenceClient", "DivergenceError", "Event", "__version__"]

try:
    __version__ = version("divergence-client")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree, not installed
    __version__ = "0+unknown"
