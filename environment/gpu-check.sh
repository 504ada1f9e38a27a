#!/usr/bin/env bash
# carp-kit device check: the webgpu backend (Dawn over Vulkan) on a real GPU, offline.
#
# Prepared here with `bash environment/gpu-check/prepare.sh`, which fills the git-ignored
# environment/gpu-check/.bundle/ (≈ 34 MiB: bundled check.js, dawn.node, Node, Vulkan
# loader .debs). On the device machine (x86-64, NVIDIA driver, no network, root), with
# that folder carried:
#   bash environment/gpu-check.sh
# It unpacks into a private folder (never into /), finds the NVIDIA Vulkan ICD, prints the
# adapter, compares one CARP step on webgpu with the CPU backend, reports train-step and
# feature-extraction images/s, profiles one train step by kernel (GPU timestamp queries)
# and times larger batches (GPU_CHECK_SWEEP, default 128,256) while the deadline allows,
# and writes $OUT/gpu-check.json and $OUT/gpu-check.log.
# Exit status: that of check.js (0 pass, 1 comparison failed, 2 no webgpu adapter,
# 3 deadline, 4 error), or 5 when the bundle is missing or cannot be unpacked.
#
# Overrides: GPU_CHECK_BUNDLE, GPU_CHECK_WORK (unpack folder), GPU_CHECK_NODE (use this
# node instead of the carried one), GPU_CHECK_TIMEOUT (s, default 285), VK_DRIVER_FILES,
# CARP_BACKEND=webgpu (allow a software adapter: local rehearsal only), and the sizes
# read by environment/gpu-check/src/main.ts (GPU_CHECK_BATCH, GPU_CHECK_STEPS, …).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=${GPU_CHECK_BUNDLE:-$HERE/gpu-check/.bundle}
WORK=${GPU_CHECK_WORK:-${TMPDIR:-/tmp}/carp-gpu-check}
log() { printf '[gpu-check.sh] %s\n' "$*"; }
die() {
  log "error: $*"
  exit 5
}

[ -f "$B/check.js" ] || die "no bundle at $B: run environment/gpu-check/prepare.sh and carry that folder"
rm -rf "$WORK" && mkdir -p "$WORK" || die "cannot create $WORK"

# xz-compressed files: xz where present, else Python's lzma (the CUDA images have python3).
unxz_to() {
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" >"$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  else
    return 1
  fi
}

# A .deb into $WORK/root: dpkg -x where present, else ar + tar in Python.
unpack_deb() {
  if command -v dpkg-deb >/dev/null 2>&1; then
    dpkg-deb -x "$1" "$WORK/root"
  else
    python3 - "$1" "$WORK/root" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
pos = 8  # "!<arch>\n", then 60-byte member headers
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip('/')
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
PY
  fi
}

