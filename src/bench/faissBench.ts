/**
 * faiss benchmarks (not tests): our typed binding vs Debian's Python faiss
 * (the same libfaiss 1.7.3 and OpenBLAS) on the same data, thread settings and machine.
 *
 *   - k-NN: IndexFlatIP, add N×dim (default 50 000×512) + search nq (10 000) queries, k 20
 *     (§9.2's search); the peer's labels are compared with ours.
 *   - k-means: N×dim (50 000×256) into k = 100 clusters, 20 iterations, spherical, seed
 *     1234, faiss defaults otherwise (so both subsample to 256·k points; §9.3).
 * Data are generated here from a seed and handed to the peer as raw float32 files.
 * Threads: OPENBLAS_NUM_THREADS as this process loaded OpenBLAS with (1 unless the user
 * set it, architecture §7.1) and the same OpenMP count on both sides. The peer runs after
 * ours in the same call; on a shared machine compare the ratio, not absolute times.
 * Run directly: `npx tsx src/bench/faissBench.ts` (prints the rows as JSON).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRng } from '../random';
import { FlatIndex, getFaissThreads, kmeansFaiss, setFaissThreads } from '../search/faiss';
import { type BenchRow, speedRatio } from './types';

export interface FaissBenchOptions {
  /** OpenMP threads for both sides (default: all cores). */
  threads?: number;
  /** Python with faiss (default /usr/bin/python3; the pyenv python on PATH lacks it). */
  python?: string;
  /** Skip the Python peer. */
  noPeer?: boolean;
  /** Data seed (default 0). */
  seed?: number;
  /** Alternating runs ours → peer → ours → …; the fastest of each side is reported (default 1). */
  repeats?: number;
}

const PEER_SCRIPT = resolve(__dirname, '..', '..', 'bench', 'peers', 'faiss_bench.py');
const DEFAULT_PYTHON = '/usr/bin/python3';

function gaussianRows(n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Checks the peer can run; returns null when it can, else why it is skipped. */
function peerUnavailable(python: string): string | null {
  const r = spawnSync(python, ['-c', 'import faiss, numpy'], { encoding: 'utf8' });
  if (r.error) return `peer skipped: ${python} not runnable (${r.error.message})`;
  if (r.status !== 0)
    return `peer skipped: python3-faiss not importable from ${python} (apt-get install python3-faiss)`;
  return null;
}

function runPeer(
  python: string,
  spec: Record<string, unknown>,
  threads: number,
): Record<string, number> {
  const r = spawnSync(python, [PEER_SCRIPT, JSON.stringify(spec)], {
    encoding: 'utf8',
    env: {
      ...process.env,
      OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? '1',
      OMP_NUM_THREADS: String(threads),
    },
  });
  if (r.status !== 0)
    throw new Error(`faiss peer failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number>;
}

function withThreads<T>(threads: number | undefined, fn: (t: number) => T): T {
  const before = getFaissThreads();
  const t = threads ?? availableParallelism();
  setFaissThreads(t);
  try {
    return fn(t);
  } finally {
    setFaissThreads(before);
  }
}

/** k-NN search benchmark: add n×dim + search nq queries (k) on an inner-product flat index. */
export function benchFaissKnn(
  o: FaissBenchOptions & { n?: number; nq?: number; dim?: number; k?: number } = {},
): BenchRow {
  const n = o.n ?? 50_000;
  const nq = o.nq ?? 10_000;
  const dim = o.dim ?? 512;
  const k = o.k ?? 20;
  const seed = o.seed ?? 0;
  const python = o.python ?? DEFAULT_PYTHON;
  const repeats = o.repeats ?? 1;
  return withThreads(o.threads, (threads) => {
    const base = gaussianRows(n, dim, seed);
    const queries = gaussianRows(nq, dim, seed + 1);
    const notes = [`${n}×${dim} bank, ${nq} queries, k ${k}, IndexFlatIP`, threadNote(threads)];
    const runOurs = () => {
      const t0 = process.hrtime.bigint();
      const index = new FlatIndex(dim, 'ip');
      index.add(base);
      const add = seconds(t0);
      const t1 = process.hrtime.bigint();
      const res = index.search(queries, k);
      const search = seconds(t1);
      index.dispose();
      return { add, search, total: add + search, labels: res.labels };
    };
    const why = o.noPeer ? 'peer skipped (noPeer)' : peerUnavailable(python);
    const dir = mkdtempSync(join(tmpdir(), 'carp-faiss-bench-'));
    const spec = {
      mode: 'knn',
      base: join(dir, 'base.f32'),
      queries: join(dir, 'queries.f32'),
      labelsOut: join(dir, 'labels.i64'),
      n,
      nq,
      dim,
      k,
      threads,
    };
    let ours: ReturnType<typeof runOurs> | null = null;
    let theirs: Record<string, number> | null = null;
    try {
      if (!why) {
        writeFileSync(spec.base, base);
        writeFileSync(spec.queries, queries);
      }
      for (let rep = 0; rep < repeats; rep++) {
        const mine = runOurs();
        if (!ours || mine.total < ours.total) ours = mine;
        if (why) continue;
        const r = runPeer(python, spec, threads);
        if (!theirs || r.total < theirs.total) theirs = r;
      }
      if (!ours) throw new Error('benchFaissKnn: repeats must be >= 1');
      notes.push(`ours: add ${ours.add.toFixed(3)} s, search ${ours.search.toFixed(3)} s`);
      if (why) notes.push(why);
      if (theirs) {
        notes.push(`peer: add ${theirs.add.toFixed(3)} s, search ${theirs.search.toFixed(3)} s`);
        const buf = readFileSync(spec.labelsOut);
        const peerLabels = new BigInt64Array(buf.buffer, buf.byteOffset, nq * k);
        let same = 0;
        for (let i = 0; i < nq * k; i++) if (BigInt(ours.labels[i]) === peerLabels[i]) same++;
        notes.push(`labels identical to the peer's: ${((100 * same) / (nq * k)).toFixed(2)} %`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (repeats > 1) notes.push(`fastest of ${repeats} alternating runs per side`);
    const peer = theirs ? theirs.total : null;
    return row(
      `knn-${n / 1000}k x${dim}-${nq / 1000}k-k${k}`,
      'seconds (add+search)',
      ours.total,
      peer,
      notes,
    );
  });
}

