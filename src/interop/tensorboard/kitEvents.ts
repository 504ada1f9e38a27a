/**
 * The kit's metrics.jsonl as TensorBoard scalars, under the official trainer's tags and
 * units so that both runs line up in TensorBoard: the official trainer logs
 * `loss/total` = (consistency + entropy) / gradient_accumulation_steps, `loss/consistency`,
 * `loss/entropy`, `lr`, `momentum` and `acc/top1`, `acc/top5` in percent, at the global
 * micro-step. Kit-only series keep their own tags (`wd`, `perf/images_per_second`, `epoch`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeEventFile, type ScalarRow } from './eventFile';

type Row = Record<string, unknown>;

/** Tag ← metrics.jsonl field, and the unit change. */
export const KIT_TAGS: readonly { tag: string; field: string; scale: (a: number) => number }[] = [
  { tag: 'loss/total', field: 'loss', scale: (a) => 1 / a },
  { tag: 'loss/consistency', field: 'consistency', scale: () => 1 },
  { tag: 'loss/entropy', field: 'entropy', scale: () => 1 },
  { tag: 'lr', field: 'lr', scale: () => 1 },
  { tag: 'momentum', field: 'momentum', scale: () => 1 },
  { tag: 'acc/top1', field: 'top1', scale: () => 100 },
  { tag: 'acc/top5', field: 'top5', scale: () => 100 },
  { tag: 'wd', field: 'wd', scale: () => 1 },
  { tag: 'perf/images_per_second', field: 'imagesPerSecond', scale: () => 1 },
  { tag: 'epoch', field: 'epoch', scale: () => 1 },
];

/**
 * ScalarRows of metrics rows: `accumulation` is the run's train.accumulation, `startedAt`
 * its start (ms since the epoch; wall time = start + the row's `elapsed` seconds). A row's
 * missing field is left out of that row (never written as 0).
 */
export function kitScalarRows(
  rows: readonly Record<string, unknown>[],
  accumulation: number,
  startedAt: number,
): ScalarRow[] {
  return rows.map((r, i) => {
    if (typeof r.step !== 'number' || typeof r.elapsed !== 'number')
      throw new Error(`metrics row ${i + 1} has no numeric step and elapsed`);
    const scalars: Record<string, number> = {};
    for (const t of KIT_TAGS) {
      const v = r[t.field];
      if (typeof v === 'number') scalars[t.tag] = v * t.scale(accumulation);
    }
    return { step: r.step, wallTime: startedAt / 1000 + r.elapsed, scalars };
  });
}

function readJson(path: string): Row {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as Row;
  } catch (e) {
    throw new Error(`${path} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * Writes `<runDir>/metrics.jsonl` as an event file in `outDir` (default
 * `<runDir>/tensorboard`), using config.json's train.accumulation and run.json's startedAt.
 * Returns the file's path and the number of steps written.
 */
export function writeRunEvents(
  runDir: string,
  outDir = join(runDir, 'tensorboard'),
): { path: string; steps: number } {
  const config = readJson(join(runDir, 'config.json'));
  const accumulation = (config.train as Row | undefined)?.accumulation;
  if (typeof accumulation !== 'number' || !Number.isInteger(accumulation) || accumulation < 1)
    throw new Error(
      `${join(runDir, 'config.json')}: train.accumulation must be a positive integer, got ${JSON.stringify(accumulation)}`,
    );
  const run = readJson(join(runDir, 'run.json'));
  const startedAt = typeof run.startedAt === 'string' ? Date.parse(run.startedAt) : NaN;
  if (!Number.isFinite(startedAt))
    throw new Error(
      `${join(runDir, 'run.json')}: startedAt must be an ISO date, got ${JSON.stringify(run.startedAt)}`,
    );
  const metricsPath = join(runDir, 'metrics.jsonl');
  let text: string;
  try {
    text = readFileSync(metricsPath, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${metricsPath}: ${(e as Error).message}`);
  }
  const rows = text
    .split('\n')
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, i }) => {
      try {
        return JSON.parse(line) as Row;
      } catch {
        throw new Error(`${metricsPath}: line ${i + 1} is not JSON`);
      }
    });
  const path = writeEventFile(outDir, kitScalarRows(rows, accumulation, startedAt));
  return { path, steps: rows.length };
}
