#!/usr/bin/env bash
# Idempotent machine + project set-up for carp-kit (Debian 12, Node 20).
# Each step checks whether it is needed first, so running this again is cheap.
#   1. Debian packages (faiss, OpenBLAS, oneDNN, Fashion-MNIST, Jupyter for headless
#      notebooks)
#   2. npm ci (its postinstall builds the kit's faiss binding against Debian's libfaiss and
#      the native kernels against Debian's oneDNN, offline)
#   3. the library build that notebooks and the CLI import (dist/)
#   4. the Jupyter kernel "carp-kit (TypeScript)" registered inside the project (.jupyter/)
# Set CARP_SETUP_EXTRA=1 to also install the optional peers used by `npm run bench`
# and the checkpoint-parity fixtures (PyTorch, Python faiss, scikit-learn, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

APT_PACKAGES=(libfaiss-dev libopenblas-dev liblapack-dev libdnnl-dev dataset-fashion-mnist
  jupyter-nbconvert python3-nbclient jupyter-client python3-nbformat python3-ipykernel
  jupyter-notebook chromium libjs-mathjax
  libegl1 libegl-mesa0 libgl1-mesa-dri libvulkan1)
# (libjs-mathjax renders the equations of the HTML notebook exports offline;
# the Mesa EGL/Vulkan libraries let the WebGPU backend's software adapter run its tests)
if [ "${CARP_SETUP_EXTRA:-0}" = 1 ]; then
  APT_PACKAGES+=(python3-torch python3-torchvision python3-faiss python3-sklearn)
fi

# --- 1. Debian packages ------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  if ! { $SUDO apt-get update -q >/dev/null && \
         DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }; then
    die "could not install Debian packages; run: apt-get install ${missing[*]}"
  fi
fi

# --- 2. npm dependencies (+ the faiss binding build in postinstall) -----------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund || die "npm ci failed (see the lines above)"
fi
# postinstall is idempotent (re-links carp-kit, which `npm install X` prunes; rebuilds the
# faiss binding and the native kernels only when a binary is missing or stale).
# CARP_FAISS=1, CARP_REQUIRE_NATIVE=1: here both are required (an installed package falls
# back to the exact search and the pure-wasm kernels instead); the failing build prints the
# one line naming the package to install.
CARP_FAISS=1 CARP_REQUIRE_NATIVE=1 node environment/postinstall.mjs \
  || die "native build failed (the line above names what to install; faiss: libfaiss-dev libopenblas-dev liblapack-dev g++, kernels: libdnnl-dev g++)"

# --- 3. library build ------------------------------------------------------------
say "building dist/ (tsc)"
# `npm run build` names node_modules/typescript: node_modules/.bin/tsc may be tslab's
# bundled TypeScript 5.0 (both packages declare a `tsc` bin).
npm run --silent build || die "TypeScript build failed"

# --- 4. Jupyter kernel ---------------------------------------------------------
bash environment/register-kernel.sh >/dev/null || die "kernel registration failed (is jupyter-client installed?)"
say "ready (backend chosen at run time; CARP_BACKEND forces one)"
