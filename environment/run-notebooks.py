#!/usr/bin/python3
"""Execute carp-kit notebooks headless with the "carp-kit (TypeScript)" kernel.

Usage (from anywhere; run with Debian's /usr/bin/python3, which has nbclient):

    /usr/bin/python3 environment/run-notebooks.py [--out DIR] [--timeout S]
        [--preset NAME] [--summary FILE] [NOTEBOOK ...]

- With no NOTEBOOK, runs every notebooks/*.ipynb in name order.
- Each notebook runs in a fresh kernel whose cwd is the notebook's folder
  (tslab uses the cwd as rootDir, and `carp-kit` resolves from there through
  node_modules/carp-kit; architecture §7.2).
- The kernel inherits this process's environment: CARP_PRESET (or --preset),
  CARP_BACKEND, ... reach the notebook as process.env.*.
- Executed copies (with outputs, also of a failed run up to the failing cell) go to
  --out (default test-output/notebooks/, git-ignored; CI keeps it as an artefact).
- --html DIR also writes each executed copy as DIR/<name>.html, readable offline: the
  figures carry plotly.js inline, and equations use Debian's MathJax (libjs-mathjax)
  by file URL when it is installed (otherwise they stay as TeX source).
- Exit status 1 naming notebook, cell index (0-based, markdown cells counted, as
  nbformat indexes cells) and error when any cell fails; 2 on bad arguments or a
  missing Jupyter/kernel set-up. --summary also records per-cell seconds.

Cells run one by one through nbclient (rather than `jupyter nbconvert --execute`)
so that the failing cell's index is known exactly and per-cell times are recorded.
"""

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = "carp-kit"
KERNELS_DIR = os.path.join(ROOT, ".jupyter", "share", "jupyter")


def fail_setup(message):
    print(f"run-notebooks: {message}", file=sys.stderr)
    sys.exit(2)


try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
except ImportError as e:  # the pyenv python3 on PATH has no Jupyter
    fail_setup(
        f"{e}; run with /usr/bin/python3 (Debian: apt-get install python3-nbclient python3-nbformat)"
    )


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    p.add_argument("--out", default=os.path.join(ROOT, "test-output", "notebooks"),
                   help="folder for the executed copies (default: %(default)s)")
    p.add_argument("--timeout", type=int, default=900,
                   help="seconds allowed per cell (default: %(default)s)")
    p.add_argument("--startup-timeout", type=int, default=120,
                   help="seconds allowed for the kernel to start (default: %(default)s)")
    p.add_argument("--preset", help="sets CARP_PRESET for the kernels (default: inherited)")
    p.add_argument("--summary", help="also write a JSON summary (per-notebook and per-cell times) here")
    p.add_argument("--html", help="also export each executed notebook as HTML into this folder "
                                  "(nbconvert's lab template; equations through Debian's MathJax)")
    return p.parse_args(argv)


def ensure_kernel():
    """Points Jupyter at the project's kernels and registers carp-kit when missing."""
    paths = [KERNELS_DIR] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(paths)
    if not os.path.exists(os.path.join(KERNELS_DIR, "kernels", KERNEL, "kernel.json")):
        status = os.system(f"bash '{os.path.join(ROOT, 'environment', 'register-kernel.sh')}' >/dev/null")
        if status != 0:
            fail_setup("could not register the carp-kit kernel (environment/register-kernel.sh)")
    if not os.path.exists(os.path.join(ROOT, "dist", "index.js")):
        fail_setup("dist/index.js is missing: build the library first (npm run build)")


def error_text(cell):
    """The error a cell reported. tslab writes thrown errors and type errors to the
    cell's stderr stream (its `error` output carries no message), so both are read."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}".strip(": "))
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
    text = "\n".join(p for p in parts if p).strip()
    return text or "(no message)"


def write_atomic(nb, path):
    tmp = f"{path}.tmp-{os.getpid()}"
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


MATHJAX = "/usr/share/javascript/mathjax/MathJax.js"


def export_html(nb, path):
    """Writes `nb` as a standalone HTML page (nbconvert, lab template), atomically."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    if os.path.exists(MATHJAX):
        exporter.mathjax_url = f"file://{MATHJAX}?config=TeX-AMS_CHTML-full,Safe"
    body, _ = exporter.from_notebook_node(nb)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(body)
    os.replace(tmp, path)


def run_one(path, args):
    """Runs one notebook; returns a summary dict (`error` set on failure)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=args.timeout,
        startup_timeout=args.startup_timeout,
        kernel_name=KERNEL,
        allow_errors=False,
        resources={"metadata": {"path": os.path.dirname(path)}},
    )
    name = os.path.basename(path)
    result = {"notebook": name, "cells": [], "error": None}
    start = time.monotonic()
    index = -1
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                t0 = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                finally:
                    if cell.cell_type == "code":
                        result["cells"].append({"index": index, "seconds": round(time.monotonic() - t0, 3)})
    except CellExecutionError:
        result["error"] = {"cell": index, "message": error_text(nb.cells[index])}
    except CellTimeoutError:
        result["error"] = {"cell": index, "message": f"timed out after {args.timeout} s"}
    except DeadKernelError as e:
        result["error"] = {"cell": index, "message": f"kernel died: {e}"}
    except Exception as e:  # kernel start-up failures and the like
        result["error"] = {"cell": index, "message": f"{type(e).__name__}: {e}"}
    result["seconds"] = round(time.monotonic() - start, 3)
    out_path = os.path.join(args.out, name)
    write_atomic(nb, out_path)
    result["output"] = out_path
    if args.html:
        html_path = os.path.join(args.html, name[: -len(".ipynb")] + ".html")
        export_html(nb, html_path)
        result["html"] = html_path
    return result


def main(argv):
    args = parse_args(argv)
    if args.preset:
        os.environ["CARP_PRESET"] = args.preset
    paths = args.notebooks or sorted(
        os.path.join(ROOT, "notebooks", f)
        for f in os.listdir(os.path.join(ROOT, "notebooks"))
        if f.endswith(".ipynb")
    )
    paths = [os.path.abspath(p) for p in paths]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        fail_setup(f"no such notebook: {', '.join(missing)}")
    if not paths:
        fail_setup("no notebooks to run")
    ensure_kernel()
    os.makedirs(args.out, exist_ok=True)
    if args.html:
        os.makedirs(args.html, exist_ok=True)

    preset = os.environ.get("CARP_PRESET", "(notebook default)")
    print(f"run-notebooks: {len(paths)} notebook(s), CARP_PRESET={preset}, cell timeout {args.timeout} s",
          flush=True)
    results = []
    for path in paths:
        r = run_one(path, args)
        results.append(r)
        if r["error"]:
            print(f"FAIL {r['notebook']} cell index {r['error']['cell']} ({r['seconds']:.1f} s):\n"
                  f"{r['error']['message']}", flush=True)
        else:
            print(f"ok   {r['notebook']} ({r['seconds']:.1f} s) -> {os.path.relpath(r['output'])}", flush=True)

    if args.summary:
        tmp = f"{args.summary}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump({"preset": os.environ.get("CARP_PRESET"), "results": results}, f, indent=1)
        os.replace(tmp, args.summary)
    failed = [r for r in results if r["error"]]
    if failed:
        names = ", ".join(f"{r['notebook']} (cell index {r['error']['cell']})" for r in failed)
        print(f"run-notebooks: {len(failed)} of {len(results)} failed: {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
