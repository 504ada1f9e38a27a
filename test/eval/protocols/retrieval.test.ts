import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import type { Tensor4D } from '../../../src/backend/tf';
import { retrievalImage } from '../../../src/data/evalTransforms';
import { decodeImageFile } from '../../../src/data/imageFile';
import { normalizeImages } from '../../../src/data/normalize';
import { retrievalEvaluation } from '../../../src/eval/math/ranking';
import { multiScaleDescriptor, runRetrieval } from '../../../src/eval/protocols/retrieval';
import { createRng } from '../../../src/random';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';
import {
  perturb,
  syntheticImage,
  tempDirs,
  tinyRgbTeacher,
  writeGroundTruth,
  writeImages,
} from './fixtures';

const saved = process.env.CARP_DATA_DIR;

/**
 * raw/roxford5k: 6 database images of varying size, 2 queries: an edited copy of db 0 and an
 * exact copy of db 3 (its only positive, so its AP is 1 in both protocols whatever the network).
 */
async function writeRevisited(dataDir: string): Promise<string> {
  const rng = createRng(3);
  const raw = join(dataDir, 'raw', 'roxford5k');
  const sizes: [number, number][] = [
    [40, 30],
    [30, 44],
    [36, 36],
    [28, 40],
    [44, 32],
    [20, 20],
  ];
  const db = sizes.map(([h, w]) => syntheticImage(h, w, rng));
  await writeImages(join(raw, 'jpg'), [
    ...db.map((im, i) => [`db_${i}.jpg`, im] as [string, typeof im]),
    ['q_0.jpg', perturb(db[0], 10, rng)],
    ['q_1.jpg', db[3]],
  ]);
  writeGroundTruth(join(raw, 'gnd_roxford5k.json'), {
    imlist: db.map((_, i) => `db_${i}`),
    qimlist: ['q_0', 'q_1'],
    gnd: [
      { easy: [0], hard: [1], junk: [2], bbx: [0, 0, 10, 10] },
      { easy: [], hard: [3], junk: [4, 5] },
    ],
  });
  return raw;
}

describe('revisited Oxford/Paris retrieval on raw files (§9.7)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CARP_DATA_DIR;
    else process.env.CARP_DATA_DIR = saved;
  });

  it('Lanczos thumbnails + multi-scale descriptors per image, Medium/Hard mAP as retrievalEvaluation', async () => {
    const { dataDir, runDir } = tempDirs('roxf');
    const raw = await writeRevisited(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    const ctx = { teacher, runDir, dataset: 'roxford5k' };
    const r = await expectNoLeak(() => runRetrieval(ctx, { imsize: 24 }));
    expect(r.protocol).toBe('retrieval');
    expect(r.dataset).toBe('roxford5k');
    expect(r.proxy).toBe(false);
    expect(r.splits).toEqual({ database: 6, queries: 2 });
    expect(r.settings).toMatchObject({ imsize: 24, multiScale: true });

    // By hand: thumbnail (never upscaling), normalise with the run's (ImageNet) statistics, descriptor.
    const describe = async (name: string) => {
      const img = retrievalImage(await decodeImageFile(join(raw, 'jpg', `${name}.jpg`)), 24);
      const d = tf.tidy(() =>
        multiScaleDescriptor(
          teacher.params,
          teacher.spec,
          normalizeImages(
            tf.tensor4d(img.data, [1, img.height, img.width, 3], 'int32') as Tensor4D,
            [0.485, 0.456, 0.406],
            [0.229, 0.224, 0.225],
          ),
        ),
      );
      const v = await d.data();
      d.dispose();
      return Array.from(v);
    };
    const db = [];
    for (let i = 0; i < 6; i++) db.push(...(await describe(`db_${i}`)));
    const q = [...(await describe('q_0')), ...(await describe('q_1'))];
    const ref = retrievalEvaluation({
      queryFeatures: Float32Array.from(q),
      databaseFeatures: Float32Array.from(db),
      dim: q.length / 2,
      groundTruth: [
        { easy: [0], hard: [1], junk: [2] },
        { easy: [], hard: [3], junk: [4, 5] },
      ],
    });
    expect(r.metrics.medium.mAP).toBeCloseTo(ref.medium.mAP, 6);
    expect(r.metrics.hard.mAP).toBeCloseTo(ref.hard.mAP, 6);
    expect(r.metrics.medium.aps).toHaveLength(2);
    // Independent of the network: the exact copy ranks its original first.
    expect([r.metrics.medium.aps[1], r.metrics.hard.aps[1]]).toEqual([1, 1]);
    expect(r.ranking[1][0]).toBe(3);

    // Descriptors are cached per imsize (2 folders each); --limit keeps the first queries.
    const part = await runRetrieval({ ...ctx, limit: 1 }, { imsize: 16, scales: [1] });
    expect(part.splits).toEqual({ database: 6, queries: 1 });
    const cache = readdirSync(join(runDir, 'features')).sort();
    expect(cache).toHaveLength(4);
    expect(cache.filter((d) => d.startsWith('roxford5k-queries-first1-'))).toHaveLength(1);
    teacher.params.dispose();
  });

  it('missing files name the path and data-scripts/revisited.ts', async () => {
    const { dataDir, runDir } = tempDirs('roxf-missing');
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    await expect(runRetrieval({ teacher, runDir, dataset: 'rparis6k' })).rejects.toThrow(
      `rparis6k ground truth not found at ${join(dataDir, 'raw', 'rparis6k', 'gnd_rparis6k.pkl')} (run: npx tsx data-scripts/revisited.ts --which rparis6k`,
    );
    await expect(runRetrieval({ teacher, runDir, dataset: 'holidays' })).rejects.toThrow(
      "retrieval has no benchmark for dataset 'holidays'",
    );
    teacher.params.dispose();
  });
});
