/**
 * The log level of everything the kit prints besides results: `error` (only failures),
 * `warn` (+ warnings), `info` (+ progress and notes; the default), `debug` (+ stack traces
 * of failures). Set by `CARP_LOG_LEVEL` or, in the CLI, `--quiet` (= `warn`). Results and
 * `--json` output are not log lines and are always printed.
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let override: LogLevel | undefined;

/** The level from `CARP_LOG_LEVEL`; an unknown value is an error naming the valid ones. */
export function envLogLevel(): LogLevel {
  const v = process.env.CARP_LOG_LEVEL;
  if (v === undefined || v === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(v))
    throw new Error(`CARP_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${v}'`);
  return v as LogLevel;
}

/** The level in force (`setLogLevel`, else the environment; `info` for a bad value). */
export function logLevel(): LogLevel {
  if (override) return override;
  try {
    return envLogLevel();
  } catch {
    return 'info';
  }
}

/** Sets the level for this process (undefined: back to `CARP_LOG_LEVEL`). */
export function setLogLevel(level: LogLevel | undefined): void {
  override = level;
}

/** True when messages of `level` are shown. */
export function logs(level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(logLevel());
}

let infoSink: ((message: string) => void) | undefined;

/**
 * Sends informational lines to `sink` instead of stderr (a notebook draws them in the
 * cell rather than as red stderr text), or back to stderr with undefined.
 */
export function setInfoSink(sink: ((message: string) => void) | undefined): void {
  infoSink = sink;
}

/** One informational line on stderr, or the sink `setInfoSink` installed (progress notes, what a step is doing). */
export function info(message: string): void {
  if (!logs('info')) return;
  if (infoSink) infoSink(message);
  else process.stderr.write(`${message}\n`);
}
