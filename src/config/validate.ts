/**
 * Validation of a `CarpConfig` (architecture §6.5) with one zod schema: unknown keys,
 * missing keys, wrong types and out-of-range values are rejected with the dotted key's
 * name; then the cross-field rules of the method (P ≤ K, one mean/std per channel …). The
 * same schema emits the JSON Schema of a config file (`carp config --schema`).
 *
 * `KEYS` has one entry per leaf of `PAPER_DEFAULTS` (pinned by a test, as is each
 * meaning against the field's JSDoc in schema.ts / multiCropConfig.ts): adding a config
 * key is its field in schema.ts, its default in `PAPER_DEFAULTS` and one line here.
 */
import { z } from 'zod';
import { RESNET_ARCHS } from '../models/resnet';
import { PAPER_DEFAULTS, type CarpConfig } from './schema';

/** How a `--set key=value` text is read for the key (see resolve.ts `parseValue`). */
export type KeyKind = 'int' | 'number' | 'bool' | 'string' | 'enum' | 'range' | 'numbers';

/** One config key: its schema, how override text parses, and its meaning (`carp config`). */
export interface KeySpec {
  kind: KeyKind;
  nullable: boolean;
  schema: z.ZodType;
  meaning: string;
}

/**
 * Any value as text for a message. Never throws: config values come from JSON files, so
 * `{"toString": {}}` is as possible as a number.
 */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  try {
    const s = JSON.stringify(v);
    if (s !== undefined) return s;
  } catch {
    // cyclic or BigInt: fall through
  }
  return Object.prototype.toString.call(v);
}

interface Bounds {
  min?: number;
  max?: number;
  /** Strict lower bound. */
  above?: number;
}

/** A finite number within `b`, with messages in the kit's words. */
function numberSchema(b: Bounds, integer = false): z.ZodNumber {
  let s = integer
    ? z.number({ error: (i) => `must be an integer, got ${show(i.input)}` })
    : z.number({ error: (i) => `must be a finite number, got ${show(i.input)}` });
  if (integer) s = s.int({ error: (i) => `must be an integer, got ${show(i.input)}` });
  if (b.above !== undefined)
    s = s.gt(b.above, { error: (i) => `must be > ${b.above}, got ${i.input}` });
  if (b.min !== undefined) s = s.min(b.min, { error: (i) => `must be ≥ ${b.min}, got ${i.input}` });
  if (b.max !== undefined && Number.isFinite(b.max))
    s = s.max(b.max, { error: (i) => `must be ≤ ${b.max}, got ${i.input}` });
  return s;
}

const spec = (kind: KeyKind, schema: z.ZodType, meaning: string, nullable = false): KeySpec => ({
  kind,
  nullable,
  schema: nullable ? schema.nullable() : schema,
  meaning,
});

const int = (meaning: string, b: Bounds = {}) => spec('int', numberSchema(b, true), meaning);
const num = (meaning: string, b: Bounds = {}) => spec('number', numberSchema(b), meaning);
const prob = (meaning: string) => num(meaning, { min: 0, max: 1 });
const posInt = (meaning: string) => int(meaning, { min: 1 });
const bool = (meaning: string) =>
  spec('bool', z.boolean({ error: (i) => `must be true or false, got ${show(i.input)}` }), meaning);
const str = (meaning: string) =>
  spec(
    'string',
    z
      .string({ error: (i) => `must be a non-empty string, got ${show(i.input)}` })
      .min(1, { error: () => 'must be a non-empty string, got ""' }),
    meaning,
  );
const oneOf = (values: readonly [string, ...string[]], meaning: string) =>
  spec(
    'enum',
    z.enum(values, { error: (i) => `must be one of ${values.join(', ')}, got ${show(i.input)}` }),
    meaning,
  );
/** [lo, hi] with both within `b` and lo ≤ hi. */
const range = (meaning: string, b: Bounds) =>
  spec(
    'range',
    // The shape first: a wrong length is one "pair" message, not one per missing element.
    z
      .custom<unknown[]>((v) => Array.isArray(v) && v.length === 2, {
        error: (i) => `must be a pair [lo, hi], got ${show(i.input)}`,
      })
      .pipe(
        z.tuple([numberSchema(b), numberSchema(b)]).refine(([lo, hi]) => lo <= hi, {
          error: (i) => `must have lo ≤ hi, got ${show(i.input)}`,
        }),
      ),
    meaning,
  );
/** A non-empty list of numbers within `b` (of `length` when given). */
const numbers = (meaning: string, b: Bounds & { length?: number } = {}) => {
  const what = b.length === undefined ? 'a non-empty list of' : `a list of ${b.length}`;
  const error = (i: { input?: unknown }) => `must be ${what} numbers, got ${show(i.input)}`;
  const list = z.array(numberSchema(b), { error });
  return spec(
    'numbers',
    b.length === undefined ? list.min(1, { error }) : list.length(b.length, { error }),
    meaning,
  );
};

