/**
 * Loading the kit's faiss binding (native/faiss, built at install time into
 * `<package root>/build/faiss/faiss_node.node` against the system libfaiss) and deciding,
 * per call, whether faiss or the exact fallback serves k-NN and k-means.
 *
 * CARP_FAISS: `0` forces the fallback; `1` requires faiss (an error instead of the
 * fallback, for CI); unset: faiss when the binding loads, else the fallback with one
 * warning line per process.
 *
 * Threads: OpenBLAS (pthreads) and faiss's OpenMP loops oversubscribe the cores when both
 * spawn a thread per core (measured: L2 search took twice as long). OpenBLAS reads
 * OPENBLAS_NUM_THREADS once, when the library loads, so it is set to 1 before loading the
 * binding unless the user chose a value; parallelism then comes from faiss's OpenMP.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

interface NativeIndex {
  add(x: Float32Array): void;
  search(
    q: Float32Array,
    k: number,
    outD?: Float32Array,
    outI?: Int32Array,
  ): { distances: Float32Array; labels: Int32Array };
  ntotal(): number;
  getDimension(): number;
  release(): void;
  reserve(n: number): void;
}

/** What `add`/`search` of an exact index offer: the binding's classes and ExactIndex alike. */
export type IndexEngine = NativeIndex;

export interface FaissBinding {
  IndexFlatIP: new (d: number) => NativeIndex;
  IndexFlatL2: new (d: number) => NativeIndex;
  kmeans(
    x: Float32Array,
    d: number,
    k: number,
    params: Record<string, unknown>,
  ): {
    centroids: Float32Array;
    objectives: Float64Array;
    imbalance: Float64Array;
    nsplit: Int32Array;
  };
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** Version of the binding's JS contract; this module speaks version 2. */
  carpBinding: number;
}

/** Where the install step puts the binding (dist/search or src/search → package root). */
export const FAISS_BINDING_PATH = join(__dirname, '..', '..', 'build', 'faiss', 'faiss_node.node');

let loaded: { binding?: FaissBinding; reason?: string } | undefined;

/** Loads the binding once; `{ reason }` when it is not built or does not load. */
function loadBinding(): { binding?: FaissBinding; reason?: string } {
  if (loaded) return loaded;
  if (!existsSync(FAISS_BINDING_PATH)) {
    loaded = {
      reason: `not built (${FAISS_BINDING_PATH} missing: install libfaiss-dev, libopenblas-dev, liblapack-dev and g++, then reinstall carp-kit)`,
    };
    return loaded;
  }
  if (process.env.OPENBLAS_NUM_THREADS === undefined) process.env.OPENBLAS_NUM_THREADS = '1';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const b = require(FAISS_BINDING_PATH) as FaissBinding;
    loaded =
      b.carpBinding === 2 && typeof b.kmeans === 'function'
        ? { binding: b }
        : { reason: `${FAISS_BINDING_PATH} is an older build; reinstall carp-kit` };
  } catch (e) {
    loaded = { reason: `failed to load (${(e as Error).message.split('\n')[0]})` };
  }
  return loaded;
}

/**
 * The decision for one call: CARP_FAISS's value `flag` applied to the binding's load
 * result (`loadBinding()`, or any result with the same shape).
 */
export function decideBinding(
  flag: string | undefined,
  load: () => { binding?: FaissBinding; reason?: string },
): { binding?: FaissBinding; reason?: string } {
  if (flag !== undefined && flag !== '' && flag !== '0' && flag !== '1') {
    throw new Error(`CARP_FAISS=${JSON.stringify(flag)} must be 0 (fallback) or 1 (require faiss)`);
  }
  if (flag === '0') return { reason: 'disabled by CARP_FAISS=0' };
  const r = load();
  if (!r.binding && flag === '1') {
    throw new Error(`faiss binding required by CARP_FAISS=1 but ${r.reason}`);
  }
  return r;
}

/** The faiss binding when it serves this call; `{ reason }` when the fallback does. */
export function faissBinding(env: NodeJS.ProcessEnv = process.env): {
  binding?: FaissBinding;
  reason?: string;
} {
  return decideBinding(env.CARP_FAISS, loadBinding);
}

let warned = false;

/** Writes the fallback's one warning line, the first time only. */
export function warnFallbackOnce(reason: string, engine: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(
    `carp-kit: warning: faiss binding ${reason}; k-NN and k-means use the exact fallback on ${engine}\n`,
  );
}
