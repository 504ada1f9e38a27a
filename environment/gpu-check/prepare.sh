#!/usr/bin/env bash
# Builds environment/gpu-check/.bundle/ HERE (where npm and apt work) for the device check
# (environment/gpu-check.sh), which runs on a machine with no network.
#
# Contents (≈ 32 MiB; the device tool carries at most 64 MiB with the whole tree):
#   check.js                     environment/gpu-check/src/main.ts + the kit + tfjs, one
#                                CommonJS file (esbuild, which ships inside tsx/vite)
#   *.wasm                       tfjs-backend-wasm's binaries (found next to check.js)
#   node_modules/webgpu/         index.js, package.json, dist/linux-x64/dawn.node.xz — the
#                                ESM loader finds dawn.node from import.meta.url, so the
#                                package stays a package (not bundled)
#   node.xz                      this machine's Node binary (NodeSource build: links only
#                                glibc/libstdc++, 99 MB → 24 MB with xz)
#   debs/                        Debian's Vulkan loader (libvulkan1), libglvnd0 (NVIDIA's
#                                Vulkan ICD, libGLX_nvidia, needs libGLdispatch) and libegl1
#                                (Dawn's OpenGL ES fallback route), unpacked on the device
#                                only when its system lacks them
#   manifest.json                versions, sizes, build time
#
# Usage: bash environment/gpu-check/prepare.sh
# Then on the device machine (tool `run`, carry ["environment/gpu-check/.bundle"]):
#   bash environment/gpu-check.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B="$HERE/.bundle"
cd "$ROOT"
step() { printf '[prepare %s] %s\n' "$(date +%T)" "$*"; }

[ "$(uname -m)" = x86_64 ] || { echo "prepare.sh: must run on x86-64 (the device is x86-64)" >&2; exit 1; }
[ -x node_modules/.bin/esbuild ] || { echo "prepare.sh: node_modules/.bin/esbuild missing (npm ci first)" >&2; exit 1; }

step "type-checking the check's sources"
# Errors in the check or the webgpu backend stop the build; others' work in progress
# elsewhere in src/ only warns (esbuild does not need types).
if ! out=$(node_modules/.bin/tsc -p environment/gpu-check/tsconfig.json 2>&1); then
  if grep -E '^(environment/gpu-check|src/backend/webgpu)' <<<"$out"; then
    echo "prepare.sh: type errors in the check (above)" >&2
    exit 1
  fi
  echo "warning: type errors elsewhere in src/ (not in the check):" >&2
  head -n 5 <<<"$out" >&2
fi

rm -rf "$B"
mkdir -p "$B/node_modules/webgpu/dist/linux-x64" "$B/debs"

step "bundling check.js"
# `webgpu` is imported through a variable specifier (src/backend/webgpu/dawn.ts), which
# esbuild leaves as a runtime import() resolved from check.js's folder.
node_modules/.bin/esbuild environment/gpu-check/src/main.ts --bundle --platform=node \
  --target=node20 --format=cjs --outfile="$B/check.js" --external:webgpu \
  --log-level=error --log-override:unsupported-dynamic-import=silent
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$B/"

step "packing webgpu (Dawn) and node"
# xz of the 99 MB node binary takes minutes on 2 busy cores: compressed files are cached
# (git-ignored .cache/) by content hash.
packed() { # packed SRC DST: DST = xz(SRC), through the cache
  local cached
  cached="$HERE/.cache/$(sha256sum "$1" | cut -c1-16).xz"
  mkdir -p "$HERE/.cache"
  if [ ! -s "$cached" ]; then
    xz -T2 -6 -c "$1" >"$cached.tmp"
    mv -f "$cached.tmp" "$cached"
  fi
  cp "$cached" "$2"
}
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$B/node_modules/webgpu/"
packed node_modules/webgpu/dist/linux-x64/dawn.node "$B/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
NODE_BIN=$(readlink -f "$(command -v node)")
if ldd "$NODE_BIN" | grep -q libnode; then
  echo "prepare.sh: $NODE_BIN links libnode (Debian build); carry a NodeSource/official build instead" >&2
  exit 1
fi
packed "$NODE_BIN" "$B/node.xz"

step "downloading Debian packages (Vulkan loader, libglvnd, EGL)"
DEBS="libvulkan1 libglvnd0 libegl1"
(cd "$B/debs" && { apt-get download $DEBS >/dev/null 2>&1 ||
  { apt-get update -qq && apt-get download $DEBS >/dev/null; }; })

cat >"$B/manifest.json" <<EOF
{
  "built": "$(date -u +%FT%TZ)",
  "gitHead": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
  "node": "$("$NODE_BIN" --version)",
  "webgpu": "$(node -p 'require("./node_modules/webgpu/package.json").version')",
  "tfjsBackendWebgpu": "$(node -p 'require("./node_modules/@tensorflow/tfjs-backend-webgpu/package.json").version')",
  "debs": [$(cd "$B/debs" && ls *.deb | sed 's/.*/"&"/' | paste -sd,)]
}
EOF

TOTAL=$(du -sb "$B" | cut -f1)
step "bundle ready: $B ($((TOTAL / 1024 / 1024)) MiB)"
du -ah "$B" | sort -k2 | sed 's/^/  /'
if [ "$TOTAL" -gt $((48 * 1024 * 1024)) ]; then
  echo "prepare.sh: bundle over 48 MiB; the device tool carries 64 MiB with the whole tree" >&2
  exit 1
fi
