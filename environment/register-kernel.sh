#!/usr/bin/env bash
# Registers the Jupyter kernel "carp-kit (TypeScript)" inside the project
# (.jupyter/share/jupyter/kernels/carp-kit), tslab underneath. Its launcher sets the
# thread and backend settings the kit needs, so picking the kernel is all a user does.
# Jupyter finds it through JUPYTER_PATH=$PWD/.jupyter/share/jupyter (set by
# environment/jupyter.sh and by the notebook tests).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dir="$root/.jupyter/share/jupyter/kernels/carp-kit"
mkdir -p "$dir"
tmp="$dir/kernel.json.tmp"
cat >"$tmp" <<JSON
{
  "argv": ["$root/environment/kernel-launcher.sh", "{connection_file}"],
  "display_name": "carp-kit (TypeScript)",
  "language": "typescript",
  "metadata": { "debugger": false }
}
JSON
mv "$tmp" "$dir/kernel.json"
echo "$dir/kernel.json"
