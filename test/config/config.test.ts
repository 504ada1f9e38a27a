import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  effectiveBatch,
  itersPerEpoch,
  multiCropSettings,
  networkSpec,
  numBlocks,
  numCrops,
  optimizerStepsPerEpoch,
  scaledLr,
} from '../../src/config/derived';
import { PRESETS, presetNames } from '../../src/config/presets';
import { multiCropPreset, validateMultiCropConfig } from '../../src/data/multiCropConfig';
import { resolveConfig } from '../../src/config/resolve';
import { PAPER_DEFAULTS } from '../../src/config/schema';
import { ConfigError, KEYS, configJsonSchema, validateConfig } from '../../src/config/validate';
import { jsdocFields } from '../helpers/jsdocFields';

function leafPaths(v: unknown, prefix = ''): string[] {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    return Object.entries(v).flatMap(([k, x]) => leafPaths(x, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

const snapshot = JSON.stringify({ PAPER_DEFAULTS, PRESETS });

describe('config schema', () => {
  it('has exactly one rule per default leaf', () => {
    expect(Object.keys(KEYS).sort()).toEqual(leafPaths(PAPER_DEFAULTS).sort());
  });

  it("each key's meaning is its field's JSDoc (schema.ts, multiCropConfig.ts)", () => {
    const docs = new Map([
      ...jsdocFields('src/config/schema.ts'),
      ...jsdocFields('src/data/multiCropConfig.ts'),
    ]);
    const section: Record<string, string[]> = {
      model: ['ModelConfig'],
      crops: ['CropConfig', 'MultiCropConfig'],
      optim: ['OptimConfig'],
      teacher: ['TeacherConfig'],
      loss: ['LossConfig'],
      train: ['TrainConfig'],
      data: ['DataConfig'],
      '': ['CarpConfig'],
    };
    for (const [key, spec] of Object.entries(KEYS)) {
      const [sec, leaf] = key.includes('.') ? key.split('.') : ['', key];
      const doc = section[sec].map((i) => docs.get(`${i}.${leaf}`)).find((d) => d !== undefined);
      expect(spec.meaning, key).toBe(doc);
    }
  });

  it('the committed JSON Schema (docs/config.schema.json) is current', () => {
    const committed = JSON.parse(readFileSync('docs/config.schema.json', 'utf8'));
    expect(committed).toEqual(configJsonSchema());
    const s = configJsonSchema() as {
      properties: Record<string, { properties: Record<string, Record<string, unknown>> }>;
    };
    expect(s.properties.train.properties.epochs).toEqual({
      description: 'Training epochs. [CODE] 100 ([README] 100/200/400 released)',
      default: 100,
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
    });
  });

  it('paper preset = §5.5, with derived values computed', () => {
    const c = resolveConfig('paper-imagenet-r50');
    expect(c).toEqual(PAPER_DEFAULTS);
    expect(c.model).toMatchObject({
      arch: 'resnet50',
      numPrototypes: 65536,
      partitionSize: 512,
      hiddenDim: 2048,
      bottleneckDim: 256,
    });
    expect(numBlocks(c.model)).toBe(128);
    expect(numCrops(c.crops)).toBe(8);
    expect(effectiveBatch(c.train)).toBe(4096);
    expect(scaledLr(c.optim, c.train)).toBeCloseTo(7.2, 12);
    expect(c.optim).toMatchObject({
      minLr: 0.0048,
      weightDecay: 1e-6,
      momentum: 0.9,
      eta: 0.001,
      warmupEpochs: 0,
    });
    expect(c.teacher).toEqual({ momentumStart: 0.99, momentumEnd: 1 });
    expect(networkSpec(c.model).head.inDim).toBe(2048);
  });

  it('every preset resolves, validates and round-trips through JSON', () => {
    expect(presetNames()).toEqual([
      'paper-imagenet-r50',
      'cifar10-r18',
      'fmnist-small',
      'fmnist-10min',
      'fmnist-tiny',
    ]);
    for (const name of presetNames()) {
      const c = resolveConfig(name);
      expect(c.preset).toBe(name);
      expect(resolveConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
      expect(numBlocks(c.model)).toBeGreaterThan(1);
    }
    const tiny = resolveConfig('fmnist-tiny');
    expect(networkSpec(tiny.model)).toMatchObject({
      backbone: { width: 8, inChannels: 1, cifarStem: false },
      head: { inDim: 64, numPrototypes: 64 },
    });
    expect(tiny.crops.mean).toHaveLength(1);
  });

  it('fmnist-10min is the fmnist-small network and recipe on all 60 000 images for 9 epochs', () => {
    const small = resolveConfig('fmnist-small');
    const tenMin = resolveConfig('fmnist-10min');
    for (const key of ['model', 'crops', 'optim', 'teacher', 'loss'] as const) {
      expect(tenMin[key], key).toEqual(small[key]);
    }
    expect(tenMin.data).toEqual({ dataset: 'fashion-mnist', limit: null });
    expect(tenMin.train).toMatchObject({ batchSize: 128, accumulation: 1, epochs: 9 });
    expect(small.data.limit).toBe(5000);
  });

  it('applies key=value overrides by type (numbers, pairs, bools, null, enums)', () => {
    const c = resolveConfig('fmnist-tiny', [
      'optim.lrRef=0.3',
      'crops.globalScale=0.3,1',
      'crops.localScale=[0.05, 0.2]',
      'data.limit=null',
      'model.headBatchNorm=false',
      'model.arch=resnet34',
      'preset=custom',
    ]);
    expect(c.optim.lrRef).toBe(0.3);
    expect(c.crops.globalScale).toEqual([0.3, 1]);
    expect(c.crops.localScale).toEqual([0.05, 0.2]);
    expect(c.data.limit).toBeNull();
    expect(c.model.headBatchNorm).toBe(false);
    expect(c.model.arch).toBe('resnet34');
    expect(c.preset).toBe('custom');
    // An object is merged over the preset it names.
    const o = resolveConfig({ preset: 'fmnist-tiny', train: { epochs: 1 } }, ['train.seed=3']);
    expect(o.train).toMatchObject({ epochs: 1, seed: 3, batchSize: 32 });
    expect(resolveConfig({ train: { epochs: 1 } }).preset).toBe('custom');
    expect(JSON.stringify({ PAPER_DEFAULTS, PRESETS })).toBe(snapshot);
  });

  it('loss.regWeight: 1 in every preset, 0 allowed, parsed as a number (§11.35)', () => {
    for (const name of Object.keys(PRESETS))
      expect(resolveConfig(name).loss).toEqual({ regWeight: 1 });
    expect(resolveConfig('fmnist-tiny', ['loss.regWeight=0']).loss.regWeight).toBe(0);
    expect(resolveConfig({ loss: { regWeight: 0.25 } }).loss.regWeight).toBe(0.25);
    const { loss: _l, ...noLoss } = PAPER_DEFAULTS;
    expect(() => validateConfig(noLoss)).toThrow(/missing key 'loss'/);
  });

  it('rejects unknown keys, naming them', () => {
    expect(() => resolveConfig('fmnist-tiny', ['optim.lrr=1'])).toThrow(/unknown key 'optim\.lrr'/);
    expect(() => resolveConfig('fmnist-tiny', ['optim.lr_ref=1'])).toThrow(ConfigError);
    expect(() => resolveConfig('fmnist-tiny', ['epochs=1'])).toThrow(
      /unknown key 'epochs' \(did you mean 'train\.epochs'\?\)/,
    );
    expect(() => resolveConfig({ optim: { foo: 1 } })).toThrow(/unknown key 'optim\.foo'/);
    expect(() => resolveConfig({ extra: {} })).toThrow(/unknown key 'extra'/);
    expect(() => resolveConfig('fmnist-huge')).toThrow(
      /unknown preset 'fmnist-huge' \(known: paper-imagenet-r50/,
    );
    expect(() => resolveConfig('fmnist-tiny', ['train.epochs'])).toThrow(
      /not of the form key=value/,
    );
  });

  it('rejects wrong types and ranges, naming the key', () => {
    const bad: [string, RegExp][] = [
      ['train.epochs=1.5', /'train\.epochs' must be an integer/],
      ['train.epochs=abc', /'train\.epochs' must be an integer/],
      ['model.arch=resnet101', /'model\.arch' must be one of resnet18, resnet34, resnet50/],
      ['model.cifarStem=yes', /'model\.cifarStem' must be true or false/],
      ['crops.flipProb=1.5', /'crops\.flipProb' must be ≤ 1/],
      ['crops.globalScale=1,0.2', /'crops\.globalScale' must have lo ≤ hi/],
      ['crops.globalScale=0.2', /'crops\.globalScale' must be a pair/],
      ['crops.globalCount=3', /'crops\.globalCount' must be ≤ 2/],
      ['crops.blurProb=0.5,0.5', /'crops\.blurProb' must be a list of 3 numbers/],
      ['crops.filter=nearest', /'crops\.filter' must be one of box, bilinear, bicubic, lanczos/],
      ['optim.lrRef=0', /'optim\.lrRef' must be > 0/],
      ['data.limit=0', /'data\.limit' must be ≥ 1/],
      ['loss.regWeight=-0.1', /'loss\.regWeight' must be ≥ 0, got -0.1/],
      ['loss.regWeight=', /'loss\.regWeight' must be a finite number/],
    ];
    for (const [o, re] of bad) expect(() => resolveConfig('fmnist-tiny', [o]), o).toThrow(re);
    expect(() => resolveConfig({ train: { batchSize: '32' } })).toThrow(
      /'train\.batchSize' must be an integer, got "32"/,
    );
    expect(() => resolveConfig({ model: 3 })).toThrow(/'model' is a section/);
    expect(() =>
      validateConfig({ ...PAPER_DEFAULTS, train: { ...PAPER_DEFAULTS.train, seed: undefined } }),
    ).toThrow(/'train\.seed'/);
    const { data: _d, ...noData } = PAPER_DEFAULTS;
    expect(() => validateConfig(noData)).toThrow(/missing key 'data'/);
  });

  it('refuses an unknown preset, in a config object or by --set, naming it', () => {
    expect(() => resolveConfig({ preset: 'fmnist-smal', train: { epochs: 1 } })).toThrow(
      "invalid CARP config: unknown preset 'fmnist-smal' (known: paper-imagenet-r50, cifar10-r18, fmnist-small, fmnist-10min, fmnist-tiny, or custom)",
    );
    expect(() => resolveConfig('fmnist-tiny', ['preset=mine'])).toThrow(
      "invalid CARP config: unknown preset 'mine' (known: paper-imagenet-r50, cifar10-r18, fmnist-small, fmnist-10min, fmnist-tiny, or custom)",
    );
    expect(() => resolveConfig('constructor')).toThrow("unknown preset 'constructor'");
    // `custom` is the paper defaults; a $schema key (editors) is ignored.
    const c = resolveConfig({ $schema: './config.schema.json', preset: 'custom' });
    expect(c).toEqual({ ...PAPER_DEFAULTS, preset: 'custom' });
  });

  it('refuses __proto__, constructor and other inherited names by name, in objects and --set', () => {
    const cases: [unknown, string[], string][] = [
      [
        JSON.parse('{"__proto__": {"x": 1}}'),
        [],
        "unknown key '__proto__' (known: preset, model, crops, optim, teacher, loss, train, data)",
      ],
      [
        JSON.parse('{"model": {"__proto__": {"width": 3}}}'),
        [],
        "unknown key 'model.__proto__' (known in 'model': arch, width, cifarStem, inChannels, numPrototypes, partitionSize, hiddenDim, bottleneckDim, headBatchNorm, headLayers)",
      ],
      [
        { constructor: 1 },
        [],
        "unknown key 'constructor' (known: preset, model, crops, optim, teacher, loss, train, data)",
      ],
      [
        { train: { toString: 'x' } },
        [],
        "unknown key 'train.toString' (known in 'train': batchSize, accumulation, epochs, seed, checkpointEvery, logEvery, checkpointMinutes)",
      ],
      [
        {},
        ['constructor=1'],
        "unknown key 'constructor' (known: preset, model, crops, optim, teacher, loss, train, data) (from 'constructor=1')",
      ],
      [
        {},
        ['__proto__.polluted=1'],
        "unknown key '__proto__.polluted' (known: preset, model, crops, optim, teacher, loss, train, data) (from '__proto__.polluted=1')",
      ],
      [
        {},
        ['model.hasOwnProperty=1'],
        "unknown key 'model.hasOwnProperty' (known in 'model': arch, width, cifarStem, inChannels, numPrototypes, partitionSize, hiddenDim, bottleneckDim, headBatchNorm, headLayers) (from 'model.hasOwnProperty=1')",
      ],
    ];
    for (const [input, sets, message] of cases) {
      expect(() => resolveConfig(input as object, sets), message).toThrow(
        `invalid CARP config: ${message}`,
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a value whose toString is not a function is reported, not thrown through', () => {
    const c = JSON.parse(JSON.stringify(resolveConfig('fmnist-tiny')));
    c.model.width = { toString: {} };
    expect(() => resolveConfig(c, [], { source: 'my.json' })).toThrow(
      `invalid CARP config in my.json: 'model.width' must be an integer, got {"toString":{}}`,
    );
  });

  it('cross-field rules', () => {
    expect(() => resolveConfig('fmnist-tiny', ['model.partitionSize=128'])).toThrow(
      /'model\.partitionSize' \(128\) must be ≤ 'model\.numPrototypes' \(64\)/,
    );
    expect(() => resolveConfig('cifar10-r18', ['model.inChannels=1'])).toThrow(
      /'crops\.mean' needs one value per input channel \(1\), got 3/,
    );
    expect(() =>
      resolveConfig('fmnist-tiny', ['teacher.momentumStart=1', 'teacher.momentumEnd=0.99']),
    ).toThrow(/momentumStart/);
    expect(() => resolveConfig('fmnist-tiny', ['optim.warmupEpochs=2'])).toThrow(/warmupEpochs/);
    // Every problem is reported at once.
    try {
      resolveConfig('fmnist-tiny', ['train.epochs=0', 'model.width=-1']);
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).issues).toHaveLength(2);
    }
  });

  it('crops = the augmentation presets of src/data (one set of values)', () => {
    const pairs: [string, 'imagenet' | 'cifar' | 'fmnist'][] = [
      ['paper-imagenet-r50', 'imagenet'],
      ['cifar10-r18', 'cifar'],
      ['fmnist-tiny', 'fmnist'],
      ['fmnist-small', 'fmnist'],
    ];
    for (const [preset, aug] of pairs) {
      const c = resolveConfig(preset);
      const settings = multiCropSettings(c.crops);
      expect(settings, preset).toEqual(multiCropPreset(aug, { numLocal: c.crops.numLocal }));
      expect(() => validateMultiCropConfig(settings, c.model.inChannels)).not.toThrow();
    }
  });

  it('derived iteration counts follow drop-last loading and §5.4 accumulation', () => {
    const t = { batchSize: 32, accumulation: 3 };
    expect(itersPerEpoch(330, t)).toBe(10);
    expect(optimizerStepsPerEpoch(330, t)).toBe(4); // groups of 3,3,3 and a trailing 1
  });
});