/** Every key of a config: dotted name → spec. Meanings are the JSDoc of the fields. */
export const KEYS: Readonly<Record<string, KeySpec>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, KeySpec>, {
    preset: str('Name of the preset this configuration started from (`custom` when none).'),
    'model.arch': oneOf(
      RESNET_ARCHS as unknown as [string, ...string[]],
      'Backbone. [CODE] ResNet-50 (the only one evaluated, §2.1).',
    ),
    'model.width': posInt(
      "Base width (stem channels); 64 is torchvision's. Smaller for CPU presets. [CODE] 64",
    ),
    'model.cifarStem': bool(
      '3×3 stride-1 stem without max-pool for small images. [CODE] false (ImageNet stem)',
    ),
    'model.inChannels': posInt('Image channels (3 RGB, 1 Fashion-MNIST). [CODE] 3'),
    'model.numPrototypes': posInt('K, prototypes (head output width). [CODE]+[BRIEF] 65 536'),
    'model.partitionSize': posInt('P, prototypes per random block. [CODE]+[BRIEF] 512 (N_p = 128)'),
    'model.hiddenDim': posInt('Hidden width of the projection MLP. [CODE] 2048'),
    'model.bottleneckDim': posInt('Embedding width d before the prototypes. [CODE] 256'),
    'model.headBatchNorm': bool("BatchNorm in the head's hidden layers. [CODE] on"),
    'model.headLayers': posInt('Linear layers in the projection MLP. [CODE] 3'),
    'crops.globalCount': int(
      'Global views per image; the teacher sees exactly these two. [CODE] 2 (fixed)',
      { min: 2, max: 2 },
    ),
    'crops.globalSize': posInt('Global crop side in px. [CODE] 224'),
    'crops.localSize': posInt('Local crop side in px. [CODE] 96'),
    'crops.numLocal': int('Local views per image. [CODE]+[README] 6 ("2x224 + 6x96")', { min: 0 }),
    'crops.globalScale': range('Area fraction range of global crops. [CODE] (0.2, 1.0)', {
      min: 0,
      max: 1,
      above: 0,
    }),
    'crops.localScale': range('Area fraction range of local crops. [CODE] (0.05, 0.2)', {
      min: 0,
      max: 1,
      above: 0,
    }),
    'crops.ratio': range('Crop aspect-ratio range (log-uniform). [CODE] (3/4, 4/3)', {
      min: 0,
      above: 0,
    }),
    'crops.flipProb': prob('Horizontal flip probability. [CODE] 0.5'),
    'crops.jitterProb': prob('Colour-jitter probability. [CODE] 0.8'),
    'crops.brightness': num('Brightness jitter strength: factor U[1 − s, 1 + s]. [CODE] 0.4', {
      min: 0,
      max: 1,
    }),
    'crops.contrast': num('Contrast jitter strength. [CODE] 0.4', { min: 0, max: 1 }),
    'crops.saturation': num('Saturation jitter strength. [CODE] 0.2', { min: 0, max: 1 }),
    'crops.hue': num('Hue shift range U[−s, s] (fraction of the circle). [CODE] 0.1', {
      min: 0,
      max: 0.5,
    }),
    'crops.grayscaleProb': prob('Greyscale probability. [CODE] 0.2'),
    'crops.blurSigma': range('Blur σ range in px (PIL radius). [CODE] (0.1, 2.0)', { min: 0 }),
    'crops.blurProb': numbers(
      'Gaussian-blur probability per view kind [global A, global B, local]. [CODE] (1.0, 0.1, 0.5)',
      { length: 3, min: 0, max: 1 },
    ),
    'crops.solarizeProb': numbers(
      'Solarisation probability per view kind [global A, global B, local]. [CODE] (0, 0.2, 0)',
      { length: 3, min: 0, max: 1 },
    ),
    'crops.mean': numbers("Per-channel normalisation mean. [CODE] ImageNet's"),
    'crops.std': numbers("Per-channel normalisation std. [CODE] ImageNet's", { above: 0 }),
    'crops.filter': oneOf(
      ['box', 'bilinear', 'bicubic', 'lanczos'],
      'Crop resize filter. [CODE] bicubic',
    ),
    'crops.channels': oneOf(
      ['keep', 'rgb'],
      'Greyscale input: keep one channel or replicate to RGB. [JUDGEMENT, §11.21] keep',
    ),
    'optim.lrRef': num(
      'Peak learning rate per 256 images; the peak is lrRef·A·B/256 (`scaledLr`). [CODE] 0.45 (→ 7.2 at 4096). [BRIEF, unverified] 0.6 for ≤ 200 epochs, 0.3 for 400 (§11.1).',
      { min: 0, above: 0 },
    ),
    'optim.minLr': num(
      'Final learning rate of the cosine, NOT scaled. [CODE] 0.0048 ([BRIEF] 0.006 / 0.003)',
      { min: 0 },
    ),
    'optim.weightDecay': num(
      'Weight decay, constant (regularised group only, §5.1). [CODE]+[BRIEF] 1e-6',
      { min: 0 },
    ),
    'optim.momentum': num('LARS heavy-ball momentum μ. [CODE] 0.9', { min: 0, max: 1 }),
    'optim.eta': num('LARS trust coefficient η. [CODE] 0.001', { min: 0, above: 0 }),
    'optim.warmupEpochs': int('Linear warm-up epochs of the learning rate. [CODE] 0', { min: 0 }),
    'teacher.momentumStart': prob(
      'EMA momentum at the first micro-step (cosine to `momentumEnd`). [CODE] 0.99',
    ),
    'teacher.momentumEnd': prob('EMA momentum at the end of training. [CODE] 1'),
    'loss.regWeight': num(
      'λ, the weight of the regulariser: L = L_cons + λ·L_reg (§4.3). The paper and the code use 1. 0 switches the KL-to-uniform term off, which lets a run show the collapse the term exists to prevent (every image on the same prototypes, §11.35); the logged terms stay unweighted. [CODE] 1',
      { min: 0 },
    ),
    'train.batchSize': int(
      "Images per micro-batch B (what BN and the loss see at once). [JUDGEMENT, §11.18] 128 = the code's 32 per GPU × the paper's 4 GPUs ([CODE] + [PAPER-Q]; §11.2).",
      { min: 2 },
    ),
    'train.accumulation': posInt(
      'Gradient-accumulation micro-steps A per optimiser step. [JUDGEMENT] 32 → 4096 ([BRIEF])',
    ),
    'train.epochs': posInt('Training epochs. [CODE] 100 ([README] 100/200/400 released)'),
    'train.seed': int(
      'Seed of every random draw (init, data order, partitions, augmentation). [CODE] 0',
      { min: 0 },
    ),
    'train.checkpointEvery': posInt(
      'Keep a numbered checkpoint every N epochs (latest is always written). [CODE] 25',
    ),
    'train.logEvery': posInt('Log metrics every N micro-steps. [CODE] 100'),
    'train.checkpointMinutes': num(
      'Also checkpoint mid-epoch every this many minutes (at the next micro-step; the last 3 such step checkpoints are kept), so a killed run loses at most that much work; 0 = only at epoch ends. Operational: may change between a run and its resume. [JUDGEMENT] 5',
      { min: 0 },
    ),
    'data.dataset': str('Dataset name as the data readers know it. [CODE] ImageNet-1k train'),
    'data.limit': spec(
      'int',
      numberSchema({ min: 1 }, true),
      'Use a seeded (seed 0), class-stratified subset of N training images instead of all (null: all); prepared folders are stored class by class, so the first N would be a few classes. [JUDGEMENT] null',
      true,
    ),
  }),
);

