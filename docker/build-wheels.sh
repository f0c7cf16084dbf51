#!/bin/sh
# Build the wheels an image installs: the project's own (with its C extension), its client
# (./client, divergence-client, which the server depends on) and every dependency, pinned by
# requirements/constraints.txt.
#   docker/build-wheels.sh api|worker|gpu OUTDIR
# The Dockerfile runs this in its build stage; tests/test_containers.py runs it too.
set -eu
target=$1
out=$2
case "$target" in
  api) spec="." ;;
  worker) spec=".[worker]" ;;
  gpu) spec=".[gpu]" ;;
  *) echo "usage: $0 api|worker|gpu OUTDIR" >&2; exit 2 ;;
esac
python -m pip wheel --no-cache-dir --wheel-dir "$out" \
  --constraint requirements/constraints.txt ./client "$spec"
