"""A Python client for the divergence service, on httpx, synchronous and asynchronous.

::

    from app.client import DivergenceClient

    with DivergenceClient("http://127.0.0.1:8000") as client:
        client.kl_divergence([0.5, 0.5], [0.9, 0.1], unit="bits").value   # 0.7369...
        job = client.submit_experiment(dataset="synthetic", epochs=2)
        for event in client.follow(job.id):
            print(event.name, event.data)

Responses are the service's own pydantic models. Every error answer raises
:class:`DivergenceError`, which carries the problem+json document; 429 and 503 answers are
retried with exponential backoff (honouring ``Retry-After``) before that. ``follow`` reads an
experiment's Server-Sent Events and, when the connection drops before the ``end`` event,
reconnects with ``Last-Event-ID``, so that every event arrives once and in order.
"""

from app.client._async import AsyncDivergenceClient
from app.client._calls import DivergenceError, Event
from app.client._sync import DivergenceClient

__all__ = ["AsyncDivergenceClient", "DivergenceClient", "DivergenceError", "Event"]
