/**
 * The typed result record every evaluation protocol writes (DESIGN.md §3.4 `eval/*.json`,
 * §6.11 structured results): protocol, dataset, proxy flag, split sizes, settings,
 * metrics, wall time, checkpoint and creation time, one JSON file per
 * (protocol, dataset) at `<runDir>/eval/<protocol>-<dataset>.json`, written atomically.
 *
 * Proxy rule (issue: "results say 'proxy' in their name and never mix with the paper's
 * benchmarks"): a result's name `<protocol>-<dataset>` contains "proxy" if and only if
 * `proxy` is true. Writing and reading both enforce it, so an offline Fashion-MNIST
 * stand-in can never be filed (or read back) as a paper number, nor the reverse.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic';

export interface EvalResult<M = unknown> {
  /** Protocol of spec §9, e.g. `knn`, `linear`, `fewshot`, `retrieval`, `copydetection`. */
  protocol: string;
  /** Dataset (benchmark) name, e.g. `voc2007`, `roxford5k`, `fmnist-retrieval-proxy`. */
  dataset: string;
  /** True for offline stand-ins of a paper benchmark (the name must then say "proxy"). */
  proxy: boolean;
  /** Sizes of the sets used, e.g. `{ train: 5000, test: 10000 }`. */
  splits: Record<string, number>;
  /** Every setting that affects the numbers (seeds, k, costs, schedule…). */
  settings: Record<string, unknown>;
  /** Protocol-specific metrics (fractions unless the field name says otherwise). */
  metrics: M;
  /** Wall-clock seconds of the evaluation (feature extraction included). */
  seconds: number;
  /** Identifies the evaluated weights (checkpoint path + step, or a content hash). */
  checkpoint: string;
  /** ISO 8601 time the result was produced. */
  createdAt: string;
}

/** Characters allowed in protocol and dataset names (they form a file name). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The file stem of a result: `<protocol>-<dataset>`. */
export function evalResultName(r: Pick<EvalResult, 'protocol' | 'dataset'>): string {
  return `${r.protocol}-${r.dataset}`;
}

/** Whether a name marks a proxy benchmark (contains "proxy", any case). */
export function isProxyName(name: string): boolean {
  return /proxy/i.test(name);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks a result's fields and the proxy naming rule; throws an error naming the field
 * and what was expected (`where` prefixes the message, e.g. a file name).
 */
export function checkEvalResult(r: unknown, where = 'EvalResult'): asserts r is EvalResult {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (!isRecord(r)) return fail(`expected an object, got ${JSON.stringify(r)}`);
  for (const k of ['protocol', 'dataset'] as const) {
    const v = r[k];
    if (typeof v !== 'string' || !NAME_RE.test(v)) {
      fail(
        `field '${k}' must be a non-empty name of letters, digits, '.', '_' or '-', got ${JSON.stringify(v)}`,
      );
    }
  }
  if (typeof r.proxy !== 'boolean')
    fail(`field 'proxy' must be a boolean, got ${JSON.stringify(r.proxy)}`);
  if (!isRecord(r.splits)) fail(`field 'splits' must be an object of set sizes`);
  for (const [k, v] of Object.entries(r.splits as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      fail(`field 'splits.${k}' must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
  }
  if (!isRecord(r.settings)) fail(`field 'settings' must be an object`);
  if (r.metrics === undefined) fail(`field 'metrics' is missing`);
  if (typeof r.seconds !== 'number' || !(r.seconds >= 0)) {
    fail(`field 'seconds' must be a non-negative number, got ${JSON.stringify(r.seconds)}`);
  }
  if (typeof r.checkpoint !== 'string') fail(`field 'checkpoint' must be a string`);
  if (typeof r.createdAt !== 'string' || Number.isNaN(Date.parse(r.createdAt))) {
    fail(`field 'createdAt' must be an ISO date string, got ${JSON.stringify(r.createdAt)}`);
  }
  const name = evalResultName(r as Pick<EvalResult, 'protocol' | 'dataset'>);
  if (r.proxy && !isProxyName(name)) {
    fail(`a proxy result must say "proxy" in its name (protocol-dataset), got '${name}'`);
  }
  if (!r.proxy && isProxyName(name)) {
    fail(
      `'${name}' says "proxy" but the result has proxy: false (paper benchmarks never say proxy)`,
    );
  }
}

/** Fills `createdAt` (now) and checks the record; the usual way to build one. */
export function createEvalResult<M>(
  r: Omit<EvalResult<M>, 'createdAt'> & { createdAt?: string },
): EvalResult<M> {
  const out: EvalResult<M> = { ...r, createdAt: r.createdAt ?? new Date().toISOString() };
  checkEvalResult(out, `result ${r.protocol}-${r.dataset}`);
  return out;
}

/** JSON replacer: typed arrays become plain arrays (JSON.stringify would write {"0": …}). */
function plainArrays(_key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView)
    ? Array.from(value as unknown as ArrayLike<number>)
    : value;
}

/** Writes `result` to `<runDir>/eval/<protocol>-<dataset>.json` atomically; returns the path. */
export function writeEvalResult(runDir: string, result: EvalResult): string {
  checkEvalResult(result, `writeEvalResult(${evalResultName(result)})`);
  const file = join(runDir, 'eval', `${evalResultName(result)}.json`);
  writeJsonAtomic(file, JSON.parse(JSON.stringify(result, plainArrays)) as unknown);
  return file;
}

/**
 * Reads every `<runDir>/eval/*.json` (sorted by file name), checking each record and that
 * its file name matches `<protocol>-<dataset>`. An absent `eval/` folder gives `[]`;
 * an invalid file throws, naming it.
 */
export function readEvalResults(runDir: string): EvalResult[] {
  const dir = join(runDir, 'eval');
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort();
  return files.map((f) => {
    const where = join('eval', f);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
    }
    checkEvalResult(json, where);
    const stem = f.slice(0, -'.json'.length);
    if (stem !== evalResultName(json)) {
      throw new Error(`${where}: holds the result '${evalResultName(json)}', expected '${stem}'`);
    }
    return json;
  });
}
