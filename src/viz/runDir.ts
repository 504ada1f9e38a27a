/**
 * Reading a run directory (config.json, run.json, metrics.jsonl, eval/*.json, and any
 * TensorBoard event files) for figures and reports, tolerantly: a run may still be
 * training (last `metrics.jsonl` line or event record half written), may not have been
 * evaluated yet, or may come from an older version. Missing or unreadable pieces are
 * listed in `problems` instead of failing the whole report.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readTensorBoardRuns, type TensorBoardRun } from '../interop/tensorboard/eventFile';
import type { MetricsRow } from './trainingCurves';

/** One `eval/<name>.json` file. */
export interface EvalFile {
  /** File name without `.json`. */
  name: string;
  json: unknown;
}

/** What could be read from a run directory. */
export interface RunDirContents {
  dir: string;
  /** `config.json` (the resolved config), when readable. */
  config?: unknown;
  /** `run.json` (git sha, versions, backend, seed, start time), when readable. */
  run?: Record<string, unknown>;
  /** `metrics.jsonl` rows, in file order. */
  metrics: MetricsRow[];
  /** `eval/*.json`, sorted by name. */
  evals: EvalFile[];
  /** TensorBoard runs (e.g. the official trainer's), as rows keyed by tag. */
  tensorboard: TensorBoardCurves[];
  /** Human-readable notes on missing or unreadable pieces. */
  problems: string[];
}

/** A TensorBoard run's scalars as metrics rows: `{ step, <tag>: value, … }` per step. */
export interface TensorBoardCurves {
  /** The run's folder (relative to the run directory, or as given). */
  name: string;
  rows: MetricsRow[];
  tags: string[];
}

/** Rows by step (ascending); a step logged twice (a restarted run) keeps the later value. */
export function tensorBoardRows(run: TensorBoardRun): MetricsRow[] {
  const byStep = new Map<number, MetricsRow>();
  for (const [tag, points] of run.scalars) {
    for (const p of points) {
      const row = byStep.get(p.step) ?? { step: p.step };
      row[tag] = p.value;
      byStep.set(p.step, row);
    }
  }
  return [...byStep.keys()].sort((a, b) => a - b).map((k) => byStep.get(k)!);
}

/** Options of `readRunDir`. */
export interface ReadRunDirOptions {
  /**
   * Folders of TensorBoard event files to read besides the run's own (each searched a few
   * levels deep). Event files inside the run directory are found without this; the kit's
   * own exports there (`*.carp-kit`) are skipped, as they repeat metrics.jsonl.
   */
  tensorboard?: string[];
}

/** Parses JSON lines; blank lines are skipped, bad lines counted (e.g. a half-written last line). */
export function parseMetricsJsonl(text: string): { rows: MetricsRow[]; badLines: number } {
  const rows: MetricsRow[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v: unknown = JSON.parse(line);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) rows.push(v as MetricsRow);
      else badLines++;
    } catch {
      badLines++;
    }
  }
  return { rows, badLines };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function readJson(path: string, label: string, problems: string[]): Promise<unknown> {
  const text = await readText(path);
  if (text === undefined) {
    problems.push(`${label} is missing`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    problems.push(`${label} is not valid JSON (${(e as Error).message})`);
    return undefined;
  }
}

/** Reads `config.json`, `run.json`, `metrics.jsonl`, `eval/*.json` and event files of `dir`. */
export async function readRunDir(dir: string, o: ReadRunDirOptions = {}): Promise<RunDirContents> {
  const problems: string[] = [];
  const config = await readJson(join(dir, 'config.json'), 'config.json', problems);
  const run = await readJson(join(dir, 'run.json'), 'run.json', problems);
  const record: RunDirContents = { dir, config, metrics: [], evals: [], tensorboard: [], problems };
  if (run !== null && typeof run === 'object' && !Array.isArray(run))
    record.run = run as Record<string, unknown>;

  const metricsText = await readText(join(dir, 'metrics.jsonl'));
  if (metricsText === undefined) {
    problems.push('metrics.jsonl is missing');
  } else {
    const { rows, badLines } = parseMetricsJsonl(metricsText);
    record.metrics = rows;
    if (badLines > 0) problems.push(`metrics.jsonl: ${badLines} unreadable line(s) skipped`);
  }

  let names: string[] = [];
  try {
    names = (await readdir(join(dir, 'eval'))).filter((f) => f.endsWith('.json')).sort();
  } catch {
    problems.push('no eval/ results yet');
  }
  for (const file of names) {
    const json = await readJson(join(dir, 'eval', file), `eval/${file}`, problems);
    if (json !== undefined) record.evals.push({ name: file.slice(0, -'.json'.length), json });
  }

  const sources: { root: string; own: boolean }[] = [
    { root: dir, own: true },
    ...(o.tensorboard ?? []).map((root) => ({ root, own: false })),
  ];
  for (const { root, own } of sources) {
    if (!own && !existsSync(root)) {
      problems.push(`TensorBoard folder ${root} does not exist`);
      continue;
    }
    const runs = readTensorBoardRuns(root, { skipKit: own });
    if (!own && runs.length === 0) problems.push(`no event files under ${root}`);
    for (const r of runs) {
      for (const e of r.problems) problems.push(`event file ${e.message}`);
      const name = own ? r.name : r.name === '.' ? root : join(root, r.name);
      record.tensorboard.push({
        name,
        rows: tensorBoardRows(r),
        tags: [...r.scalars.keys()].sort(),
      });
    }
  }
  return record;
}
