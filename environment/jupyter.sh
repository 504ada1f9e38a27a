#!/usr/bin/env bash
# Starts Jupyter for the carp-kit notebooks (interactive use), from the project root.
#   bash environment/jupyter.sh [extra jupyter options, e.g. --no-browser --port 8899]
# Opens notebooks/ unless --notebook-dir is given.
# - JUPYTER_PATH points at the project's own kernel "carp-kit (TypeScript)"
#   (.jupyter/share/jupyter; registered here when missing);
# - the library is built when dist/ is missing (notebooks import `carp-kit`, i.e. dist/);
# - Debian 12 ships the classic Notebook server (jupyter-notebook 6.4); JupyterLab is
#   used instead when it is installed. CARP_PRESET / CARP_BACKEND set before starting
#   reach every kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export JUPYTER_PATH="$root/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
# Debian's Jupyter lives under /usr/bin/python3, not a pyenv python3 that may come first.
export PATH="/usr/bin:$PATH"

[ -f "$root/.jupyter/share/jupyter/kernels/carp-kit/kernel.json" ] || bash environment/register-kernel.sh >/dev/null
[ -f "$root/dist/index.js" ] || npm run --silent build

if /usr/bin/python3 -c 'import jupyterlab' 2>/dev/null; then
  app=lab
elif /usr/bin/python3 -c 'import notebook' 2>/dev/null; then
  app=notebook
else
  echo "jupyter.sh: no Jupyter server; run: apt-get install jupyter-notebook" >&2
  exit 1
fi
# notebooks/ unless the caller chose a folder (Jupyter rejects the option twice).
dir_args=(--notebook-dir="$root/notebooks")
for a in "$@"; do
  case "$a" in --notebook-dir* | --ServerApp.root_dir* | --NotebookApp.notebook_dir*) dir_args=() ;; esac
done
# Containers often run as root, which Jupyter refuses without this flag.
[ "$(id -u)" != 0 ] || dir_args+=(--allow-root)
echo "jupyter.sh: jupyter $app from $root (kernel: carp-kit (TypeScript))" >&2
exec /usr/bin/python3 -m "$app" "${dir_args[@]}" "$@"
