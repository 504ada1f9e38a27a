/**
 * Reading a run directory (architecture §3.4) for figures and reports, tolerantly: a
 * run may still be training (last `metrics.jsonl` line half written), may not have
 * been evaluated yet, or may come from an older version. Missing or unreadable
 * pieces are listed in `problems` instead of failing the whole report.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  /** Human-readable notes on missing or unreadable pieces. */
  problems: string[];
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

/** Reads `config.json`, `run.json`, `metrics.jsonl` and `eval/*.json` of `dir`. */
export async function readRunDir(dir: string): Promise<RunDirContents> {
  const problems: string[] = [];
  const config = await readJson(join(dir, 'config.json'), 'config.json', problems);
  const run = await readJson(join(dir, 'run.json'), 'run.json', problems);
  const record: RunDirContents = { dir, config, metrics: [], evals: [], problems };
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
  return record;
}
