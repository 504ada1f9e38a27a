/**
 * The bench scenarios: their ids and descriptions, the train-step cases
 * they measure, and `runScenario`, which runs one of them in this process and returns its
 * rows (and, for the CIFAR train step, the stage profile).
 */
import { selectBackend } from '../backend/selectBackend';
import { runAugment } from './augmentScenario';
import { benchFaissKmeans, benchFaissKnn } from './faissBench';
import { benchFeatures } from './featureBench';
import { benchMemory } from './memoryBench';
import { OurCarpStep, type TrainStepCase } from './ourCarpStep';
import { profileKernels, profileTrainStep, type StepProfile } from './stepProfile';
import {
  describeSweep,
  SWEEP_BATCH,
  SWEEP_FEATURE_SECONDS,
  SWEEP_GROUP,
  sweepCases,
  SWEEP_ROUNDS,
} from './sweep';
import { restoreOurThreads, useOurThreads } from './ourThreads';
import { benchTrainStep } from './trainStepBench';
import type { BenchRow } from './types';

export interface BenchScenario {
  id: string;
  description: string;
  /** A group run only when named (`--only GROUP` runs all its scenarios); none: the default run. */
  group?: string;
}

export const SCENARIOS: BenchScenario[] = [
  {
    id: 'train-step-cifar10-r18',
    description:
      'CARP step images/s, ResNet-18 CIFAR, 32 px, 2+4 crops, K 4096, P 512, batch 64 vs PyTorch 1/2 threads (+ stage profile)',
  },
  {
    id: 'train-step-fmnist-small',
    description: 'CARP step images/s, fmnist-small preset vs PyTorch 1/2 threads',
  },
  {
    id: 'features-cifar10-r18',
    description:
      'eval-mode backbone features images/s, ResNet-18 CIFAR, batch 128 vs PyTorch 1/2 threads',
  },
  {
    id: 'augment',
    description:
      'multi-crop augmentation images/s (cifar10-r18, fmnist-small crops) vs torchvision/PIL',
  },
  {
    id: 'knn',
    description: 'k-NN: 50k×512 bank, 10k queries, k 20 (faiss flat IP) vs Python faiss',
  },
  {
    id: 'kmeans',
    description: 'k-means: 50k×256 into 100 clusters, 20 iterations vs faiss.Kmeans',
  },
  {
    id: 'memory',
    description: 'live tensors and RSS after 200 vs 10 fmnist-tiny training steps (must be flat)',
  },
  ...sweepCases().map((c) => ({ id: c.id, description: describeSweep(c), group: SWEEP_GROUP })),
];

export interface RunBenchOptions {
  /** Scenario ids (comma-separated values allowed); default all. */
  only?: string[];
  /** Skip every peer (ours only). */
  noPeer?: boolean;
  /** Results file (default bench/results.json in the project). */
  out?: string;
  /** Tiny sizes that only exercise the plumbing (tests). */
  smoke?: boolean;
  /** Run each scenario in a child process (default true). */
  isolate?: boolean;
  /** Where the table goes (default stdout). */
  print?: (text: string) => void;
}

/** What one scenario yields (also the result file of an isolated scenario process). */
export interface ScenarioResult {
  rows: BenchRow[];
  profiles: StepProfile[];
}

const CIFAR_STEP: TrainStepCase = {
  id: 'train-step-cifar10-r18',
  preset: 'cifar10-r18',
  overrides: ['model.partitionSize=512', 'crops.numLocal=4'],
  batch: 32,
  accumulation: 2,
  note:
    'batch 64 runs as 2 accumulated micro-batches of 32 on both sides: one micro-batch of 64 needs ' +
    'more than the 4 GiB a wasm32 heap can address (32 peaks near 3.4 GiB); BN statistics are per 32 images',
};
const FMNIST_STEP: TrainStepCase = {
  id: 'train-step-fmnist-small',
  preset: 'fmnist-small',
  overrides: [],
  batch: 128,
  accumulation: 1,
};
/** Smoke runs swap in the fmnist-tiny network with a tiny batch. */
const smokeCase = (c: TrainStepCase): TrainStepCase => ({
  ...c,
  preset: 'fmnist-tiny',
  overrides: [],
  batch: 4,
  accumulation: 1,
  note: 'smoke sizes',
});

