#!/usr/bin/env bash
# The whole test suite: typecheck, lint, formatting, unit tests, notebook execution.
# Prints one closing summary line "N passed, N failed, N skipped" (vitest's counts).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-output
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export CARP_PRESET="${CARP_PRESET:-fmnist-tiny}"
# WebGPU on Mesa's software adapter: slow but exact, so a few small checks run in CI.
export CARP_TEST_WEBGPU="${CARP_TEST_WEBGPU:-1}"
# The native (OpenBLAS) kernels must have been built by set-up: a missing addon fails a
# test instead of silently testing the pure-wasm path only (src/backend/native).
export CARP_REQUIRE_NATIVE="${CARP_REQUIRE_NATIVE:-1}"
# Likewise faiss: with CARP_FAISS=1 a missing binding is an error, not the exact fallback
# (whose own tests switch it on explicitly).
export CARP_FAISS="${CARP_FAISS:-1}"
status=0
step() { printf '\n== %s\n' "$1"; }

step "typecheck"; npm run --silent typecheck || status=1
step "lint"; npx eslint . || status=1
step "format"; npx prettier --check . >/dev/null || { npx prettier --check . | tail -20; status=1; }
# The API reference from the JSDoc (TypeDoc, typedoc.json): a broken link or tag fails.
step "API reference (typedoc)"; npm run --silent docs:api >/dev/null || { npm run --silent docs:api | tail -20; status=1; }
step "unit + notebook tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/vitest.json || status=1

summary=$(node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync("test-output/vitest.json", "utf8"));
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  } catch (e) { console.log("0 passed, 1 failed"); }
')
[ "$status" = 0 ] || echo "checks failed (typecheck, lint, format or tests: see above)"
echo "$summary"
exit $status
