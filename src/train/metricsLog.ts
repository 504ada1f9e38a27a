/**
 * `metrics.jsonl` of a run directory: one JSON object per logged micro-step, appended
 * line by line so a crash loses at most the line being written (and reading drops such a
 * partial last line). On resume, lines beyond the checkpoint's step are dropped so the log
 * matches the restored state.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic';
import { FormatError } from '../util/formatError';
import { warn } from '../util/warn';
import type { StepResult } from '../carp/trainStep';
import type { Run } from './runSetup';

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

/**
 * Reads the log. A last line without its newline that does not parse is what a crash
 * mid-append leaves: it is dropped with one warning. Any other line that is not a JSON
 * object with a numeric `step` is corruption: a `FormatError` with its line number.
 */
export function readMetrics(path: string): StepMetrics[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  // `text` ends with '\n' when every line is complete: the last piece is then ''.
  const partial = lines.pop() ?? '';
  const rows: StepMetrics[] = [];
  lines.forEach((l, i) => {
    if (l.trim() === '') return;
    const m = parseLine(l);
    if (!m) {
      throw new FormatError(
        path,
        `line ${i + 1} is not a metrics record (expected a JSON object with a numeric step): ` +
          JSON.stringify(l.slice(0, 80)),
      );
    }
    rows.push(m);
  });
  if (partial.trim() !== '') {
    const m = parseLine(partial);
    if (m) rows.push(m);
    else {
      warn(
        `${path}: dropping the partial last line ${lines.length + 1} (${partial.length} bytes ` +
          `without a newline: a crash while it was written)`,
      );
    }
  }
  return rows;
}

function parseLine(l: string): StepMetrics | null {
  try {
    const m = JSON.parse(l) as StepMetrics;
    return typeof m === 'object' && m !== null && Number.isInteger(m.step) ? m : null;
  } catch {
    return null;
  }
}

/** Keeps only the lines of steps < `step` (used when resuming from a checkpoint). */
export function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readMetrics(path).filter((m) => m.step < step);
  writeFileAtomic(path, kept.map((m) => JSON.stringify(m) + '\n').join(''));
}

/** Builds, reports and appends (every `logEvery`) the metrics of each micro-step. */
export class MetricsWriter {
  last: StepMetrics | null = null;
  private readonly t0 = performance.now();
  private lastTime = this.t0;
  private lastStep: number;

  constructor(
    private readonly run: Run,
    private readonly onStep?: (m: StepMetrics) => void,
  ) {
    this.lastStep = run.position.globalStep;
  }

  write(r: StepResult, batch: { epoch: number }): void {
    const { train, optim } = this.run.config;
    const t = this.run.position.globalStep;
    const now = performance.now();
    const m: StepMetrics = {
      step: t,
      epoch: batch.epoch,
      loss: r.loss,
      consistency: r.consistency,
      entropy: r.entropy,
      lr: this.run.lrSchedule[t],
      wd: optim.weightDecay,
      momentum: this.run.momentumSchedule[t],
      top1: r.top1,
      top5: r.top5,
      imagesPerSecond: ((t + 1 - this.lastStep) * train.batchSize) / ((now - this.lastTime) / 1000),
      elapsed: (now - this.t0) / 1000,
    };
    this.last = m;
    this.onStep?.(m);
    if (t % train.logEvery === 0 || t + 1 === this.run.totalSteps) {
      appendMetrics(this.run.metricsPath, m);
      this.lastTime = now;
      this.lastStep = t + 1;
    }
  }
}
