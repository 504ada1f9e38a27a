import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../../src/data/datasets';
import { extractFeatures } from '../../../src/eval/features';
import { sampleKPerClass } from '../../../src/data/classSampling';
import { subsetSource } from '../../../src/data/source';
import { evalTransform } from '../../../src/eval/context';
import { runFewShot } from '../../../src/eval/protocols/fewShot';
import {
  INAT_FEWSHOT_DEFAULTS,
  inatLinear,
  inatLrSchedule,
  runInatFewShot,
} from '../../../src/eval/protocols/fewShotInat';
import { expectClose } from '../../helpers/tensors';
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

describe('iNat 2018 few-shot on prepared data (§9.6)', () => {
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
    const ctx = { teacher, runDir, dataset: 'inat2018', transfer: true };
    const r = await runInatFewShot(ctx, { shots: 1, epochs: 3 });
    expect(r.dataset).toBe('inat2018');
    expect(r.protocol).toBe('fewshot');
    expect(r.splits).toEqual({ train: 3, val: 6, trainPool: 12 });
    expect(r.settings).toMatchObject({
      shots: 1,
      subsetSeed: 0,
      resolved: { trainSplit: 'train' },
    });
    expect(r.metrics.history).toHaveLength(3);

    // Only the drawn rows were extracted: the cache holds 3 train rows.
    const cached = readdirSync(join(runDir, 'features')).find((d) => d.includes('train-k1-seed0'))!;
    const m = JSON.parse(readFileSync(join(runDir, 'features', cached, 'manifest.json'), 'utf8'));
    expect(m.count).toBe(3);

    // Same as inatLinear on hand-extracted features of the same rows.
    const t = evalTransform(teacher, { filter: 'bilinear', height: 36, width: 36 });
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

  it('multi-step schedule: 0.3 for epochs 0–11, 0.03 for 12–17, 0.003 for 18–19; cosine option', () => {
    const lr = inatLrSchedule(INAT_FEWSHOT_DEFAULTS);
    expect(lr).toHaveLength(20);
    expect(lr.slice(0, 12).every((v) => v === 0.3)).toBe(true);
    expectClose(lr.slice(12, 18), Array(6).fill(0.03), { atol: 1e-15 });
    expectClose(lr.slice(18), [0.003, 0.003], { atol: 1e-15 });
    const cos = inatLrSchedule({ ...INAT_FEWSHOT_DEFAULTS, schedule: 'cosine' });
    expect(cos[0]).toBe(0.3);
    expect(cos[10]).toBeCloseTo(0.15, 15);
  });

  it('uses the data-script split train-k<k>-seed<seed> when present, through runFewShot', async () => {
    const { dataDir, runDir } = tempDirs('inat-k');
    writeInat(dataDir, 'train-k1-seed0', 1);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    const ctx = { teacher, runDir, dataset: 'inat2018', transfer: true };
    const r = await runFewShot(ctx, { inat: { shots: 1, epochs: 1 } });
    expect(r.settings).toMatchObject({ resolved: { trainSplit: 'train-k1-seed0' }, epochs: 1 });
    expect(r.splits).toMatchObject({ train: 3, trainPool: 3 });
    await expect(runInatFewShot(ctx, { shots: 2 })).rejects.toThrow(
      `inat2018 split 'train-k2-seed0' is not prepared: ${join(dataDir, 'inat2018', 'train-k2-seed0', 'manifest.json')} not found (run: npx tsx data-scripts/inat2018.ts --k 2 --seed 0`,
    );
    teacher.params.dispose();
  });
});
