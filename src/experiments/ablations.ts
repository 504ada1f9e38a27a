/**
 * Short runs side by side (the ablations notebook): one base configuration and a few
 * variants that change one key — the partition size P, the number of prototypes K, the
 * regulariser weight λ (§11.35) — each trained into its own run directory (reused when
 * already complete, like every `ensureRun`), then measured the same way: the teacher's
 * weighted k-NN (§9.2, k 20) and how many prototypes the images use (§9.4), plus the loss
 * terms at the end of training.
 */
import { join } from 'node:path';
import { resolveConfig } from '../config/resolve';
import type { CarpConfig } from '../config/schema';
import { runKnn } from '../eval/protocols/knn';
import { runPrototypes } from '../eval/protocols/prototypes';
import { loadTeacher } from '../interop/loadTeacher';
import { ensureRun } from '../train/ensureRun';
import type { StepMetrics } from '../train/metricsLog';
import type { PlotlyFigure } from '../viz/figure';
import { linesFigure } from '../viz/notebookCharts';

/** The configuration every variant starts from: a preset and `key=value` overrides. */
export interface AblationBase {
  preset: string;
  overrides: string[];
  /** Images per split the evaluations use (seeded, class-stratified subsets). */
  evalLimit: number;
}

/**
 * The ablation bases (runtimes measured on a loaded 2-core machine, wasm backend):
 * - `ci`: fmnist-tiny (ResNet-18 width 8, K 64, P 16, 2 epochs of 256 images: 16
 *   micro-steps) with fmnist-small's learning rate and teacher (lrRef 4, momentum from
 *   0.96); 10–40 s per run. Too short to learn: it shows the mechanics, not the effects;
 * - `full`: fmnist-small (width 16, K 512, P 32) for 2 epochs of 2 000 images (30
 *   micro-steps): 65–90 s of training per run, 9 minutes for the 6 distinct runs of
 *   `ablationsFor` with their evaluations. λ = 0 measured: L_reg 0.93 vs 0.02, 7 vs 44 of
 *   512 prototypes used; k-NN (5 000 / 5 000 images) 56–60 % for every variant.
 */
export const ABLATION_BASES: Record<'ci' | 'full', AblationBase> = {
  ci: {
    preset: 'fmnist-tiny',
    overrides: ['optim.lrRef=4', 'teacher.momentumStart=0.96'],
    evalLimit: 512,
  },
  full: {
    preset: 'fmnist-small',
    overrides: ['data.limit=2000', 'train.epochs=2'],
    evalLimit: 5000,
  },
};

/** One variant: a label for tables and the overrides it adds to the base. */
export interface AblationVariant {
  label: string;
  overrides: string[];
}

/** A named group of variants that change one key. */
export interface Ablation {
  /** The key that varies, e.g. `model.partitionSize`. */
  key: string;
  /** What the reader should expect, stated before the runs. */
  expected: string;
  variants: AblationVariant[];
}

/**
 * The three ablations of the notebook for `base`: P (down to blocks of 4, up to one block
 * holding all K: no partition at all), K (a quarter and 4×), and λ = 0 vs 1.
 */
export function ablationsFor(base: AblationBase): Ablation[] {
  const config = resolveConfig(base.preset, base.overrides);
  const K = config.model.numPrototypes;
  const P = config.model.partitionSize;
  const vary = (key: string, values: number[], label: (v: number) => string) =>
    values.map((v) => ({ label: label(v), overrides: [`${key}=${v}`] }));
  return [
    {
      key: 'model.partitionSize',
      expected:
        'in runs this short, k-NN within a point or two across P; L_cons starts at ln P, so ' +
        'read it against ln P. P = K is one block: no random partition at all',
      variants: vary('model.partitionSize', [4, P, K], (v) =>
        v === K ? `P = ${v} (= K, no partition)` : `P = ${v}`,
      ),
    },
    {
      key: 'model.numPrototypes',
      expected: 'k-NN changes little with K on 10 classes; more prototypes leave more unused',
      variants: vary('model.numPrototypes', [Math.max(P, K / 4), K, 4 * K], (v) => `K = ${v}`),
    },
    {
      key: 'loss.regWeight',
      expected:
        'without the regulariser (λ = 0) the batch marginal collapses: the logged L_reg climbs ' +
        'towards ln P and fewer prototypes are used',
      variants: vary('loss.regWeight', [0, 1], (v) => `λ = ${v}`),
    },
  ];
}

/** What one variant gave. */
export interface AblationRow {
  label: string;
  /** The base's overrides followed by the variant's. */
  overrides: string[];
  runDir: string;
  config: CarpConfig;
  /** Teacher weighted k-NN top-1 at k 20 (fraction). */
  knnTop1: number;
  /** Prototypes that received at least one evaluated image, of K. */
  prototypesUsed: number;
  numPrototypes: number;
  /** Entropy of the usage over ln K (1: every prototype used equally). */
  usageEntropy: number;
  /** Mean of the last quarter of the logged rows: L_cons and L_reg (unweighted). */
  final: { consistency: number; regularizer: number };
  /** ln P of the variant: the ceiling of L_reg. */
  lnP: number;
  /** Every logged training row (for curves). */
  metrics: StepMetrics[];
  /** Seconds of training now; null when the run was reused. */
  trainSeconds: number | null;
  /** Seconds of this variant in all (training and evaluation). */
  seconds: number;
}

