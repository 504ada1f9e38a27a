import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../../src/data/datasets';
import { extractFeatures } from '../../../src/eval/features';
import { inatLinear, sampleKPerClass } from '../../../src/eval/math/linearClassifier';
import { runFewShot, runInatFewShot } from '../../../src/eval/paperProtocols';
import { subsetSource } from '../../../src/eval/context';
import { evalTransform } from '../../../src/eval/protocols/knn';
import { createRng } from '../../../src/random';
import { initTestBackend } from '../../helpers/tensors';
import { syntheticImage, tempDirs, tinyRgbTeacher, writePreparedSplit } from './fixtures';

const saved = process.env.CARP_DATA_DIR;
const CLASSES = ['a', 'b', 'c'];

/** inat2018/<train split> with 3 classes × `perClass` images, and inat2018/val (2 per class). */
function writeInat(dataDir: string, trainSplit: string, perClass: number): void {
  const rng = createRng(5);
  for (const [split, per] of [
    [trainSplit, perClass],
    ['val', 2],
  ] as const) {
    const labels = Int32Array.from({ length: 3 * per }, (_, i) => i % 3);
    const images = Array.from(labels, () => syntheticImage(36, 36, rng));
    writePreparedSplit(dataDir, 'inat2018', split, images, labels, { classes: CLASSES });
  }
}

describe('iNat 2018 few-shot on prepared data (spec §9.6)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CARP_DATA_DIR;
    else process.env.CARP_DATA_DIR = saved;
  });

  it('draws k per class with a fixed seed before extraction and trains inatLinear on those rows', async () => {
    const { dataDir, runDir } = tempDirs('inat');
    writeInat(dataDir, 'train', 4);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    const ctx = { teacher, runDir, dataset: 'inat2018' };
    const r = await runInatFewShot(ctx, { shots: 1, epochs: 3 });
    expect(r.dataset).toBe('inat2018');
    expect(r.protocol).toBe('fewshot');
    expect(r.splits).toEqual({ train: 3, val: 6, trainPool: 12 });
    expect(r.settings).toMatchObject({ shots: 1, subsetSeed: 0, trainSplit: 'train' });
    expect(r.metrics.history).toHaveLength(3);

    // Only the drawn rows were extracted: the cache holds 3 train rows.
    const cached = readdirSync(join(runDir, 'features')).find((d) => d.includes('k1-seed0'))!;
    const m = JSON.parse(readFileSync(join(runDir, 'features', cached, 'manifest.json'), 'utf8'));
    expect(m.count).toBe(3);

    // Same as inatLinear on hand-extracted features of the same rows.
    const t = evalTransform(teacher, { filter: 'bilinear' });
    const full = await openDataset('inat2018', 'train');
    const rows = sampleKPerClass(full.labels, 3, 1, createRng(0)).sort();
    const extract = (source: typeof full) =>
      extractFeatures({ params: teacher.params, spec: teacher.spec, source, transform: t.fn });
    const train = await extract(subsetSource(full, rows));
    const val = await openDataset('inat2018', 'val');
    const test = await extract(val);
    const ref = await inatLinear({ train, test, numClasses: 3, shots: 'all', epochs: 3 });
    expect(r.metrics.top1).toBeCloseTo(ref.top1, 6);
    expect(r.metrics.history.map((e) => e.trainLoss)).toEqual(ref.history.map((e) => e.trainLoss));
    await full.close();
    await val.close();
    teacher.params.dispose();
  });

  it('uses the data-script split train-k<k>-seed<seed> when present, through runFewShot', async () => {
    const { dataDir, runDir } = tempDirs('inat-k');
    writeInat(dataDir, 'train-k1-seed0', 1);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    const r = await runFewShot(
      { teacher, runDir, dataset: 'inat2018' },
      { shots: [1], inat: { epochs: 1 } },
    );
    expect(r.settings).toMatchObject({ trainSplit: 'train-k1-seed0', epochs: 1 });
    expect(r.splits).toMatchObject({ train: 3, trainPool: 3 });
    await expect(
      runFewShot({ teacher, runDir, dataset: 'inat2018' }, { shots: [1, 2] }),
    ).rejects.toThrow('give one k');
    await expect(
      runInatFewShot({ teacher, runDir, dataset: 'inat2018' }, { shots: 2 }),
    ).rejects.toThrow(
      `inat2018 split 'train-k2-seed0' is not prepared: ${join(dataDir, 'inat2018', 'train-k2-seed0', 'manifest.json')} not found (run: npx tsx data-scripts/inat2018.ts --k 2 --seed 0`,
    );
    teacher.params.dispose();
  });
});
