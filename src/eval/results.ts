/**
 * The typed result record every evaluation protocol writes, as JSON in `<runDir>/eval/`.
 *
 * Naming: `<protocol>-<dataset>[.<variant>].json`. The variant is empty for the canonical
 * result — all images, the protocol's DEFAULTS, the run's latest checkpoint — and
 * otherwise names what differs: another checkpoint file (`ck-<stem>`), settings other
 * than the defaults (`s<hash>`, the settings themselves are in the record), a subset
 * (`limit<N>`, which also makes the result `partial`). So a quick `--limit` run or a
 * `--k 10` run never replaces the full default one, and two checkpoints evaluated into one
 * folder keep their own files. Re-running the same variant keeps the previous file in
 * `eval/history/` (renamed with its creation time) before writing the new one.
 *
 * Proxy rule: a result's `<protocol>-<dataset>` contains "proxy" if and only if `proxy`
 * is true. Writing and reading both enforce it, so an offline Fashion-MNIST stand-in can
 * never be filed (or read back) as a paper number, nor the reverse.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic';

export interface EvalResult<M = unknown> {
  /** Protocol of §9, e.g. `knn`, `linear`, `fewshot`, `retrieval`, `copydetection`. */
  protocol: string;
  /** Dataset (benchmark) name, e.g. `voc2007`, `roxford5k`, `fmnist-retrieval-proxy`. */
  dataset: string;
  /** True for offline stand-ins of a paper benchmark (the name must then say "proxy"). */
  proxy: boolean;
  /** '' for the canonical result; otherwise what differs from it (see the header). */
  variant: string;
  /** True when computed on a subset of the images (`limit`). */
  partial: boolean;
  /** Sizes of the sets used, e.g. `{ train: 5000, test: 10000 }`. */
  splits: Record<string, number>;
  /** Every setting that affects the numbers: the protocol's DEFAULTS merged with the options. */
  settings: Record<string, unknown>;
  /** Protocol-specific metrics (fractions unless the field name says otherwise). */
  metrics: M;
  /** Wall-clock seconds of the evaluation (feature extraction included). */
  seconds: number;
  /** The evaluated checkpoint (path; `#teacher` or `@step<N>` says which weights). */
  checkpoint: string;
  /** Content digest of the evaluated weights. */
  weights: string;
  /** Checkpoint keys the network lacked or the file had in excess (PyTorch files). */
  checkpointKeys: { missing: string[]; unexpected: string[] };
  /** ISO 8601 time the result was produced. */
  createdAt: string;
}

/** Characters allowed in protocol, dataset and variant names (they form a file name). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The file stem of a result: `<protocol>-<dataset>[.<variant>]`. */
export function evalResultName(r: Pick<EvalResult, 'protocol' | 'dataset' | 'variant'>): string {
  return `${r.protocol}-${r.dataset}${r.variant ? `.${r.variant}` : ''}`;
}

/** Whether a name marks a proxy benchmark (contains "proxy", any case). */
export function isProxyName(name: string): boolean {
  return /proxy/i.test(name);
}

/** JSON with sorted keys: equal objects give equal text whatever their key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The variant of a result (see the header): `ck-<stem>` for a checkpoint other than the
 * run's latest, `s<hash>` when `settings` differ from `defaults` on any key, `limit<N>`.
 */
