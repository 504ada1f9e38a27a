/**
 * `carp eval PROTOCOL --checkpoint DIR|FILE [--dataset NAME] [--out DIR] [--json]`
 * (DESIGN.md §3.3). PROTOCOL ∈ knn, linear, kmeans, prototypes, fewshot, retrieval,
 * copydetection. The checkpoint is a carp-kit run directory / `.safetensors`, or an
 * official PyTorch `.pth` (its `teacher`, spec §8). Writes a typed JSON result to
 * `<out>/eval/<protocol>-<dataset>.json` (out defaults to the run directory, or the
 * `.pth`'s folder) and prints a summary (or the JSON with --json).
 */
import { dirname } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { selectBackend } from '../backend/selectBackend';
import {
  runCopyDetectionProxy,
  runFewShotProxy,
  runKmeans,
  runKnn,
  runLinear,
  runPrototypes,
  runRetrievalProxy,
  type ProtocolContext,
} from '../eval/protocols';
import { loadTeacher } from '../train/loadTeacher';
import { formatHelp, parseArgs, UsageError, type OptionSpec } from './args';

export const PROTOCOLS = [
  'knn',
  'linear',
  'kmeans',
  'prototypes',
  'fewshot',
  'retrieval',
  'copydetection',
] as const;

const SPEC: Record<string, OptionSpec> = {
  checkpoint: { type: 'string', help: 'run directory, .safetensors checkpoint or official .pth' },
  dataset: {
    type: 'string',
    help: 'dataset name (default fashion-mnist; others prepared under $CARP_DATA_DIR)',
  },
  out: { type: 'string', help: 'where eval/ and features/ go (default: the run directory)' },
  limit: { type: 'string', help: 'use only the first N images of each split' },
  epochs: { type: 'string', help: 'linear: epochs (default 100)' },
  k: { type: 'string', help: 'knn: comma-separated k values (default 10,20,100,200)' },
  json: { type: 'boolean', help: 'print the result JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

function positiveInt(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    process.stdout.write(
      formatHelp(
        `carp eval {${PROTOCOLS.join('|')}} --checkpoint DIR|FILE [--dataset NAME] [--json]`,
        SPEC,
        'Run one evaluation protocol of the paper on the frozen teacher.',
      ),
    );
    return 0;
  }
  const protocol = positionals[0];
  if (!protocol) throw new UsageError(`give a protocol (${PROTOCOLS.join(', ')})`);
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new UsageError(`unknown protocol '${protocol}' (valid: ${PROTOCOLS.join(', ')})`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const checkpoint = options.checkpoint as string | undefined;
  if (!checkpoint) throw new UsageError('--checkpoint DIR|FILE is required');
  if (!existsSync(checkpoint)) throw new UsageError(`--checkpoint ${checkpoint} does not exist`);
  const k =
    options.k === undefined
      ? undefined
      : String(options.k)
          .split(',')
          .map((s) => positiveInt(s, 'k')!);
  const limit = positiveInt(options.limit, 'limit') ?? null;
  const epochs = positiveInt(options.epochs, 'epochs');
  const runDir =
    (options.out as string | undefined) ??
    (statSync(checkpoint).isDirectory() ? checkpoint : dirname(checkpoint));

  await selectBackend();
  const teacher = loadTeacher(checkpoint);
  const ctx: ProtocolContext = {
    teacher,
    runDir,
    dataset: (options.dataset as string | undefined) ?? 'fashion-mnist',
    limit,
  };
  try {
    const result = await (async () => {
      switch (protocol) {
        case 'knn':
          return runKnn(ctx, { k });
        case 'linear':
          return runLinear(ctx, { epochs });
        case 'kmeans':
          return runKmeans(ctx);
        case 'prototypes':
          return runPrototypes(ctx);
        case 'fewshot':
          return runFewShotProxy(ctx);
        case 'retrieval':
          return runRetrievalProxy(ctx);
        default:
          return runCopyDetectionProxy(ctx);
      }
    })();
    if (options.json) {
      process.stdout.write(
        JSON.stringify(
          result,
          (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v),
          2,
        ) + '\n',
      );
    } else {
      process.stdout.write(
        `${result.protocol} on ${result.dataset}${result.proxy ? ' (offline proxy)' : ''}: ` +
          `${JSON.stringify(result.metrics, (key, v) => (key === 'history' || key === 'prototypeCounts' || key === 'aps' ? undefined : v)).slice(0, 600)}\n` +
          `written to ${runDir}/eval/${result.protocol}-${result.dataset}.json (${result.seconds.toFixed(1)} s)\n`,
      );
    }
  } finally {
    teacher.params.dispose();
  }
  return 0;
}
