/**
 * `carp report RUN_DIR [--tensorboard DIR …] [--write-events]`: writes RUN_DIR/report.html
 * — a standalone page (plotly bundle inlined, no CDN) with the loss curves, schedules and
 * every eval result of the run, and the curves of TensorBoard event files (those in the run
 * directory and in each --tensorboard folder, e.g. an official trainer run). With
 * --write-events it also writes the run's metrics.jsonl as an event file for TensorBoard.
 */
import { existsSync } from 'node:fs';
import { writeRunEvents } from '../interop/tensorboard/kitEvents';
import { writeReport } from '../viz/report';
import { parseCommand, UsageError, type OptionSpec } from './args';

const SPEC: Record<string, OptionSpec> = {
  tensorboard: {
    type: 'list',
    help: 'a folder of TensorBoard event files to draw beside the run (repeatable)',
  },
  'write-events': {
    type: 'boolean',
    help: "also write metrics.jsonl as an event file in RUN_DIR/tensorboard (official trainer's tags)",
  },
  json: { type: 'boolean', help: 'print {"report", "events"} as JSON' },
};

export async function reportCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPEC, {
    usage: 'carp report RUN_DIR [--tensorboard DIR …] [--write-events]',
    description: 'Write RUN_DIR/report.html (standalone, offline).',
  });
  if (!parsed) return 0;
  const { options, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('give exactly one RUN_DIR');
  const runDir = positionals[0];
  if (!existsSync(runDir)) throw new UsageError(`run directory ${runDir} does not exist`);
  const tensorboard = (options.tensorboard as string[] | undefined) ?? [];
  for (const d of tensorboard)
    if (!existsSync(d)) throw new UsageError(`--tensorboard folder ${d} does not exist`);
  const ev = options['write-events'] ? writeRunEvents(runDir) : null;
  if (ev && !options.json) process.stdout.write(`events: ${ev.path} (${ev.steps} steps)\n`);
  const r = await writeReport(runDir, { tensorboard });
  process.stdout.write(
    options.json
      ? JSON.stringify(
          { report: r.path, events: ev && { path: ev.path, steps: ev.steps } },
          null,
          2,
        ) + '\n'
      : `report: ${r.path}\n`,
  );
  return 0;
}
