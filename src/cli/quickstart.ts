/**
 * `carp quickstart`: the README's first command. A short CARP pretraining on the
 * embedded Fashion-MNIST (preset `CARP_PRESET`, default `fmnist-small`), then the weighted
 * k-NN of the standard protocol (all 60 000 training images as the bank, the 10 000 test
 * images as queries) for the trained teacher and, on the same protocol, a randomly
 * initialised network (BN statistics re-estimated) and raw pixels. Prints the results and
 * the run directory.
 */
import { join } from 'node:path';
import { selectBackend } from '../backend/selectBackend';
import { knnBaselines } from '../experiments/knnBaselines';
import { loadTeacher } from '../interop/loadTeacher';
import { pretrain } from '../train/trainer';
import { plainArrays } from '../eval/results';
import { info } from '../util/log';
import { parseCommand, UsageError, type OptionSpec } from './args';
import { configFromArgs } from './configArgs';

const SPEC: Record<string, OptionSpec> = {
  preset: { type: 'string', help: 'preset (default: $CARP_PRESET or fmnist-small)' },
  set: { type: 'list', help: 'override one config key' },
  out: { type: 'string', help: 'run directory (default: runs/quickstart-<time>)' },
  json: {
    type: 'boolean',
    help: 'print {"pretrain", "knn"} as JSON (knn: the teacher, random-init and raw-pixel rows in full)',
  },
};

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export async function quickstartCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    SPEC,
    {
      usage: 'carp quickstart [--preset NAME] [--set k=v …] [--out DIR]',
      description:
        'Short CARP pretraining on Fashion-MNIST, then weighted k-NN (trained vs random init vs raw pixels).',
    },
    0,
  );
  if (!parsed) return 0;
  const { options } = parsed;
  const preset =
    (options.preset as string | undefined) ?? process.env.CARP_PRESET ?? 'fmnist-small';
  const config = configFromArgs({ preset, set: options.set });
  if (config.data.dataset !== 'fashion-mnist') {
    throw new UsageError(
      `quickstart runs on the embedded fashion-mnist; preset '${preset}' uses ${config.data.dataset}`,
    );
  }
  const outDir = (options.out as string | undefined) ?? join('runs', `quickstart-${stamp()}`);
  const choice = await selectBackend();
  info(`quickstart: preset ${config.preset}, backend ${choice.backend}, run directory ${outDir}`);

  const run = await pretrain({ config, outDir });
  // The standard protocol (§9.2): every training image is the bank, every test image a
  // query; beside the trained teacher, the two baselines it must beat.
  const trained = loadTeacher(outDir);
  try {
    const cmp = await knnBaselines({ teacher: trained, config, runDir: outDir, limit: null });
    if (options.json) {
      const knn = { splits: cmp.splits, k: cmp.k, seconds: cmp.seconds, rows: cmp.rows };
      process.stdout.write(JSON.stringify({ pretrain: run, knn }, plainArrays, 2) + '\n');
      return 0;
    }
    const [bankSplit, querySplit] = Object.keys(cmp.splits);
    const pct = (v: number) => `${(100 * v).toFixed(2)}%`.padStart(7);
    const width = Math.max(...cmp.rows.map((r) => r.features.length));
    process.stdout.write(
      `\npretraining: ${run.steps} micro-steps in ${(run.seconds / 60).toFixed(1)} min, ${run.imagesPerSecond.toFixed(1)} images/s` +
        (run.lastMetrics ? `, final loss ${run.lastMetrics.loss.toFixed(4)}` : '') +
        `\nweighted k-NN top-1 on Fashion-MNIST (bank: ${cmp.splits[bankSplit]} ${bankSplit} images, ` +
        `queries: ${cmp.splits[querySplit]} ${querySplit} images; chance 10%):\n` +
        `  ${''.padEnd(width)}  ${cmp.k.map((k) => `k=${k}`.padStart(7)).join(' ')}\n` +
        cmp.rows
          .map(
            (r) =>
              `  ${r.features.padEnd(width)}  ${cmp.k.map((k) => pct(r.metrics[k].top1)).join(' ')}`,
          )
          .join('\n') +
        `\n\nrun directory: ${outDir}\n  results: ${join(outDir, 'eval', 'knn-fashion-mnist.json')}\n` +
        `  report:  npx carp report ${outDir}\n`,
    );
  } finally {
    trained.params.dispose();
  }
  return 0;
}
