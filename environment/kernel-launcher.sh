#!/usr/bin/env bash
# Jupyter kernel launcher for "carp-kit (TypeScript)": tslab with the kit's settings.
# - one OpenBLAS/OpenMP thread for faiss: OpenBLAS pthreads + OpenMP oversubscribe
#   small machines (architecture §7.1: halves search time on 2 cores);
# - the backend stays automatic unless the user set CARP_BACKEND before starting Jupyter.
here="$(cd "$(dirname "$0")/.." && pwd)"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export CARP_KIT_ROOT="$here"
exec "$here/node_modules/.bin/tslab" kernel --config-path "$1"
