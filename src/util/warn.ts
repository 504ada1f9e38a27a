/**
 * One-line warnings for things a run should not hide but need not stop for (a checkpoint
 * without a digest, non-essential keys missing from a `.pth`, a partial last line of
 * `metrics.jsonl`, a stale lock taken over). They go to stderr with a `[carp-kit]`
 * prefix; tests and notebooks can capture them with `captureWarnings`.
 */

import { logs } from './log';

type Sink = (line: string) => void;

let sink: Sink = (line) => {
  if (logs('warn')) process.stderr.write(`[carp-kit] warning: ${line}\n`);
};

/** Writes one warning line (newlines in `message` are folded to '; '). */
export function warn(message: string): void {
  sink(message.replace(/\s*\n\s*/g, '; '));
}

/** Runs `fn` with warnings collected into the returned array instead of stderr. */
export async function captureWarnings<T>(
  fn: () => T | Promise<T>,
): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const prev = sink;
  sink = (l) => warnings.push(l);
  try {
    return { value: await fn(), warnings };
  } finally {
    sink = prev;
  }
}

/** Synchronous variant of `captureWarnings`. */
export function captureWarningsSync<T>(fn: () => T): { value: T; warnings: string[] } {
  const warnings: string[] = [];
  const prev = sink;
  sink = (l) => warnings.push(l);
  try {
    return { value: fn(), warnings };
  } finally {
    sink = prev;
  }
}
