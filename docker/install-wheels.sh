#!/bin/sh
# Install an image's wheels offline, from the directory build-wheels.sh filled.
#   docker/install-wheels.sh api|worker|gpu WHEELDIR [PYTHON]
set -eu
target=$1
wheels=$2
python=${3:-python}
case "$target" in
  api) spec="divergence-service" ;;
  worker) spec="divergence-service[worker]" ;;
  gpu) spec="divergence-service[gpu]" ;;
  *) echo "usage: $0 api|worker|gpu WHEELDIR [PYTHON]" >&2; exit 2 ;;
esac
"$python" -m pip install --no-cache-dir --no-index --find-links "$wheels" "$spec"
