/**
 * What every notebook starts with, in one call (no notebook repeats it): the backend, the
 * preset (`CARP_PRESET`, default `fmnist-small`; CI runs `fmnist-tiny`), its resolved
 * config, the shared run directory, the evaluation sizes, and progress drawn in the
 * notebook (one updating display per progress, not stderr lines). `sharedRun()` returns
 * the trained run that the evaluation notebooks share (reused, resumed or trained).
 */
import { join } from 'node:path';
import { selectBackend, type BackendChoice } from '../backend/selectBackend';
import { resolveConfig } from '../config/resolve';
import type { CarpConfig } from '../config/schema';
import type { ImageDataset } from '../data/dataset';
import { evalSplits, materialize, openDataset } from '../data/datasets';
import type { EvalContext } from '../eval/context';
import { loadTeacher, type LoadedTeacher } from '../interop/loadTeacher';
import { ensureRun, type EnsureRunResult } from '../train/ensureRun';
import { randomInitTeacher } from '../train/randomTeacher';
import { formatDuration } from '../util/progress';
import { LiveTrainingCurves, showProgressInNotebook, type ShowOptions } from '../viz/display';

/** The preset notebooks run when `CARP_PRESET` is not set. */
export const NOTEBOOK_PRESET = 'fmnist-small';
/** The preset CI runs the notebooks with (seconds per notebook). */
export const NOTEBOOK_CI_PRESET = 'fmnist-tiny';
/** Images per split the CI preset evaluates (seeded class-stratified subsets). */
export const NOTEBOOK_CI_EVAL_LIMIT = 512;

/** The run that notebooks 02–09 evaluate, with its teacher. */
export interface SharedRun {
  run: EnsureRunResult;
  teacher: LoadedTeacher;
  /** The evaluation context of every protocol runner: teacher, run directory, dataset, sizes. */
  ctx: EvalContext;
  /** The live training curves (when asked for), with every logged row. */
  curves?: LiveTrainingCurves;
  /**
   * The baseline every protocol notebook shows: a randomly initialised network of the
   * same architecture, evaluated like the teacher, its results in
   * `<runDir>/baseline-random-init`. Call `dispose()` when done.
   */
  randomInit(): { ctx: EvalContext; dispose(): void };
}

export interface NotebookContext {
  preset: string;
  config: CarpConfig;
  /** The TensorFlow.js backend in use and why the others were skipped. */
  backend: BackendChoice;
  /** True under the CI preset: evaluations run on subsets (`evalLimit`). */
  ci: boolean;
  /** The shared run of this preset, e.g. `../runs/notebooks-fmnist-small`. */
  runDir: string;
  /** Images per split the protocols evaluate: null (every image: the standard protocols) except in CI. */
  evalLimit: number | null;
  /** `ci` under the CI preset, else `full`: sizes a notebook chooses per preset. */
  sized<T>(ci: T, full: T): T;
  /** The shared run (see `SharedRun`); `liveCurves` draws the loss while it trains (or replays it). */
  sharedRun(o?: { liveCurves?: boolean }): Promise<SharedRun>;
  /** A run directory next to the shared one (ablations, demonstrations): `../runs/<name>`. */
  runPath(name: string): string;
  /** Seconds since `notebookContext()`, as "1m05s". */
  elapsed(): string;
  /**
   * Image counts of the preset's dataset, read from the dataset itself: its bank and query
   * splits (`evalSplits`), what the protocols evaluate (`evalLimit` applied), and the
   * images pretraining sees (`data.limit` applied).
   */
  sizes(): Promise<DatasetSizes>;
  /** One line for the reader: preset, backend, run directory, evaluation sizes. */
  describe(): string;
  /**
   * The images the protocols evaluate of the bank or query split (the same seeded subset
   * under `evalLimit`), in the order of their features, assignments and predictions.
   */
  evalImages(split: 'bank' | 'query'): Promise<ImageDataset>;
}

