/**
 * Progress reporting for long work (training, feature extraction): step/total,
 * images/s, ETA and the latest loss. On a TTY one line is rewritten in place; otherwise
 * (CI, pipes) plain lines are printed at most every `everySeconds`. A notebook routes
 * them into one display per progress that is redrawn in place (`setProgressStreams`).
 */
import { logs } from './log';

/** Where progress lines are written: stderr, or a display that redraws one line in place. */
export interface ProgressStream {
  write(text: string): unknown;
  /** True when `\r` rewrites the line (a terminal, a notebook display): every update is written. */
  isTTY?: boolean;
}

let streamFor: ((label: string) => ProgressStream) | undefined;

/**
 * Routes the progress of every `Progress` created without a `stream` to `factory(label)`
 * (one stream per progress, e.g. one updating notebook display each), or back to stderr
 * with undefined.
 */
export function setProgressStreams(factory: ((label: string) => ProgressStream) | undefined): void {
  streamFor = factory;
}

export interface ProgressOptions {
  total: number;
  label: string;
  /** Items (images) per step, for the images/s figure. */
  itemsPerStep: number;
  /** Default: the stream `setProgressStreams` installed, else stderr. */
  stream?: ProgressStream;
  everySeconds?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(r).padStart(2, '0')}s`
      : `${r}s`;
}

export class Progress {
  private readonly start: number;
  private lastPrint = -Infinity;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private startStep = 0;

  constructor(private readonly o: ProgressOptions) {
    this.stream = o.stream ?? streamFor?.(o.label) ?? process.stderr;
    this.now = o.now ?? (() => performance.now() / 1000);
    this.start = this.now();
  }

  /** Marks the step the timing starts from (after a resume, earlier steps took no time here). */
  resumeAt(step: number): void {
    this.startStep = step;
  }

  /** Formats the line for `step` (1-based count of completed steps). */
  line(step: number, fields: Record<string, number | string> = {}): string {
    const elapsed = this.now() - this.start;
    const done = step - this.startStep;
    const rate = done > 0 && elapsed > 0 ? (done * this.o.itemsPerStep) / elapsed : 0;
    const eta = done > 0 ? ((this.o.total - step) * elapsed) / done : NaN;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(4) : v}`)
      .join('  ');
    return (
      `${this.o.label} ${step}/${this.o.total}  ${rate.toFixed(1)} img/s  ` +
      `ETA ${formatDuration(eta)}${extra ? '  ' + extra : ''}`
    );
  }

  update(step: number, fields: Record<string, number | string> = {}): void {
    if (!logs('info')) return;
    const t = this.now();
    const last = step >= this.o.total;
    if (this.stream.isTTY) {
      this.stream.write(`\r${this.line(step, fields)}\x1b[K${last ? '\n' : ''}`);
    } else if (last || t - this.lastPrint >= (this.o.everySeconds ?? 10)) {
      this.stream.write(this.line(step, fields) + '\n');
      this.lastPrint = t;
    }
  }
}