/** Mean of `key` over the last quarter (at least one) of `rows`. */
function tailMean(rows: readonly StepMetrics[], key: 'consistency' | 'entropy'): number {
  if (rows.length === 0) return NaN;
  const tail = rows.slice(rows.length - Math.max(1, Math.floor(rows.length / 4)));
  return tail.reduce((s, r) => s + r[key], 0) / tail.length;
}

/**
 * The run directory name of a variant: the base preset, then only the variant's
 * overrides that change the base configuration, so that variants equal to the base (P
 * at its default, λ = 1, …) share one run and train once.
 */
export function ablationRunName(base: AblationBase, overrides: readonly string[]): string {
  const baseConfig = resolveConfig(base.preset, base.overrides);
  const changed = overrides.filter((kv) => {
    const [key, value] = kv.split('=');
    const current = key
      .split('.')
      .reduce<unknown>((obj, k) => (obj as Record<string, unknown> | undefined)?.[k], baseConfig);
    return String(current) !== value;
  });
  const tag = (kvs: readonly string[]) =>
    kvs
      .map((kv) => {
        const [key, value] = kv.split('=');
        return `${key.split('.').pop()}${value}`;
      })
      .join('-');
  return [
    'ablation',
    base.preset,
    ...(base.overrides.length ? [tag(base.overrides)] : []),
    changed.length ? tag(changed) : 'base',
  ].join('-');
}

/**
 * Trains (or reuses) and evaluates every variant of `variants` on top of `base`, in
 * `runsDir/<ablationRunName>`.
 */
export async function runAblation(o: {
  base: AblationBase;
  variants: readonly AblationVariant[];
  runsDir: string;
  /** Called after each variant (for a live table). */
  onRow?: (row: AblationRow) => void;
}): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  for (const v of o.variants) {
    const t0 = performance.now();
    const overrides = [...o.base.overrides, ...v.overrides];
    const config = resolveConfig(o.base.preset, overrides);
    const runDir = join(o.runsDir, ablationRunName(o.base, v.overrides));
    const run = await ensureRun({ config, runDir });
    const teacher = loadTeacher(runDir);
    try {
      const ctx = { teacher, runDir, dataset: config.data.dataset, limit: o.base.evalLimit };
      const knn = await runKnn(ctx, { k: [20] });
      const protos = await runPrototypes(ctx);
      const row: AblationRow = {
        label: v.label,
        overrides,
        runDir,
        config,
        knnTop1: knn.metrics['20'].top1,
        prototypesUsed: protos.metrics.usage.used,
        numPrototypes: config.model.numPrototypes,
        usageEntropy: protos.metrics.usage.normalizedEntropy,
        final: {
          consistency: tailMean(run.metrics, 'consistency'),
          regularizer: tailMean(run.metrics, 'entropy'),
        },
        lnP: Math.log(config.model.partitionSize),
        metrics: run.metrics,
        trainSeconds: run.training ? run.training.seconds : null,
        seconds: (performance.now() - t0) / 1000,
      };
      rows.push(row);
      o.onRow?.(row);
    } finally {
      teacher.params.dispose();
    }
  }
  return rows;
}

/** The table of an ablation: one row per variant (for `showTable`). */
export function ablationTable(rows: readonly AblationRow[]): {
  header: string[];
  rows: (string | number)[][];
} {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const sec = (v: number | null) => (v === null ? 'reused' : `${v.toFixed(0)} s`);
  return {
    header: [
      'variant',
      'k-NN top-1 (k 20)',
      'prototypes used',
      'usage entropy / ln K',
      'final L_cons (ln P)',
      'final L_reg',
      'training',
    ],
    rows: rows.map((r) => [
      r.label,
      pct(r.knnTop1),
      `${r.prototypesUsed} of ${r.numPrototypes}`,
      r.usageEntropy.toFixed(3),
      `${r.final.consistency.toFixed(3)} (${r.lnP.toFixed(3)})`,
      r.final.regularizer.toFixed(4),
      sec(r.trainSeconds),
    ]),
  };
}

/** One logged loss term against the micro-step, a line per variant. */
export function ablationCurves(
  rows: readonly AblationRow[],
  term: 'consistency' | 'entropy',
  o: { title?: string } = {},
): PlotlyFigure {
  return linesFigure(
    rows.map((r) => ({
      name: r.label,
      x: r.metrics.map((m) => m.step),
      y: r.metrics.map((m) => m[term]),
    })),
    {
      title: o.title ?? (term === 'entropy' ? 'L_reg during training' : 'L_cons during training'),
      xTitle: 'micro-step',
      yTitle: term === 'entropy' ? 'L_reg (nats)' : 'L_cons (nats)',
    },
  );
}