export function resultVariant(o: {
  settings: Record<string, unknown>;
  defaults: Record<string, unknown>;
  limit?: number | null;
  checkpointTag?: string;
}): string {
  const parts: string[] = [];
  if (o.checkpointTag) parts.push(`ck-${o.checkpointTag.replace(/[^A-Za-z0-9_-]+/g, '_')}`);
  const changed = Object.keys(o.defaults).filter(
    (k) => canonicalJson(o.settings[k]) !== canonicalJson(o.defaults[k]),
  );
  if (changed.length) {
    const diff = Object.fromEntries(changed.map((k) => [k, o.settings[k]]));
    parts.push(`s${createHash('sha256').update(canonicalJson(diff)).digest('hex').slice(0, 8)}`);
  }
  if (o.limit) parts.push(`limit${o.limit}`);
  return parts.join('.');
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
  if (typeof r.variant !== 'string' || (r.variant !== '' && !NAME_RE.test(r.variant)))
    fail(`field 'variant' must be '' or a name of letters, digits, '.', '_' or '-'`);
  if (typeof r.proxy !== 'boolean')
    fail(`field 'proxy' must be a boolean, got ${JSON.stringify(r.proxy)}`);
  if (typeof r.partial !== 'boolean')
    fail(`field 'partial' must be a boolean, got ${JSON.stringify(r.partial)}`);
  if (r.partial && !/(^|\.)limit\d+$/.test(r.variant as string))
    fail(`a partial result must carry its limit in the variant, got '${r.variant as string}'`);
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
  if (typeof r.weights !== 'string') fail(`field 'weights' must be a string (the weights digest)`);
  const keys = r.checkpointKeys as Record<string, unknown> | undefined;
  if (!isRecord(keys) || !Array.isArray(keys.missing) || !Array.isArray(keys.unexpected))
    fail(`field 'checkpointKeys' must be { missing: string[], unexpected: string[] }`);
  if (typeof r.createdAt !== 'string' || Number.isNaN(Date.parse(r.createdAt))) {
    fail(`field 'createdAt' must be an ISO date string, got ${JSON.stringify(r.createdAt)}`);
  }
  const name = `${r.protocol as string}-${r.dataset as string}`;
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
  checkEvalResult(out, `result ${evalResultName(r)}`);
  return out;
}

const RECORD_KEYS: (keyof EvalResult)[] = [
  'protocol',
  'dataset',
  'proxy',
  'variant',
  'partial',
  'splits',
  'settings',
  'metrics',
  'seconds',
  'checkpoint',
  'weights',
  'checkpointKeys',
  'createdAt',
];

/** The record fields of a runner's return value (without its predictions, rankings …). */
export function resultRecord<M>(r: EvalResult<M>): EvalResult<M> {
  return Object.fromEntries(RECORD_KEYS.map((k) => [k, r[k]])) as unknown as EvalResult<M>;
}

/** JSON replacer: typed arrays become plain arrays (JSON.stringify would write {"0": …}). */
export function plainArrays(_key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView)
    ? Array.from(value as unknown as ArrayLike<number>)
    : value;
}

/**
 * Writes `result` to `<runDir>/eval/<name>.json` atomically, moving a previous result of
 * the same name to `eval/history/` first; returns the path.
 */
export function writeEvalResult(runDir: string, result: EvalResult): string {
  const name = evalResultName(result);
  checkEvalResult(result, `writeEvalResult(${name})`);
  const file = join(runDir, 'eval', `${name}.json`);
  if (existsSync(file)) {
    const history = join(runDir, 'eval', 'history');
    mkdirSync(history, { recursive: true });
    let stamp = 'unknown';
    try {
      stamp = String((JSON.parse(readFileSync(file, 'utf8')) as EvalResult).createdAt);
    } catch {
      // An unreadable old file is still kept, under a time of now.
      stamp = new Date().toISOString();
    }
    renameSync(file, join(history, `${name}.${stamp.replace(/[^0-9A-Za-z]/g, '')}.json`));
  }
  writeJsonAtomic(file, JSON.parse(JSON.stringify(resultRecord(result), plainArrays)) as unknown);
  return file;
}

/**
 * Reads every `<runDir>/eval/*.json` (sorted by file name; `history/` excluded), checking
 * each record and that its file name matches its name. An absent `eval/` folder gives
 * `[]`; an invalid file throws, naming it.
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
    const stem = basename(f, '.json');
    if (stem !== evalResultName(json)) {
      throw new Error(`${where}: holds the result '${evalResultName(json)}', expected '${stem}'`);
    }
    return json;
  });
}
