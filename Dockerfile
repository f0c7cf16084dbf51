# syntax=docker/dockerfile:1.7
# Three images from one file:
#   docker build --target api        -t divergence-api .         # the API, without TensorFlow
#   docker build --target worker     -t divergence-worker .      # a worker, TensorFlow on CPU
#   docker build --target worker-gpu -t divergence-worker-gpu .  # a worker, JAX on an NVIDIA GPU
# docker-compose.yml builds them (worker-gpu under its profile "gpu"). No secret is baked in: every setting comes from the
# environment at run time (see README, "Configuration").

ARG PYTHON_BUILD=python:3.11.14-bookworm
ARG PYTHON_RUNTIME=python:3.11.14-slim-bookworm

# --- build: wheels for the project (C extension compiled here), its client (./client, the
# wire models the server shares; it holds the one VERSION) and their dependencies ----------
FROM ${PYTHON_BUILD} AS build-base
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY requirements/constraints.txt requirements/constraints.txt
COPY docker/build-wheels.sh docker/build-wheels.sh
COPY client client
COPY app app

FROM build-base AS build-api
RUN docker/build-wheels.sh api /wheels

FROM build-base AS build-worker
RUN docker/build-wheels.sh worker /wheels

FROM build-base AS build-worker-gpu
RUN docker/build-wheels.sh gpu /wheels

# --- runtime: slim, non-root ---------------------------------------------------------------
FROM ${PYTHON_RUNTIME} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DIVERGENCE_DATA_DIR=/data \
    DIVERGENCE_KERAS_HOME=/home/app/.keras
# Fonts for the PNG pictures (resvg renders text with the system's fonts).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core=2.37-6 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app \
    && mkdir -p /data /home/app/.keras \
    && chown app:app /data /home/app/.keras
WORKDIR /home/app
COPY docker/install-wheels.sh /usr/local/bin/install-wheels

FROM runtime AS api
RUN --mount=type=bind,from=build-api,source=/wheels,target=/wheels \
    install-wheels api /wheels
ENV DIVERGENCE_HOST=0.0.0.0 \
    DIVERGENCE_PORT=8000 \
    DIVERGENCE_EMBEDDED_WORKER=false
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "app.healthcheck", "api"]
CMD ["python", "-m", "app"]

FROM runtime AS worker
RUN --mount=type=bind,from=build-worker,source=/wheels,target=/wheels \
    install-wheels worker /wheels
ENV KERAS_BACKEND=tensorflow \
    TF_CPP_MIN_LOG_LEVEL=2
USER 10001:10001
VOLUME ["/home/app/.keras"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "app.healthcheck", "worker"]
CMD ["python", "-m", "app.worker"]

# A GPU worker: Keras on JAX, whose CUDA 12 libraries come as wheels (the gpu extra), so the
# same slim base serves; the host needs only the NVIDIA driver and container toolkit, and the
# container a GPU (compose: the worker-gpu service of the profile "gpu").
FROM runtime AS worker-gpu
RUN --mount=type=bind,from=build-worker-gpu,source=/wheels,target=/wheels \
    install-wheels gpu /wheels
ENV KERAS_BACKEND=jax \
    DIVERGENCE_KERAS_BACKEND=jax \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 10001:10001
VOLUME ["/home/app/.keras"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "app.healthcheck", "worker"]
CMD ["python", "-m", "app.worker"]
