#!/usr/bin/python3
"""Peer timings for src/bench/faissBench.ts: the same faiss 1.7.3 from Python (Debian python3-faiss).

Usage: /usr/bin/python3 faiss_bench.py '<json spec>'
  knn:    {"mode": "knn", "base": F32, "queries": F32, "n", "nq", "dim", "k", "threads", "labelsOut": I64}
  kmeans: {"mode": "kmeans", "x": F32, "n", "dim", "k", "niter", "nredo", "seed",
           "spherical", "maxPointsPerCentroid", "threads", "centroidsOut": F32}
Data come as raw little-endian float32 files written by the TypeScript side (same data).
Run with OPENBLAS_NUM_THREADS set in the environment by the caller (read at BLAS load).
Prints one JSON object: seconds per phase (+ objective for k-means).
"""
import json
import sys
import time

import numpy as np
import faiss


def main() -> None:
    spec = json.loads(sys.argv[1])
    faiss.omp_set_num_threads(int(spec["threads"]))
    if spec["mode"] == "knn":
        d = spec["dim"]
        xb = np.fromfile(spec["base"], dtype="<f4").reshape(spec["n"], d)
        xq = np.fromfile(spec["queries"], dtype="<f4").reshape(spec["nq"], d)
        t0 = time.perf_counter()
        index = faiss.IndexFlatIP(d)
        index.add(xb)
        t1 = time.perf_counter()
        _, labels = index.search(xq, spec["k"])
        t2 = time.perf_counter()
        labels.astype("<i8").tofile(spec["labelsOut"])
        print(json.dumps({"add": t1 - t0, "search": t2 - t1, "total": t2 - t0}))
    elif spec["mode"] == "kmeans":
        d = spec["dim"]
        x = np.fromfile(spec["x"], dtype="<f4").reshape(spec["n"], d)
        km = faiss.Kmeans(
            d,
            spec["k"],
            niter=spec["niter"],
            nredo=spec["nredo"],
            seed=spec["seed"],
            spherical=bool(spec["spherical"]),
            max_points_per_centroid=spec["maxPointsPerCentroid"],
            verbose=False,
        )
        t0 = time.perf_counter()
        obj = km.train(x)
        t1 = time.perf_counter()
        km.centroids.astype("<f4").tofile(spec["centroidsOut"])
        print(json.dumps({"total": t1 - t0, "objective": float(obj)}))
    else:
        raise SystemExit(f"unknown mode {spec['mode']!r}")


if __name__ == "__main__":
    main()
