/**
 * Validation of a `CarpConfig` (architecture §6.5): unknown keys, missing keys, wrong types
 * and out-of-range values are rejected with the dotted key's name; then the cross-field
 * rules of the method (P ≤ K, two global crops, one mean/std per channel …).
 *
 * `RULES` has one entry per leaf of `PAPER_DEFAULTS` (pinned by a test), so adding a
 * field without a rule — or a rule without a field — fails loudly.
 */
import { RESNET_ARCHS } from '../models/resnet';
import type { CarpConfig } from './schema';

export type Rule = { nullable?: boolean } & (
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number; above?: number }
  | { kind: 'bool' }
  | { kind: 'string' }
  | { kind: 'enum'; values: readonly string[] }
  /** [lo, hi] with min ≤ lo ≤ hi ≤ max (and lo > above when given). */
  | { kind: 'range'; min: number; max: number; above?: number }
  /** Non-empty list of numbers (of `length` when given), each within the bounds. */
  | { kind: 'numbers'; length?: number; min?: number; max?: number; above?: number }
);

const prob: Rule = { kind: 'number', min: 0, max: 1 };
const posInt: Rule = { kind: 'int', min: 1 };

export const RULES: Record<string, Rule> = {
  preset: { kind: 'string' },
  'model.arch': { kind: 'enum', values: RESNET_ARCHS },
  'model.width': posInt,
  'model.cifarStem': { kind: 'bool' },
  'model.inChannels': posInt,
  'model.numPrototypes': posInt,
  'model.partitionSize': posInt,
  'model.hiddenDim': posInt,
  'model.bottleneckDim': posInt,
  'model.headBatchNorm': { kind: 'bool' },
  'model.headLayers': posInt,
  'crops.globalCount': { kind: 'int', min: 2, max: 2 },
  'crops.globalSize': posInt,
  'crops.localSize': posInt,
  'crops.numLocal': { kind: 'int', min: 0 },
  'crops.globalScale': { kind: 'range', min: 0, max: 1, above: 0 },
  'crops.localScale': { kind: 'range', min: 0, max: 1, above: 0 },
  'crops.ratio': { kind: 'range', min: 0, max: Infinity, above: 0 },
  'crops.flipProb': prob,
  'crops.jitterProb': prob,
  'crops.brightness': { kind: 'number', min: 0, max: 1 },
  'crops.contrast': { kind: 'number', min: 0, max: 1 },
  'crops.saturation': { kind: 'number', min: 0, max: 1 },
  'crops.hue': { kind: 'number', min: 0, max: 0.5 },
  'crops.grayscaleProb': prob,
  'crops.blurSigma': { kind: 'range', min: 0, max: Infinity },
  'crops.blurProb': { kind: 'numbers', length: 3, min: 0, max: 1 },
  'crops.solarizeProb': { kind: 'numbers', length: 3, min: 0, max: 1 },
  'crops.mean': { kind: 'numbers' },
  'crops.std': { kind: 'numbers', above: 0 },
  'crops.filter': { kind: 'enum', values: ['box', 'bilinear', 'bicubic', 'lanczos'] },
  'crops.channels': { kind: 'enum', values: ['keep', 'rgb'] },
  'optim.lrRef': { kind: 'number', min: 0, above: 0 },
  'optim.minLr': { kind: 'number', min: 0 },
  'optim.weightDecay': { kind: 'number', min: 0 },
  'optim.momentum': { kind: 'number', min: 0, max: 1 },
  'optim.eta': { kind: 'number', min: 0, above: 0 },
  'optim.warmupEpochs': { kind: 'int', min: 0 },
  'teacher.momentumStart': prob,
  'teacher.momentumEnd': prob,
  'loss.regWeight': { kind: 'number', min: 0 },
  'train.batchSize': { kind: 'int', min: 2 },
  'train.accumulation': posInt,
  'train.epochs': posInt,
  'train.seed': { kind: 'int', min: 0 },
  'train.checkpointEvery': posInt,
  'train.logEvery': posInt,
  'train.checkpointMinutes': { kind: 'number', min: 0 },
  'data.dataset': { kind: 'string' },
  'data.limit': { kind: 'int', min: 1, nullable: true },
};

