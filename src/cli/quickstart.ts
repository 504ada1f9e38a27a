/**
 * `carp quickstart`: the README's first command. A short CARP pretraining on the
 * embedded Fashion-MNIST (preset `CARP_PRESET`, default `fmnist-small`), then a weighted
 * k-NN evaluation of the trained teacher and, for reference, of a randomly initialised
 * network of the same architecture. Prints the results and the run directory.
 */
import { join } from 'node:path';
import { selectBackend } from '../backend/selectBackend';
import { runKnn } from '../eval/protocols/knn';
import { loadTeacher } from '../interop/loadTeacher';
import { randomInitTeacher } from '../train/randomTeacher';
import { pretrain } from '../train/trainer';
import { plainArrays, resultRecord } from '../eval/results';
import { info } from '../util/log';
import { formatHelp, parseArgs, UsageError, type OptionSpec } from './args';
import { configFromArgs } from './configArgs';

const SPEC: Record<string, OptionSpec> = {
  preset: { type: 'string', help: 'preset (default: $CARP_PRESET or fmnist-small)' },
  set: { type: 'list', help: 'override one config key' },
  out: { type: 'string', help: 'run directory (default: runs/quickstart-<time>)' },
  json: {
    type: 'boolean',
    help: 'print {"pretrain", "knn", "knnRandomInit"} as JSON (the k-NN results in full)',
  },
};

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export async function quickstartCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    process.stdout.write(
      formatHelp(
        'carp quickstart [--preset NAME] [--set k=v …] [--out DIR]',
        SPEC,
        'Short CARP pretraining on Fashion-MNIST, then weighted k-NN (trained vs random init).',
      ),
    );
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
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
  // k-NN bank: the images the run trained on (data.limit); queries: the 10k test images.
  const limit = config.data.limit;
  const trained = loadTeacher(outDir);
  const random = randomInitTeacher(config);
  try {
    const ours = await runKnn(
      { teacher: trained, runDir: outDir, dataset: 'fashion-mnist', limit },
      { k: [10, 20, 100, 200] },
    );
    const base = await runKnn(
      {
        teacher: random,
        runDir: join(outDir, 'baseline-random-init'),
        dataset: 'fashion-mnist',
        limit,
      },
      { k: [10, 20, 100, 200] },
    );
    if (options.json) {
      process.stdout.write(
        JSON.stringify(
          { pretrain: run, knn: resultRecord(ours), knnRandomInit: resultRecord(base) },
          plainArrays,
          2,
        ) + '\n',
      );
      return 0;
    }
    const row = (k: string) => {
      const a = (ours.metrics as Record<string, { top1: number }>)[k].top1 * 100;
      const b = (base.metrics as Record<string, { top1: number }>)[k].top1 * 100;
      return `  k=${k.padEnd(4)} trained ${a.toFixed(2)}%   random init ${b.toFixed(2)}%`;
    };
    process.stdout.write(
      `\npretraining: ${run.steps} micro-steps in ${(run.seconds / 60).toFixed(1)} min, ${run.imagesPerSecond.toFixed(1)} images/s` +
        (run.lastMetrics ? `, final loss ${run.lastMetrics.loss.toFixed(4)}` : '') +
        `\nweighted k-NN top-1 on Fashion-MNIST test (${ours.splits.test} queries, bank of ${ours.splits.train}):\n` +
        ['10', '20', '100', '200'].map(row).join('\n') +
        `\n\nrun directory: ${outDir}\n  results: ${join(outDir, 'eval', 'knn-fashion-mnist.json')}\n` +
        `  report:  npx carp report ${outDir}\n`,
    );
  } finally {
    trained.params.dispose();
    random.params.dispose();
  }
  return 0;
}
