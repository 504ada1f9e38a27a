import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/resolve';
import { defaultFitSplit, KMEANS_DEFAULTS, runKmeans } from '../../../src/eval/protocols/kmeans';
import { createRng } from '../../../src/random';
import { randomInitTeacher } from '../../../src/train/randomTeacher';
import { initTestBackend } from '../../helpers/tensors';
import { syntheticImage, tempDirs, TINY_RGB_OVERRIDES, writePreparedSplit } from './fixtures';

const saved = process.env.CARP_DATA_DIR;

/**
 * `twins/{train,test}`: 4 classes, each 6 copies of one 32-px image, in both splits. Four
 * distinct feature directions and 4 clusters: the best spherical clustering puts each class
 * in its own cluster, whatever the network — a result known in advance.
 */
function writeTwins(dataDir: string): void {
  const rng = createRng(8);
  const distinct = Array.from({ length: 4 }, () => syntheticImage(32, 32, rng));
  const images = Array.from({ length: 24 }, (_, i) => distinct[i % 4]);
  const labels = Int32Array.from({ length: 24 }, (_, i) => i % 4);
  for (const split of ['train', 'test'])
    writePreparedSplit(dataDir, 'twins', split, images, labels, { classes: ['a', 'b', 'c', 'd'] });
}

const teacherOf = () =>
  randomInitTeacher(
    resolveConfig('fmnist-tiny', [...TINY_RGB_OVERRIDES, 'model.width=8', 'model.cifarStem=true']),
  );

describe('k-means protocol (§9.3)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CARP_DATA_DIR;
    else process.env.CARP_DATA_DIR = saved;
  });

  it('one cluster per class when each class is one image: every metric is exactly 1', async () => {
    const { dataDir, runDir } = tempDirs('kmeans');
    writeTwins(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = teacherOf();
    const r = await runKmeans({ teacher, runDir, dataset: 'twins' });
    for (const m of ['nmi', 'ari', 'accuracy', 'homogeneity', 'completeness'] as const)
      expect(r.metrics[m], m).toBeCloseTo(1, 12);
    expect(r.splits).toEqual({ train: 24, test: 24, fitPointsUsed: 24 });
    expect(r.settings).toMatchObject({
      numClusters: null,
      resolved: { numClusters: 4, fitSplit: 'train' },
      niter: 100,
      filter: 'bilinear',
    });
    expect(r.variant).toBe('ck-random-init-seed1');
    // An explicit cluster count (GTSRB's script uses 100 for 43 classes) is honoured.
    const k8 = await runKmeans({ teacher, runDir, dataset: 'twins' }, { numClusters: 8, nredo: 2 });
    expect(k8.settings).toMatchObject({ resolved: { numClusters: 8, fitSplit: 'train' } });
    expect(Math.max(...k8.assignments)).toBeLessThan(8);
    expect(k8.variant).not.toBe(r.variant);
    teacher.params.dispose();
  });

  it('fits ImageNet on its 10 % subset by default; other datasets on the training split', () => {
    expect(defaultFitSplit('imagenet')).toBe('train10percent');
    expect(defaultFitSplit('imagenet-bilinear')).toBe('train10percent');
    expect(defaultFitSplit('fashion-mnist')).toBe('train');
    expect(KMEANS_DEFAULTS).toMatchObject({
      niter: 100,
      nredo: 10,
      seed: 1234,
      filter: 'bilinear',
    });
  });

  it('a fit split that is not prepared is an error naming it', async () => {
    const { dataDir, runDir } = tempDirs('kmeans-fit');
    writeTwins(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = teacherOf();
    await expect(
      runKmeans({ teacher, runDir, dataset: 'twins' }, { fitSplit: 'train10percent' }),
    ).rejects.toThrow(/dataset 'twins' split 'train10percent' not found/);
    teacher.params.dispose();
  });
});
