/**
 * Progress reporting for long work (training, feature extraction): step/total,
 * images/s, ETA and the latest loss. On a TTY one line is rewritten in place; otherwise
 * (CI, notebooks, pipes) plain lines are printed at most every `everySeconds`.
 */
import { logs } from './log';

export interface ProgressOptions {
  total: number;
  label: string;
  /** Items (images) per step, for the images/s figure. */
  itemsPerStep: number;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
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
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly now: () => number;
  private startStep = 0;

  constructor(private readonly o: ProgressOptions) {
    this.stream = o.stream ?? process.stderr;
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