/** k-means benchmark: n×dim into k clusters, niter iterations (spherical, faiss defaults otherwise). */
export function benchFaissKmeans(
  o: FaissBenchOptions & { n?: number; dim?: number; k?: number; niter?: number } = {},
): BenchRow {
  const n = o.n ?? 50_000;
  const dim = o.dim ?? 256;
  const k = o.k ?? 100;
  const niter = o.niter ?? 20;
  const seed = o.seed ?? 0;
  const python = o.python ?? DEFAULT_PYTHON;
  const repeats = o.repeats ?? 1;
  const params = { k, niter, nredo: 1, seed: 1234, spherical: true, maxPointsPerCentroid: 256 };
  return withThreads(o.threads, (threads) => {
    // A Gaussian mixture (k centres, unit noise around centres of scale 3): clusters exist.
    const rng = createRng(seed + 2);
    const centres = gaussianRows(k, dim, seed + 3);
    const x = gaussianRows(n, dim, seed + 4);
    for (let i = 0; i < n; i++) {
      const c = rng.int(k);
      for (let t = 0; t < dim; t++) x[i * dim + t] += 3 * centres[c * dim + t];
    }
    const used = Math.min(n, params.maxPointsPerCentroid * k);
    const notes = [
      `${n}×${dim} into ${k} clusters, ${niter} iterations, spherical, seed 1234 (faiss subsamples to ${used} points)`,
      threadNote(threads),
    ];
    const why = o.noPeer ? 'peer skipped (noPeer)' : peerUnavailable(python);
    const dir = mkdtempSync(join(tmpdir(), 'carp-faiss-bench-'));
    const spec = {
      mode: 'kmeans',
      x: join(dir, 'x.f32'),
      centroidsOut: join(dir, 'c.f32'),
      n,
      dim,
      threads,
      ...params,
    };
    let tOurs = Infinity;
    let peer: number | null = null;
    try {
      if (!why) writeFileSync(spec.x, x);
      let ours: ReturnType<typeof kmeansFaiss> | null = null;
      let peerObjective = NaN;
      for (let rep = 0; rep < repeats; rep++) {
        const t0 = process.hrtime.bigint();
        ours = kmeansFaiss(x, n, dim, params);
        tOurs = Math.min(tOurs, seconds(t0));
        if (why) continue;
        const r = runPeer(python, spec, threads);
        peer = peer === null ? r.total : Math.min(peer, r.total);
        peerObjective = r.objective;
      }
      if (!ours) throw new Error('benchFaissKmeans: repeats must be >= 1');
      notes.push(`ours: objective ${ours.objective.toFixed(2)}`);
      if (why) notes.push(why);
      else {
        const buf = readFileSync(spec.centroidsOut);
        const theirs = new Float32Array(buf.buffer, buf.byteOffset, k * dim);
        let maxDiff = 0;
        for (let i = 0; i < k * dim; i++)
          maxDiff = Math.max(maxDiff, Math.abs(theirs[i] - ours.centroids[i]));
        notes.push(
          `peer: objective ${peerObjective.toFixed(2)}; max |centroid difference| ${maxDiff.toExponential(2)}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (repeats > 1) notes.push(`fastest of ${repeats} alternating runs per side`);
    return row(
      `kmeans-${n / 1000}k x${dim}-k${k}-it${niter}`,
      'seconds (train)',
      tOurs,
      peer,
      notes,
    );
  });
}

function threadNote(threads: number): string {
  return `threads: OpenMP ${threads}, OPENBLAS_NUM_THREADS=${process.env.OPENBLAS_NUM_THREADS ?? 'unset'}`;
}

function row(
  scenario: string,
  unit: string,
  ours: number,
  peer: number | null,
  notes: string[],
): BenchRow {
  return {
    scenario,
    unit,
    higherIsBetter: false,
    ours,
    peer,
    peerName: 'python3-faiss 1.7.3 (Debian)',
    speedRatio: speedRatio(ours, peer, false),
    backend: 'faiss',
    notes,
  };
}

/** Both faiss scenarios. */
export function runFaissBench(o: FaissBenchOptions = {}): BenchRow[] {
  return [benchFaissKnn(o), benchFaissKmeans(o)];
}

if (require.main === module) {
  const repeats = Number(process.env.CARP_BENCH_REPEATS ?? '1');
  process.stdout.write(`${JSON.stringify(runFaissBench({ repeats }), null, 2)}\n`);
}
