/**
 * `carp eval PROTOCOL --checkpoint DIR|FILE [--dataset NAME] [--out DIR] [--json]`.
 * PROTOCOL ∈ knn, linear, kmeans, prototypes, fewshot, retrieval, copydetection. The
 * checkpoint is a carp-kit run directory / `.safetensors`, or an official PyTorch `.pth`
 * (its `teacher`, §8). The dataset defaults to the run's own (ImageNet for `.pth` files);
 * a dataset the network cannot honestly be evaluated on is refused (eval/context.ts).
 * Writes a typed JSON result to `<out>/eval/<protocol>-<dataset>[.<variant>].json` (out
 * defaults to the run directory, or the `.pth`'s folder) and prints a summary (or the
 * JSON with --json). fewshot / retrieval / copydetection run the paper's benchmarks on
 * data prepared with data-scripts/ (voc2007, inat2018; roxford5k, rparis6k; copydays), or
 * the offline proxy on fashion-mnist. An option that does not apply to the protocol is an
 * error.
 */
import { dirname } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { selectBackend } from '../backend/selectBackend';
import { defaultEvalDataset, type EvalContext } from '../eval/context';
import {
  BENCHMARK_DATASETS,
  benchmarkOf,
  runCopyDetection,
  runFewShot,
  runKmeans,
  runKnn,
  runLinear,
  runPrototypes,
  runRetrieval,
} from '../eval/protocols';
import { evalResultName, plainArrays, resultRecord } from '../eval/results';
import { loadTeacher } from '../interop/loadTeacher';
import { parseCommand, UsageError, type OptionSpec } from './args';

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
    help: "dataset name (default: the run's own; imagenet for .pth files; others prepared under $CARP_DATA_DIR)",
  },
  transfer: {
    type: 'boolean',
    help: "allow a dataset other than the run's own with another image size (T-eval resizes)",
  },
  out: { type: 'string', help: 'where eval/ and features/ go (default: the run directory)' },
  limit: {
    type: 'string',
    help: 'a partial run on a seeded class-stratified subset of N images per split (retrieval, copydetection: the first N queries); filed under its own name',
  },
  epochs: {
    type: 'string',
    help: 'linear: epochs (default 100); fewshot on inat2018: (default 20)',
  },
  k: { type: 'string', help: 'knn: comma-separated k values (default 10,20,100,200)' },
  augment: {
    type: 'boolean',
    help: 'linear: train on random resized crops + flips through the backbone (docs/method.md §9.1)',
  },
  shots: {
    type: 'string',
    help: 'fewshot: comma-separated k (default 1,2,4,8,16; inat2018: one k, default 1)',
  },
  runs: { type: 'string', help: 'fewshot (voc2007, fashion-mnist): runs per k (default 5)' },
  mode: { type: 'string', help: 'fewshot on voc2007: full, lowshot or both (default both)' },
  clusters: { type: 'string', help: 'kmeans: number of clusters (default: the number of classes)' },
  'fit-split': {
    type: 'string',
    help: 'kmeans: split to fit on (default train; imagenet: train10percent)',
  },
  imsize: { type: 'string', help: 'retrieval: longest side of the thumbnails (default 512)' },
  distractors: { type: 'string', help: 'copydetection on copydays: folder of distractor images' },
  whitening: { type: 'string', help: 'copydetection on copydays: folder of whitening images' },
  json: {
    type: 'boolean',
    help: 'print the whole result record as JSON (as written to eval/; the summary leaves out per-epoch histories)',
  },
};

