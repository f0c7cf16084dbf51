"""The background worker: data sets, the article's ConvNet, and the job runner.

Only this package imports keras, and only in the modules that train (``model``,
``experiment``, and the loaders in ``datasets``); the catalog of data sets is ``app.catalog``,
shared with the API.
"""