# 1. The program: check.js, the wasm binaries, the webgpu package with dawn.node.
cp "$B/check.js" "$B"/*.wasm "$WORK/" || die "cannot copy the bundle"
mkdir -p "$WORK/node_modules/webgpu/dist/linux-x64"
cp "$B/node_modules/webgpu/package.json" "$B/node_modules/webgpu/index.js" "$WORK/node_modules/webgpu/"
unxz_to "$B/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$WORK/node_modules/webgpu/dist/linux-x64/dawn.node" ||
  die "cannot decompress dawn.node (no xz, no python3)"

# 2. Node: the carried binary unless told otherwise.
NODE=${GPU_CHECK_NODE:-}
if [ -z "$NODE" ]; then
  unxz_to "$B/node.xz" "$WORK/node" || die "cannot decompress node"
  chmod +x "$WORK/node"
  NODE=$WORK/node
fi
"$NODE" --version >/dev/null 2>&1 || die "$NODE does not run here"

# 3. Vulkan loader and libglvnd, only where the system lacks them.
LIBDIRS=()
has_lib() { ldconfig -p 2>/dev/null | grep -q " $1 "; }
for pair in "libvulkan.so.1:libvulkan1" "libGLdispatch.so.0:libglvnd0" "libEGL.so.1:libegl1"; do
  lib=${pair%%:*} pkg=${pair##*:}
  if has_lib "$lib"; then
    log "system has $lib"
  else
    deb=$(ls "$B"/debs/"${pkg}"_*.deb 2>/dev/null | head -n1)
    [ -n "$deb" ] || die "no $lib on the system and no $pkg .deb in the bundle"
    unpack_deb "$deb" || die "cannot unpack $deb"
    [[ " ${LIBDIRS[*]-} " == *" $WORK/root/usr/lib/x86_64-linux-gnu "* ]] ||
      LIBDIRS+=("$WORK/root/usr/lib/x86_64-linux-gnu")
    log "using $lib from $(basename "$deb")"
  fi
done

# 4. The NVIDIA Vulkan ICD (driver manifest) and the folder of the library it names.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json \
    /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json \
    /usr/local/share/vulkan/icd.d/nvidia_icd*.json /usr/lib/x86_64-linux-gnu/nvidia/*/nvidia_icd*.json; do
    if [ -f "$f" ]; then
      export VK_DRIVER_FILES=$f VK_ICD_FILENAMES=$f
      break
    fi
  done
fi
ICD=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-}}
if [ -n "$ICD" ]; then
  log "Vulkan ICD: $ICD"
  icdlib=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "${ICD%%:*}" | head -n1)
  if [ -n "$icdlib" ] && [ "${icdlib#/}" = "$icdlib" ] && ! has_lib "$icdlib"; then
    for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/cuda/compat; do
      if [ -e "$d/$icdlib" ]; then
        LIBDIRS+=("$d")
        log "ICD library $icdlib found in $d"
        break
      fi
    done
  fi
else
  log "no NVIDIA Vulkan ICD manifest found; the loader searches its default folders"
fi
# NVIDIA's EGL vendor file, for Dawn's OpenGL ES route (used only if Vulkan finds nothing).
if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json; do
    [ -f "$f" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$f && log "EGL vendor: $f" && break
  done
fi
if [ ${#LIBDIRS[@]} -gt 0 ]; then
  LD_LIBRARY_PATH=$(IFS=:; echo "${LIBDIRS[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export LD_LIBRARY_PATH
fi

# 5. Run. Dawn may need a runtime dir (Mesa's EGL does on the software route).
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$WORK/xdg}
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>&1 | sed 's/^/[nvidia-smi] /'
log "node $("$NODE" --version) at $NODE; bundle $(sed -n 's/.*"built": "\(.*\)".*/\1/p' "$B/manifest.json")"
LOGFILE=${OUT:+$OUT/gpu-check.log}
cd "$WORK"
if [ -n "$LOGFILE" ]; then
  timeout "${GPU_CHECK_TIMEOUT:-285}" "$NODE" check.js 2>&1 | tee "$LOGFILE"
else
  timeout "${GPU_CHECK_TIMEOUT:-285}" "$NODE" check.js 2>&1
fi
rc=${PIPESTATUS[0]}
if [ "$rc" = 2 ]; then
  # No adapter: one more probe with the Vulkan loader's own diagnostics, for the next try.
  log "no webgpu adapter; Vulkan loader diagnostics (first 50 non-debug lines):"
  log "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
  ls -l /dev/nvidia* /dev/dri 2>&1 | head -n 8
  GPU_CHECK_PROBE_ONLY=1 GPU_CHECK_JSON=$WORK/probe.json VK_LOADER_DEBUG=error,warn,driver timeout 60 "$NODE" check.js 2>&1 |
    grep -v -e '^\[gpu-check' -e '^DEBUG' | awk '!seen[$0]++' | head -n 50 | tee -a "${LOGFILE:-/dev/null}"
fi
log "exit status $rc"
exit "$rc"