/** Where each protocol-specific option applies: [protocol, benchmarks (all when absent)]. */
const APPLIES: Record<string, [string, string[]?][]> = {
  epochs: [['linear'], ['fewshot', ['inat2018']]],
  k: [['knn']],
  augment: [['linear']],
  shots: [['fewshot']],
  runs: [['fewshot', ['voc2007', 'fashion-mnist']]],
  mode: [['fewshot', ['voc2007']]],
  clusters: [['kmeans']],
  'fit-split': [['kmeans']],
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

/** Refuses a dataset the protocol has no benchmark for, and options that do not apply to it. */
function checkDataset(protocol: string, options: Record<string, unknown>, dataset: string): void {
  if (protocol in BENCHMARK_DATASETS) {
    const p = protocol as keyof typeof BENCHMARK_DATASETS;
    const b = benchmarkOf(p, dataset);
    if (b === undefined || (p === 'retrieval' && b !== dataset))
      throw new UsageError(
        `${protocol} runs on ${BENCHMARK_DATASETS[p].join(', ')} (prepared with data-scripts/), not '${dataset}'`,
      );
  }
  checkApplies(options, protocol, dataset);
}

function positiveInt(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

export async function evalCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPEC, {
    usage: `carp eval {${PROTOCOLS.join('|')}} --checkpoint DIR|FILE [--dataset NAME] [--json]`,
    description: 'Run one evaluation protocol of the paper on the frozen teacher.',
  });
  if (!parsed) return 0;
  const { options, positionals } = parsed;
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
  const clusters = positiveInt(options.clusters, 'clusters');
  const fitSplit = options['fit-split'] as string | undefined;
  // An explicit dataset is checked before anything loads; the default needs the checkpoint.
  const given = options.dataset as string | undefined;
  if (given !== undefined) checkDataset(protocol, options, given);
  await selectBackend();
  // Prototypes-as-clusters runs the head too: its keys must all be there.
  const teacher = loadTeacher(checkpoint, {
    need: protocol === 'prototypes' ? 'network' : 'backbone',
  });
  try {
    const dataset = given ?? defaultEvalDataset(teacher);
    if (given === undefined) checkDataset(protocol, options, dataset);
    return await evaluate(protocol, options, teacher, checkpoint, dataset, {
      k,
      shots,
      limit,
      epochs,
      runs,
      imsize,
      mode,
      distractors,
      whitening,
      clusters,
      fitSplit,
    });
  } finally {
    teacher.params.dispose();
  }
}

interface EvalArgs {
  k?: number[];
  shots?: number[];
  limit: number | null;
  epochs?: number;
  runs?: number;
  imsize?: number;
  mode?: 'full' | 'lowshot' | 'both';
  distractors?: string;
  whitening?: string;
  clusters?: number;
  fitSplit?: string;
}

async function evaluate(
  protocol: string,
  options: Record<string, unknown>,
  teacher: EvalContext['teacher'],
  checkpoint: string,
  dataset: string,
  a: EvalArgs,
): Promise<number> {
  const runDir =
    (options.out as string | undefined) ??
    (statSync(checkpoint).isDirectory() ? checkpoint : dirname(checkpoint));
  const ctx: EvalContext = {
    teacher,
    runDir,
    dataset,
    limit: a.limit,
    transfer: options.transfer === true,
  };
  const result = await (async () => {
    switch (protocol) {
      case 'knn':
        return runKnn(ctx, { k: a.k });
      case 'linear':
        return runLinear(ctx, { epochs: a.epochs, augment: options.augment === true });
      case 'kmeans':
        return runKmeans(ctx, { numClusters: a.clusters, fitSplit: a.fitSplit });
      case 'prototypes':
        return runPrototypes(ctx);
      case 'fewshot':
        if (benchmarkOf('fewshot', dataset) === 'inat2018' && a.shots && a.shots.length !== 1)
          throw new UsageError(
            `fewshot on ${dataset}: give one k (--shots), got ${a.shots.join(',')}`,
          );
        return runFewShot(ctx, {
          voc: { shots: a.shots, runs: a.runs, mode: a.mode },
          inat: { shots: a.shots?.[0], epochs: a.epochs },
        });
      case 'retrieval':
        return runRetrieval(ctx, { imsize: a.imsize });
      default:
        return runCopyDetection(ctx, { distractors: a.distractors, whitening: a.whitening });
    }
  })();
  if (options.json) {
    process.stdout.write(JSON.stringify(resultRecord(result), plainArrays, 2) + '\n');
  } else {
    process.stdout.write(
      `${result.protocol} on ${result.dataset}${result.proxy ? ' (offline proxy)' : ''}: ` +
        `${JSON.stringify(result.metrics, (key, v) => (key === 'history' || key === 'prototypeCounts' || key === 'aps' ? undefined : v))}\n` +
        `written to ${runDir}/eval/${evalResultName(result)}.json (${result.seconds.toFixed(1)} s)\n`,
    );
  }
  return 0;
}
