"""The service's wire contract: the models of its answers (and of what requests share with
them), one module per endpoint family, and the vocabularies they use (units, job statuses,
data-set and loss names, measure names). The server validates and documents with the same
models, so that a client and the service it talks to cannot disagree about a field.

::

    from divergence_client.models.measures import DivergenceResponse
    from divergence_client.models.experiments import FINISHED, JobStatus
"""
