import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../../src/data/datasets';
import { VOC_CLASSES } from '../../../src/data/voc2007';
import { extractFeatures } from '../../../src/eval/features';
import { lowShotVocSvm, vocSvmEvaluation } from '../../../src/eval/math/vocSvm';
import { evalTransform } from '../../../src/eval/context';
import { runFewShot } from '../../../src/eval/protocols/fewShot';
import { runVocFewShot } from '../../../src/eval/protocols/fewShotVoc';
import { readEvalResults } from '../../../src/eval/results';
import { initTestBackend } from '../../helpers/tensors';
import { tempDirs, tinyRgbTeacher, writeVocFixture } from './fixtures';

const saved = process.env.CARP_DATA_DIR;

describe('VOC07 few-shot on prepared data (§9.5)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CARP_DATA_DIR;
    else process.env.CARP_DATA_DIR = saved;
  });

  it('wiring: full and low-shot SVMs on bilinear T-eval features, result voc2007', async () => {
    const { dataDir, runDir } = tempDirs('voc');
    writeVocFixture(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    const ctx = { teacher, runDir, dataset: 'voc2007', transfer: true };
    const r = await runVocFewShot(ctx, { shots: [1, 2, 99], runs: 2 });
    expect(r.protocol).toBe('fewshot');
    expect(r.dataset).toBe('voc2007');
    expect(r.proxy).toBe(false);
    expect(r.splits).toEqual({ trainval: 24, test: 20 });
    expect(Object.keys(r.metrics.full!.aps)).toEqual(VOC_CLASSES);
    expect(Object.entries(r.metrics.lowShot!).map(([k, l]) => [k, l.runs.length])).toEqual([
      ['1', 2],
      ['2', 2],
      ['99', 2],
    ]);
    // Known in advance: 99 per class draws every positive of every class, so every run trains
    // on the same rows (only their order differs, which moves the dual solver's stopping point
    // by at most its tolerance): the runs agree.
    expect(r.metrics.lowShot!['99'].std).toBeLessThan(0.01);

    // The same numbers from the protocol functions on features extracted by hand.
    const t = evalTransform(teacher, { filter: 'bilinear', height: 40, width: 40 });
    expect(t.name).toContain('bilinear');
    const sets = [];
    for (const split of ['trainval', 'test']) {
      const source = await openDataset('voc2007', split);
      const f = await extractFeatures({
        params: teacher.params,
        spec: teacher.spec,
        source,
        transform: t.fn,
      });
      sets.push({ features: f.features, labels: f.labels, dim: f.dim });
      await source.close();
    }
    const o = { dim: sets[0].dim, numClasses: 20 };
    const full = vocSvmEvaluation(sets[0], sets[1], o);
    expect(r.metrics.full!.mAP).toBeCloseTo(full.mAP, 6);
    const low = lowShotVocSvm(sets[0], sets[1], { ...o, shots: [1, 2, 99], runs: 2 });
    low.forEach((l) => expect(r.metrics.lowShot![String(l.k)].mAP).toBeCloseTo(l.mean, 6));

    // Cached features are reused (two splits); the result file carries the variant.
    expect(readdirSync(join(runDir, 'features'))).toHaveLength(2);
    expect(existsSync(join(runDir, 'eval', `fewshot-voc2007.${r.variant}.json`))).toBe(true);
    const again = await runFewShot(ctx, { voc: { mode: 'full' } });
    expect(again.metrics).toEqual({ full: r.metrics.full });
    expect(readdirSync(join(runDir, 'features'))).toHaveLength(2);
    expect(readEvalResults(runDir).map((e) => `${e.protocol}-${e.dataset}`)).toEqual([
      'fewshot-voc2007',
      'fewshot-voc2007',
    ]);
    teacher.params.dispose();
  });

  it('a missing split names the path and the data-script', async () => {
    const { dataDir, runDir } = tempDirs('voc-missing');
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = tinyRgbTeacher();
    await expect(
      runVocFewShot({ teacher, runDir, dataset: 'voc2007', transfer: true }),
    ).rejects.toThrow(
      `${join(dataDir, 'voc2007', 'trainval', 'manifest.json')} not found (run: npx tsx data-scripts/voc2007.ts`,
    );
    await expect(runFewShot({ teacher, runDir, dataset: 'voc2012' })).rejects.toThrow(
      "fewshot has no benchmark for dataset 'voc2012' (valid: fashion-mnist, voc2007, inat2018)",
    );
    teacher.params.dispose();
  });
});