export interface DatasetSizes {
  dataset: string;
  /** Split names and their full image counts, e.g. { train: 60000, test: 10000 }. */
  splits: { bank: string; query: string; bankCount: number; queryCount: number };
  /** Images per split the protocols evaluate (the full counts unless `evalLimit`). */
  evaluated: { bank: number; query: number };
  /** Images pretraining draws from. */
  training: number;
}

/**
 * Sets up a notebook. `preset` overrides `CARP_PRESET`; `runsDir` is where runs go
 * (default `../runs`: the project's runs/ seen from notebooks/). Progress and notes are
 * drawn through tslab, so outside a notebook pass `progress: false` (they stay on stderr).
 */
export async function notebookContext(
  o: { preset?: string; runsDir?: string; progress?: boolean } & ShowOptions = {},
): Promise<NotebookContext> {
  const t0 = performance.now();
  const backend = await selectBackend({ log: () => {} });
  if (o.progress !== false) showProgressInNotebook({ host: o.host });
  const preset = o.preset ?? process.env.CARP_PRESET ?? NOTEBOOK_PRESET;
  const config = resolveConfig(preset);
  const ci = preset === NOTEBOOK_CI_PRESET;
  const runsDir = o.runsDir ?? join('..', 'runs');
  const runDir = join(runsDir, `notebooks-${preset}`);
  const evalLimit = ci ? NOTEBOOK_CI_EVAL_LIMIT : null;
  return {
    preset,
    config,
    backend,
    ci,
    runDir,
    evalLimit,
    sized: (small, full) => (ci ? small : full),
    runPath: (name) => join(runsDir, name),
    elapsed: () => formatDuration((performance.now() - t0) / 1000),
    async sizes() {
      const dataset = config.data.dataset;
      const names = evalSplits(dataset);
      const bank = await openDataset(dataset, names.bank);
      const query = await openDataset(dataset, names.query);
      // Pretraining reads the `train` split (train/runSetup.ts).
      const train = names.bank === 'train' ? bank : await openDataset(dataset, 'train');
      const count = train.count;
      await Promise.all([bank.close(), query.close(), train.close()]);
      const cap = (n: number, limit: number | null | undefined) =>
        limit === null || limit === undefined ? n : Math.min(n, limit);
      return {
        dataset,
        splits: { ...names, bankCount: bank.count, queryCount: query.count },
        evaluated: { bank: cap(bank.count, evalLimit), query: cap(query.count, evalLimit) },
        training: cap(count, config.data.limit),
      };
    },
    async evalImages(split) {
      const dataset = config.data.dataset;
      const source = await openDataset(dataset, evalSplits(dataset)[split], { limit: evalLimit });
      try {
        return await materialize(source);
      } finally {
        await source.close();
      }
    },
    describe: () =>
      `preset ${preset}${ci ? ' (CI)' : ''}, backend ${backend.backend}, run ${runDir}, ` +
      (evalLimit === null
        ? 'evaluations on every image (standard protocols)'
        : `evaluations on ${evalLimit} images per split`),
    async sharedRun(s = {}) {
      const curves = s.liveCurves
        ? new LiveTrainingCurves({ title: `CARP pretraining (${preset})`, host: o.host })
        : undefined;
      const run = await ensureRun({
        config,
        runDir,
        onStep: curves ? (m) => curves.push({ ...m }) : undefined,
        progress: !curves,
      });
      curves?.done();
      const teacher = loadTeacher(runDir);
      const ctx: EvalContext = {
        teacher,
        runDir,
        dataset: config.data.dataset,
        limit: evalLimit,
      };
      const randomInit = () => {
        const random = randomInitTeacher(config);
        return {
          ctx: { ...ctx, teacher: random, runDir: join(runDir, 'baseline-random-init') },
          dispose: () => random.params.dispose(),
        };
      };
      return { run, teacher, ctx, curves, randomInit };
    },
  };
}