/** One sweep scenario: its train step (two rounds) or its features (three batches). */
async function runSweepCase(
  base: SweepCaseOf,
  smoke: boolean,
  peer: { noPeer?: boolean },
): Promise<ScenarioResult> {
  const c = smoke ? smokeCase(base) : base;
  if (base.kind === 'profile') {
    // One thread: the figure that holds on a shared machine (as the 1-thread rows).
    const ours = new OurCarpStep(c);
    const threads = useOurThreads(1);
    try {
      await ours.microStep(true); // warm-up: primitives, heap growth
      const profile = await profileTrainStep(ours);
      profile.kernels = await profileKernels(ours);
      profile.threads = threads;
      return { rows: [], profiles: [profile] };
    } finally {
      restoreOurThreads();
      ours.dispose();
    }
  }
  if (base.kind === 'features') {
    const rows = await benchFeatures(c, {
      ...peer,
      batch: smoke ? 4 : SWEEP_BATCH,
      warmup: smoke ? 0 : 1,
      rounds: smoke ? 1 : 3,
      minSeconds: smoke ? 0 : SWEEP_FEATURE_SECONDS,
      peerLayouts: true,
    });
    return { rows, profiles: [] };
  }
  const r = await benchTrainStep(c, {
    ...peer,
    warmup: smoke ? 0 : 1,
    rounds: smoke ? 1 : SWEEP_ROUNDS,
    peerLayouts: true,
  });
  return { rows: r.rows, profiles: [] };
}
type SweepCaseOf = ReturnType<typeof sweepCases>[number];

/** Runs one scenario in this process. */
export async function runScenario(id: string, o: RunBenchOptions = {}): Promise<ScenarioResult> {
  await selectBackend();
  const s = o.smoke === true;
  const peer = { noPeer: o.noPeer };
  switch (id) {
    case 'train-step-cifar10-r18':
    case 'train-step-fmnist-small': {
      const base = id === CIFAR_STEP.id ? CIFAR_STEP : FMNIST_STEP;
      const c = s ? smokeCase(base) : base;
      const rounds = s ? 1 : id === CIFAR_STEP.id ? 2 : 3;
      // The CIFAR case also profiles one warm micro-step (the stage shares of docs/performance.md).
      const profile = id === CIFAR_STEP.id;
      // …and measures the pure-wasm kernels as an in-run baseline of the native ones.
      const r = await benchTrainStep(c, {
        ...peer,
        warmup: s ? 0 : 1,
        rounds,
        profile,
        pureWasmBaseline: profile,
      });
      return { rows: r.rows, profiles: r.profile ? [r.profile] : [] };
    }
    case 'features-cifar10-r18':
      return {
        rows: await benchFeatures(s ? smokeCase(CIFAR_STEP) : CIFAR_STEP, {
          ...peer,
          batch: s ? 4 : 128,
          warmup: s ? 0 : 1,
          rounds: s ? 1 : 3,
        }),
        profiles: [],
      };
    case 'augment':
      return { rows: await runAugment(o), profiles: [] };
    case 'knn':
      return {
        rows: [
          benchFaissKnn(s ? { ...peer, n: 500, nq: 20, dim: 16, k: 5 } : { ...peer, repeats: 2 }),
        ],
        profiles: [],
      };
    case 'kmeans':
      return {
        rows: [
          benchFaissKmeans(
            s ? { ...peer, n: 1000, dim: 8, k: 4, niter: 2 } : { ...peer, repeats: 2 },
          ),
        ],
        profiles: [],
      };
    case 'memory':
      return { rows: await benchMemory(s ? { steps: 6, early: 2 } : {}), profiles: [] };
    default: {
      const c = sweepCases().find((x) => x.id === id);
      if (c) return runSweepCase(c, s, peer);
      throw new Error(`unknown scenario '${id}' (known: ${SCENARIOS.map((x) => x.id).join(', ')})`);
    }
  }
}
