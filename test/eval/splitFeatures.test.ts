import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve';
import { loadFashionMnist } from '../../src/data/fashionMnist';
import { memorySource } from '../../src/data/source';
import { evalTransform } from '../../src/eval/context';
import { extractFeatures } from '../../src/eval/features';
import { sourceFeatures, splitFeatures } from '../../src/eval/splitFeatures';
import { randomInitTeacher } from '../../src/train/randomTeacher';
import { initTestBackend } from '../helpers/tensors';

const config = () =>
  resolveConfig('fmnist-tiny', [
    'model.width=2',
    'model.numPrototypes=16',
    'model.partitionSize=8',
  ]);

describe('split features', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('extracts a split once through the named transform and then serves it from the cache', async () => {
    const teacher = randomInitTeacher(config());
    const runDir = mkdtempSync(join(tmpdir(), 'split-'));
    const ctx = { teacher, runDir, dataset: 'fashion-mnist', limit: 40 };
    const a = await splitFeatures(ctx, 'test');
    expect(a.set.count).toBe(40);
    expect(a.source.count).toBe(40);
    // The same rows through extractFeatures directly: the wiring (labels, transform) is right.
    const t = evalTransform(teacher, { height: 28, width: 28 });
    const direct = await extractFeatures({
      params: teacher.params,
      spec: teacher.spec,
      source: a.source,
      transform: t.fn,
    });
    expect(Array.from(a.set.features)).toEqual(Array.from(direct.features));
    expect(Array.from(a.set.labels)).toEqual(Array.from(a.source.labels));
    const b = await splitFeatures(ctx, 'test');
    expect(Array.from(b.set.features)).toEqual(Array.from(a.set.features));
    expect(readdirSync(join(runDir, 'features'))).toHaveLength(1);
    teacher.params.dispose();
  });

  it('sourceFeatures keys by content: other weights → another cache folder', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'split2-'));
    const images = loadFashionMnist('test', { limit: 8 });
    const source = memorySource(images);
    for (const seed of [1, 2]) {
      const teacher = randomInitTeacher(config(), seed);
      const t = evalTransform(teacher, { height: 28, width: 28 });
      await sourceFeatures({ teacher, runDir, dataset: 'fashion-mnist' }, source, 'test', t);
      teacher.params.dispose();
    }
    expect(readdirSync(join(runDir, 'features'))).toHaveLength(2);
  });
});
