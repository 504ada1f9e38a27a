/**
 * `carp report RUN_DIR`: writes RUN_DIR/report.html — a standalone page (plotly bundle
 * inlined, no CDN) with the loss curves, schedules and every eval result of the run.
 */
import { existsSync } from 'node:fs';
import { writeReport } from '../viz/report';
import { formatHelp, parseArgs, UsageError, type OptionSpec } from './args';

const SPEC: Record<string, OptionSpec> = {
  help: { type: 'boolean', help: 'show this help' },
};

export async function reportCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    process.stdout.write(
      formatHelp('carp report RUN_DIR', SPEC, 'Write RUN_DIR/report.html (standalone, offline).'),
    );
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one RUN_DIR');
  const runDir = positionals[0];
  if (!existsSync(runDir)) throw new UsageError(`run directory ${runDir} does not exist`);
  const r = await writeReport(runDir);
  process.stdout.write(`report: ${r.path}\n`);
  return 0;
}
