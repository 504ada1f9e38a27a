/**
 * `metrics.jsonl` (architecture §3.4): one JSON object per logged micro-step, appended and
 * flushed line by line so a crash loses at most the line being written. On resume, lines
 * beyond the checkpoint's step are dropped so the log matches the restored state.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic';

/**
 * One logged micro-step (§7: loss terms, m_t, lr_t, pseudo-label accuracy). A type
 * alias, not an interface, so it is assignable to `Record<string, unknown>` (viz rows).
 */
export type StepMetrics = {
  /** Global micro-step t. */
  step: number;
  epoch: number;
  /** L = L_cons + L_reg of the micro-batch (the reference logs L/A). */
  loss: number;
  consistency: number;
  entropy: number;
  lr: number;
  wd: number;
  /** Teacher EMA momentum m_t. */
  momentum: number;
  /** Pseudo-label top-1 / top-5 (fractions, §7). */
  top1: number;
  top5: number;
  /** Distinct images per second over the steps since the previous line. */
  imagesPerSecond: number;
  /** Seconds since the run (or resume) started. */
  elapsed: number;
};

export function appendMetrics(path: string, m: StepMetrics): void {
  appendFileSync(path, JSON.stringify(m) + '\n');
}

export function readMetrics(path: string): StepMetrics[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as StepMetrics;
      } catch {
        throw new Error(`${path}: line ${i + 1} is not JSON`);
      }
    });
}

/** Keeps only the lines of steps < `step` (used when resuming from a checkpoint). */
export function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readMetrics(path).filter((m) => m.step < step);
  writeFileAtomic(path, kept.map((m) => JSON.stringify(m) + '\n').join(''));
}
