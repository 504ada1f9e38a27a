/**
 * `carp eval PROTOCOL --checkpoint DIR|FILE [--dataset NAME] [--out DIR] [--json]`
 * (DESIGN.md §3.3). PROTOCOL ∈ knn, linear, kmeans, prototypes, fewshot, retrieval,
 * copydetection. The checkpoint is a carp-kit run directory / `.safetensors`, or an
 * official PyTorch `.pth` (its `teacher`, spec §8). Writes a typed JSON result to
 * `<out>/eval/<protocol>-<dataset>.json` (out defaults to the run directory, or the
 * `.pth`'s folder) and prints a summary (or the JSON with --json).
 * fewshot / retrieval / copydetection run the paper's benchmarks on data prepared with
 * data-scripts/ (voc2007, inat2018; roxford5k, rparis6k; copydays), or the offline proxy
 * on fashion-mnist. An option that does not apply to the protocol is an error.
 */
import { dirname } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { selectBackend } from '../backend/selectBackend';
import {
  BENCHMARK_DATASETS,
  benchmarkOf,
  runCopyDetection,
  runFewShot,
  runRetrieval,
} from '../eval/paperProtocols';
import {
  runKmeans,
  runKnn,
  runLinear,
  runPrototypes,
  type ProtocolContext,
} from '../eval/protocols/knn';
import { loadTeacher } from '../interop/loadTeacher';
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
  limit: {
    type: 'string',
    help: 'use only the first N images of each split (retrieval, copydetection: the first N queries)',
  },
  epochs: {
    type: 'string',
    help: 'linear: epochs (default 100); fewshot on inat2018: (default 20)',
  },
  k: { type: 'string', help: 'knn: comma-separated k values (default 10,20,100,200)' },
  augment: {
    type: 'boolean',
    help: 'linear: train on random resized crops + flips through the backbone (spec §9.1)',
  },
  shots: {
    type: 'string',
    help: 'fewshot: comma-separated k (default 1,2,4,8,16; inat2018: one k, default 1)',
  },
  runs: { type: 'string', help: 'fewshot (voc2007, fashion-mnist): runs per k (default 5)' },
  mode: { type: 'string', help: 'fewshot on voc2007: full, lowshot or both (default both)' },
  imsize: { type: 'string', help: 'retrieval: longest side of the thumbnails (default 512)' },
  distractors: { type: 'string', help: 'copydetection on copydays: folder of distractor images' },
  whitening: { type: 'string', help: 'copydetection on copydays: folder of whitening images' },
  json: { type: 'boolean', help: 'print the result JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

/** Where each protocol-specific option applies: [protocol, benchmarks (all when absent)]. */
const APPLIES: Record<string, [string, string[]?][]> = {
  epochs: [['linear'], ['fewshot', ['inat2018']]],
  k: [['knn']],
  augment: [['linear']],
  shots: [['fewshot']],
  runs: [['fewshot', ['voc2007', 'fashion-mnist']]],
  mode: [['fewshot', ['voc2007']]],
  imsize: [['retrieval', ['roxford5k', 'rparis6k']]],
  distractors: [['copydetection', ['copydays']]],
  whitening: [['copydetection', ['copydays']]],
};

function checkApplies(options: Record<string, unknown>, protocol: string, dataset: string): void {
  const bench =
    protocol in BENCHMARK_DATASETS
      ? benchmarkOf(protocol as keyof typeof BENCHMARK_DATASETS, dataset)
      : undefined;
  for (const [name, rules] of Object.entries(APPLIES)) {
    if (options[name] === undefined) continue;
    if (rules.some(([p, b]) => p === protocol && (!b || b.includes(bench ?? dataset)))) continue;
    const where = rules.map(([p, b]) => (b ? `${p} on ${b.join('/')}` : p)).join(', ');
    throw new UsageError(`--${name} applies to ${where}, not ${protocol} on ${dataset}`);
  }
}

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
  const list = (name: string) =>
    options[name] === undefined
      ? undefined
      : String(options[name])
          .split(',')
          .map((v) => positiveInt(v, name)!);
  const k = list('k');
  const shots = list('shots');
  const limit = positiveInt(options.limit, 'limit') ?? null;
  const epochs = positiveInt(options.epochs, 'epochs');
  const runs = positiveInt(options.runs, 'runs');
  const imsize = positiveInt(options.imsize, 'imsize');
  const mode = options.mode as 'full' | 'lowshot' | 'both' | undefined;
  if (mode !== undefined && !['full', 'lowshot', 'both'].includes(mode))
    throw new UsageError(`--mode must be full, lowshot or both, got '${mode}'`);
  const folder = (name: string) => {
    const dir = options[name] as string | undefined;
    if (dir !== undefined && !existsSync(dir))
      throw new UsageError(`--${name} ${dir} does not exist`);
    return dir;
  };
  const distractors = folder('distractors');
  const whitening = folder('whitening');
  const dataset = (options.dataset as string | undefined) ?? 'fashion-mnist';
  if (protocol in BENCHMARK_DATASETS) {
    const p = protocol as keyof typeof BENCHMARK_DATASETS;
    const b = benchmarkOf(p, dataset);
    if (b === undefined || (p === 'retrieval' && b !== dataset))
      throw new UsageError(
        `${protocol} runs on ${BENCHMARK_DATASETS[p].join(', ')} (prepared with data-scripts/), not '${dataset}'`,
      );
  }
  checkApplies(options, protocol, dataset);
  const runDir =
    (options.out as string | undefined) ??
    (statSync(checkpoint).isDirectory() ? checkpoint : dirname(checkpoint));

  await selectBackend();
  const teacher = loadTeacher(checkpoint);
  const ctx: ProtocolContext = { teacher, runDir, dataset, limit };
  try {
    const result = await (async () => {
      switch (protocol) {
        case 'knn':
          return runKnn(ctx, { k });
        case 'linear':
          return runLinear(ctx, { epochs, augment: options.augment === true });
        case 'kmeans':
          return runKmeans(ctx);
        case 'prototypes':
          return runPrototypes(ctx);
        case 'fewshot':
          return runFewShot(ctx, { shots, runs, mode, inat: { epochs } });
        case 'retrieval':
          return runRetrieval(ctx, { imsize });
        default:
          return runCopyDetection(ctx, { distractors, whitening });
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