/** Error carrying every problem found, each naming its dotted key. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid CARP config: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function num(v: unknown, key: string, r: { min?: number; max?: number; above?: number }): string[] {
  if (typeof v !== 'number' || !Number.isFinite(v))
    return [`'${key}' must be a finite number, got ${show(v)}`];
  if (r.above !== undefined && !(v > r.above)) return [`'${key}' must be > ${r.above}, got ${v}`];
  if (r.min !== undefined && v < r.min) return [`'${key}' must be ≥ ${r.min}, got ${v}`];
  if (r.max !== undefined && v > r.max) return [`'${key}' must be ≤ ${r.max}, got ${v}`];
  return [];
}

/** Problems of one leaf value against its rule (empty when fine). */
export function checkValue(key: string, v: unknown, r: Rule): string[] {
  if (v === null && r.nullable) return [];
  switch (r.kind) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v))
        return [`'${key}' must be an integer${r.nullable ? ' or null' : ''}, got ${show(v)}`];
      return num(v, key, r);
    case 'number':
      return num(v, key, r);
    case 'bool':
      return typeof v === 'boolean' ? [] : [`'${key}' must be true or false, got ${show(v)}`];
    case 'string':
      return typeof v === 'string' && v.length > 0
        ? []
        : [`'${key}' must be a non-empty string, got ${show(v)}`];
    case 'enum':
      return typeof v === 'string' && r.values.includes(v)
        ? []
        : [`'${key}' must be one of ${r.values.join(', ')}, got ${show(v)}`];
    case 'range': {
      if (!Array.isArray(v) || v.length !== 2)
        return [`'${key}' must be a pair [lo, hi], got ${show(JSON.stringify(v))}`];
      const issues = [...num(v[0], `${key}[0]`, r), ...num(v[1], `${key}[1]`, r)];
      if (issues.length === 0 && v[0] > v[1]) issues.push(`'${key}' must have lo ≤ hi, got [${v}]`);
      return issues;
    }
    case 'numbers':
      if (
        !Array.isArray(v) ||
        v.length === 0 ||
        (r.length !== undefined && v.length !== r.length)
      ) {
        const what = r.length === undefined ? 'a non-empty list of' : `a list of ${r.length}`;
        return [`'${key}' must be ${what} numbers, got ${show(JSON.stringify(v))}`];
      }
      return v.flatMap((x, i) => num(x, `${key}[${i}]`, r));
  }
}

/** Rules for one section ('' for the top level): immediate child names. */
function childNames(prefix: string): Set<string> {
  const out = new Set<string>();
  for (const key of Object.keys(RULES)) {
    if (prefix === '' || key.startsWith(`${prefix}.`)) {
      out.add(key.slice(prefix === '' ? 0 : prefix.length + 1).split('.')[0]);
    }
  }
  return out;
}

/** Known dotted keys (for "did you mean" messages and override parsing). */
export function knownKeys(): string[] {
  return Object.keys(RULES);
}

function walk(v: unknown, prefix: string, issues: string[]): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    issues.push(`'${prefix || '<root>'}' must be an object, got ${show(JSON.stringify(v))}`);
    return;
  }
  const obj = v as Record<string, unknown>;
  const expected = childNames(prefix);
  for (const k of Object.keys(obj)) {
    if (!expected.has(k)) {
      const key = prefix ? `${prefix}.${k}` : k;
      issues.push(
        `unknown key '${key}' (known${prefix ? ` in '${prefix}'` : ''}: ${[...expected].join(', ')})`,
      );
    }
  }
  for (const k of expected) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (!(k in obj)) issues.push(`missing key '${key}'`);
    else if (RULES[key]) issues.push(...checkValue(key, obj[k], RULES[key]));
    else walk(obj[k], key, issues);
  }
}

/** Checks a complete config; throws a `ConfigError` listing every problem. */
export function validateConfig(value: unknown): CarpConfig {
  const issues: string[] = [];
  walk(value, '', issues);
  if (issues.length > 0) throw new ConfigError(issues);
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
  if (issues.length > 0) throw new ConfigError(issues);
  return c;
}