/** The spec of a dotted key; undefined for anything else (inherited names included). */
export function keySpec(key: string): KeySpec | undefined {
  return Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
}

/** Known dotted keys (for "did you mean" messages and override parsing). */
export function knownKeys(): string[] {
  return Object.keys(KEYS);
}

/** Immediate child names of a section ('' for the top level). */
export function childNames(prefix: string): string[] {
  const out = new Set<string>();
  for (const key of knownKeys()) {
    if (prefix === '' || key.startsWith(`${prefix}.`))
      out.add(key.slice(prefix === '' ? 0 : prefix.length + 1).split('.')[0]);
  }
  return [...out];
}

/** The value of a dotted key in `PAPER_DEFAULTS`. */
export function defaultOf(key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], PAPER_DEFAULTS);
}

/** The zod object schema of the section `prefix`, built from `KEYS`. */
function sectionSchema(prefix: string, withMeta: boolean): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const name of childNames(prefix)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const k = keySpec(key);
    shape[name] = k
      ? withMeta
        ? k.schema.meta({ description: k.meaning, default: defaultOf(key) })
        : k.schema
      : sectionSchema(key, withMeta);
  }
  return z.strictObject(shape, {
    error: (i) =>
      i.code === 'invalid_type'
        ? `is a section and must be an object, got ${show(i.input)}`
        : undefined,
  });
}

const CONFIG_SCHEMA = sectionSchema('', false);

