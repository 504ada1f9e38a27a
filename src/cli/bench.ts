/**
 * `carp bench` / `npm run bench`: the benchmark scenarios, each measured against its
 * peer in the same run (see src/bench/).
 */
import { formatHelp, parseArgs, UsageError, type OptionSpec } from './args';

const SPEC: Record<string, OptionSpec> = {
  only: {
    type: 'list',
    help: 'run only these scenarios (ids as listed by --list, or a group: sweep)',
  },
  list: { type: 'boolean', help: 'list the scenarios' },
  'no-peer': { type: 'boolean', help: 'skip the peers (ours only)' },
  out: { type: 'string', help: 'results file (default bench/results.json)' },
  json: {
    type: 'boolean',
    help: 'print the results JSON (--list: the scenarios) instead of the table',
  },
};

export async function benchCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (positionals.length > 0 && !options.help)
    throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (options.help) {
    process.stdout.write(
      formatHelp(
        'carp bench [--only ID …] [--no-peer] [--out FILE]',
        SPEC,
        'Speed and memory benchmarks vs the peers users would pick instead.',
      ),
    );
    return 0;
  }
  // Loaded lazily: the scenarios pull in TensorFlow.js and faiss.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runBench, SCENARIOS } = require('../bench/main') as typeof import('../bench/main');
  if (options.list) {
    if (options.json) {
      const list = SCENARIOS.map((s) => ({ id: s.id, description: s.description }));
      process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      return 0;
    }
    for (const s of SCENARIOS)
      process.stdout.write(
        `${s.id.padEnd(32)} ${s.group ? `[${s.group}] ` : ''}${s.description}\n`,
      );
    return 0;
  }
  const report = await runBench({
    only: options.only as string[] | undefined,
    noPeer: options['no-peer'] === true,
    out: options.out as string | undefined,
    ...(options.json ? { print: () => {} } : {}),
  });
  if (options.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  return 0;
}
