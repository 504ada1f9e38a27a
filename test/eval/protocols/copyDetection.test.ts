import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyDetectionImage } from '../../../src/data/evalTransforms';
import type { DecodedImage } from '../../../src/data/imageFile';
import { copydaysPositives, runCopyDetection } from '../../../src/eval/protocols/copyDetection';
import { readEvalResults } from '../../../src/eval/results';
import { createRng } from '../../../src/random';
import { initTestBackend } from '../../helpers/tensors';
import {
  perturb,
  syntheticImage,
  tempDirs,
  tinyRgbTeacher,
  writeImages,
  writePreparedSplit,
} from './fixtures';

const saved = process.env.CARP_DATA_DIR;
const ORIGINALS = ['200000.jpg', '200100.jpg', '200200.jpg'];

/**
 * copydays/{original,strong,jpegqual-30} prepared at 320×320 (as data-scripts/copydays.ts
 * --prepare), raw/copydays/crops/50 as files only, plus distractor and whitening folders.
 */
async function writeCopydays(dataDir: string) {
  const rng = createRng(9);
  const originals = ORIGINALS.map(() => syntheticImage(48, 40, rng));
  const prep = (block: string, images: DecodedImage[], names: string[]) =>
    writePreparedSplit(
      dataDir,
      'copydays',
      block,
      images.map((im) => copyDetectionImage(im, 320)),
      new Int32Array(images.length).fill(-1),
      { classes: [], names },
    );
  prep('original', originals, ORIGINALS);
  prep(
    'strong',
    [perturb(originals[2], 30, rng), perturb(originals[0], 30, rng)],
    ['200200_s.jpg', '200000_s.jpg'],
  );
  prep(
    'jpegqual-30',
    originals.map((o) => perturb(o, 8, rng)),
    ORIGINALS,
  );
  await writeImages(
    join(dataDir, 'raw', 'copydays', 'crops', '50'),
    originals.map((o, i) => [ORIGINALS[i], perturb(o, 5, rng)] as [string, DecodedImage]),
  );
  const folder = join(dataDir, 'yfcc');
  await writeImages(join(folder, 'distractors'), [
    ['a.png', syntheticImage(30, 30, rng)],
    ['b.jpg', syntheticImage(24, 36, rng)],
  ]);
  await writeImages(
    join(folder, 'whitening', 'sub'),
    Array.from(
      { length: 6 },
      (_, i) => [`w${i}.png`, syntheticImage(32, 28, rng)] as [string, DecodedImage],
    ),
  );
  return { distractors: join(folder, 'distractors'), whitening: join(folder, 'whitening') };
}

describe('Copydays copy detection on prepared blocks (§9.8)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CARP_DATA_DIR;
    else process.env.CARP_DATA_DIR = saved;
  });

  it('positives: same index, or for strong the originals sharing the first 4 characters', () => {
    expect(copydaysPositives('jpegqual/30', ['x', 'y'], ORIGINALS)).toEqual([[0], [1]]);
    expect(
      copydaysPositives('strong', ['200200_s.jpg', '2001x.jpg', '9999.jpg'], ORIGINALS),
    ).toEqual([[2], [1], []]);
    expect(
      copydaysPositives('strong', ['2002'], ['200200.jpg', '200250.jpg', '300200.jpg']),
    ).toEqual([[0, 1]]);
  });

  it('per-block mAP over the top 20 with distractors and whitening; prepared and raw blocks', async () => {
    const { dataDir, runDir } = tempDirs('copydays');
    const folders = await writeCopydays(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    const ctx = { teacher, runDir, dataset: 'copydays' };
    const blocks = ['original', 'strong', 'jpegqual/30', 'crops/50'];
    const plain = await runCopyDetection(ctx, { blocks });
    expect(plain.protocol).toBe('copydetection');
    expect(plain.dataset).toBe('copydays');
    expect(plain.proxy).toBe(false);
    expect(Object.keys(plain.metrics.blocks)).toEqual(blocks);
    expect(plain.metrics.blocks.original).toBe(1); // every original retrieves itself first
    expect(plain.metrics.strong).toBe(plain.metrics.blocks.strong);
    expect(plain.metrics.whitened).toBeNull();
    expect(plain.splits).toMatchObject({ database: 3, 'queries:strong': 2, 'queries:crops/50': 3 });
    expect(plain.settings).toMatchObject({
      size: 320,
      filter: 'bicubic',
      topK: 20,
      whitening: null,
    });

    const r = await runCopyDetection(ctx, { blocks: ['original', 'strong'], ...folders });
    expect(r.splits).toMatchObject({ database: 3, distractors: 2, whitening: 6 });
    expect(r.settings).toMatchObject(folders);
    expect(r.metrics.whitened!.original).toBeCloseTo(1, 6);
    expect(readEvalResults(runDir).map((e) => `${e.protocol}-${e.dataset}`)).toEqual([
      'copydetection-copydays',
      'copydetection-copydays',
    ]);
    teacher.params.dispose();
  });

  it('a missing block names both layouts and data-scripts/copydays.ts --prepare', async () => {
    const { dataDir, runDir } = tempDirs('copydays-missing');
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    await expect(runCopyDetection({ teacher, runDir, dataset: 'copydays' })).rejects.toThrow(
      `copydays block 'original' not found: neither ${join(dataDir, 'copydays', 'original', 'manifest.json')} nor ${join(dataDir, 'raw', 'copydays', 'original')} (run: npx tsx data-scripts/copydays.ts --prepare`,
    );
    teacher.params.dispose();
  });
});