/** The JSON Schema (draft 2020-12) of a complete config file, with meanings and defaults. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(sectionSchema('', true), { target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: schema.$schema,
    title: 'carp-kit configuration (CarpConfig)',
    description:
      'A complete CARP run configuration as `carp config` prints it. A config file may also be partial: it is merged over the preset it names (or the paper defaults), and may carry a "$schema" key.',
    ...schema,
    properties: {
      $schema: { type: 'string', description: 'This schema, for editors; ignored.' },
      ...(schema.properties as Record<string, unknown>),
    },
  };
}

/** Error carrying every problem found, each naming its dotted key (and the file, when known). */
export class ConfigError extends Error {
  constructor(
    readonly issues: string[],
    readonly source?: string,
  ) {
    super(`invalid CARP config${source ? ` in ${source}` : ''}: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** `model.arch`, `crops.blurProb[2]`. */
function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`))
    .join('');
}

/** " (did you mean 'x.y'?)" for a near-miss key, else the known names of the section. */
export function unknownKeyText(key: string): string {
  const leaf = key.split('.').pop()!.toLowerCase();
  const hit =
    knownKeys().find((k) => k.split('.').pop()!.toLowerCase() === leaf) ??
    knownKeys().find(
      (k) => k.toLowerCase().includes(leaf) || leaf.includes(k.split('.').pop()!.toLowerCase()),
    );
  if (hit) return `unknown key '${key}' (did you mean '${hit}'?)`;
  let prefix = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
  if (childNames(prefix).length === 0) prefix = '';
  const known = childNames(prefix);
  return `unknown key '${key}' (known${prefix ? ` in '${prefix}'` : ''}: ${known.join(', ')})`;
}

/** Problems of `value` against the schema (empty when it is a valid config shape). */
function schemaIssues(value: unknown): string[] {
  const r = CONFIG_SCHEMA.safeParse(value);
  if (r.success) return [];
  const out: string[] = [];
  for (const i of r.error.issues) {
    const key = pathText(i.path);
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push(unknownKeyText(key ? `${key}.${k}` : k));
      continue;
    }
    // A key absent from its (object) section reads as missing, not as "got undefined".
    const parent = i.path
      .slice(0, -1)
      .reduce<unknown>(
        (o, p) =>
          o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[p] : undefined,
        value,
      );
    const last = i.path[i.path.length - 1];
    if (
      typeof last === 'string' &&
      parent !== null &&
      typeof parent === 'object' &&
      !Array.isArray(parent) &&
      !Object.hasOwn(parent, last)
    ) {
      out.push(`missing key '${key}'`);
      continue;
    }
    out.push(key ? `'${key}' ${i.message}` : `the config must be an object, got ${show(value)}`);
  }
  return out;
}

/** Problems of one leaf value (empty when fine); for `--set` values before merging. */
export function checkValue(key: string, v: unknown, k: KeySpec): string[] {
  const r = k.schema.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `'${pathText([key, ...i.path])}' ${i.message}`);
}

/**
 * Checks a complete config; throws a `ConfigError` listing every problem. `source` (a
 * file name) is named in the error.
 */
export function validateConfig(value: unknown, source?: string): CarpConfig {
  const issues = schemaIssues(value);
  if (issues.length > 0) throw new ConfigError(issues, source);
  const c = value as CarpConfig;
  const m = c.model;
  if (m.partitionSize > m.numPrototypes) {
    issues.push(
      `'model.partitionSize' (${m.partitionSize}) must be ≤ 'model.numPrototypes' (${m.numPrototypes})`,
    );
  }
  for (const k of ['mean', 'std'] as const) {
    if (c.crops[k].length !== m.inChannels) {
      issues.push(
        `'crops.${k}' needs one value per input channel (${m.inChannels}), got ${c.crops[k].length}`,
      );
    }
  }
  if (c.teacher.momentumStart > c.teacher.momentumEnd) {
    issues.push(
      `'teacher.momentumStart' (${c.teacher.momentumStart}) must be ≤ 'teacher.momentumEnd' (${c.teacher.momentumEnd})`,
    );
  }
  if (c.optim.warmupEpochs >= c.train.epochs) {
    issues.push(
      `'optim.warmupEpochs' (${c.optim.warmupEpochs}) must be < 'train.epochs' (${c.train.epochs})`,
    );
  }
  if (c.optim.minLr > (c.optim.lrRef * (c.train.batchSize * c.train.accumulation)) / 256) {
    issues.push(`'optim.minLr' (${c.optim.minLr}) exceeds the scaled peak learning rate`);
  }
  if (issues.length > 0) throw new ConfigError(issues, source);
  return c;
}
