/**
 * Graceful stop of a long run: the first SIGINT (Ctrl-C) or SIGTERM (a scheduler's
 * pre-emption) only raises a flag, so the trainer finishes the micro-step it is in, saves
 * a checkpoint and returns; a second one exits at once (the last checkpoint stays valid:
 * every write is atomic). The exit codes follow the shell's 128 + signal number.
 */

/** What stopped a run early: a signal, or `abort` of the caller's AbortSignal. */
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'abort';

/** Exit status of a run stopped by `signal` (130 for SIGINT, 143 for SIGTERM). */
export function exitCodeOf(signal: StopSignal): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

export interface StopListener {
  /** The signal received, or null while none was. */
  readonly signal: StopSignal | null;
  /** Removes the handlers. */
  dispose(): void;
}

/**
 * Listens for SIGINT/SIGTERM when `enabled`, and for `abort` of `abortSignal` (notebooks,
 * tests) in any case.
 */
export function listenForStop(
  enabled: boolean,
  describeStep: () => string,
  abortSignal?: AbortSignal,
): StopListener {
  let signal: StopSignal | null = abortSignal?.aborted ? 'abort' : null;
  const onAbort = () => (signal ??= 'abort');
  abortSignal?.addEventListener('abort', onAbort);
  if (!enabled) {
    return {
      get signal() {
        return signal;
      },
      dispose: () => abortSignal?.removeEventListener('abort', onAbort),
    };
  }
  const onSignal = (s: 'SIGINT' | 'SIGTERM') => {
    if (signal !== null) {
      process.stderr.write(`\n[carp-kit] second ${s}: exiting without a new checkpoint\n`);
      process.exit(exitCodeOf(s));
    }
    signal = s;
    process.stderr.write(
      `\n[carp-kit] ${s}: stopping once the current micro-step is done (${describeStep()}), ` +
        `then saving a checkpoint (send it again to exit at once)\n`,
    );
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    get signal() {
      return signal;
    },
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      abortSignal?.removeEventListener('abort', onAbort);
    },
  };
}
