/**
 * Building the resolved config of a run: preset (or object) → deep merge → `key=value`
 * overrides → validation (architecture §3.3 `--set`, architecture §6.5). Nothing is
 * filled in silently: unknown keys and wrong types are errors naming the dotted key.
 */
import { PRESETS, presetNames } from './presets';
import { PAPER_DEFAULTS, type CarpConfig, type DeepPartial } from './schema';
import { ConfigError, RULES, checkValue, knownKeys, validateConfig, type Rule } from './validate';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep copy of plain JSON data. */
function copy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Merges `patch` into `target` in place; sections must stay objects, leaves replace. */
function mergeInto(target: Obj, patch: Obj, prefix: string, issues: string[]): void {
  for (const [k, v] of Object.entries(patch)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (!(k in target)) {
      issues.push(`unknown key '${key}'${suggest(key)}`);
    } else if (isObj(target[k]) && !RULES[key]) {
      if (isObj(v)) mergeInto(target[k] as Obj, v, key, issues);
      else issues.push(`'${key}' is a section and must be an object, got ${JSON.stringify(v)}`);
    } else {
      target[k] = copy(v);
    }
  }
}

/** " (did you mean 'x.y'?)" for a near-miss key, else "". */
function suggest(key: string): string {
  const leaf = key.split('.').pop()!.toLowerCase();
  const hit =
    knownKeys().find((k) => k.split('.').pop()!.toLowerCase() === leaf) ??
    knownKeys().find(
      (k) => k.toLowerCase().includes(leaf) || leaf.includes(k.split('.').pop()!.toLowerCase()),
    );
  return hit ? ` (did you mean '${hit}'?)` : '';
}

/** Parses the text of one override value according to the key's rule. */
function parseValue(key: string, text: string, rule: Rule): unknown {
  const t = text.trim();
  if (rule.nullable && t === 'null') return null;
  switch (rule.kind) {
    case 'int':
    case 'number':
      return t === '' ? NaN : Number(t);
    case 'bool':
      if (t === 'true') return true;
      if (t === 'false') return false;
      return t;
    case 'string':
    case 'enum':
      return text;
    case 'range':
    case 'numbers': {
      // Accept JSON ("[0.2, 1]") or a comma list ("0.2,1").
      const body = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
      return body === '' ? [] : body.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    }
  }
}

/** Parses `key=value` strings into a patch; errors name the key. */
export function parseOverrides(overrides: readonly string[]): { patch: Obj; issues: string[] } {
  const patch: Obj = {};
  const issues: string[] = [];
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) {
      issues.push(`override '${o}' is not of the form key=value`);
      continue;
    }
    const key = o.slice(0, eq).trim();
    const rule = RULES[key];
    if (!rule) {
      issues.push(`unknown key '${key}'${suggest(key)}`);
      continue;
    }
    const value = parseValue(key, o.slice(eq + 1), rule);
    const bad = checkValue(key, value, rule);
    if (bad.length > 0) {
      issues.push(...bad.map((b) => `${b} (from '${o}')`));
      continue;
    }
    const parts = key.split('.');
    let node = patch;
    for (const p of parts.slice(0, -1)) node = (node[p] = isObj(node[p]) ? node[p] : {}) as Obj;
    node[parts[parts.length - 1]] = value;
  }
  return { patch, issues };
}

/**
 * The resolved configuration of a run.
 *
 * @param input a preset name, or a (partial) config object. An object is merged over the
 *   preset named by its `preset` field when that names a known preset, else over the
 *   paper defaults (and its `preset` becomes `custom` unless given).
 * @param overrides `key=value` strings with dotted keys (`optim.lrRef=0.3`,
 *   `crops.globalScale=0.3,1`, `data.limit=null`), applied last.
 */
export function resolveConfig(
  input: string | DeepPartial<CarpConfig> | Obj,
  overrides: readonly string[] = [],
): CarpConfig {
  const issues: string[] = [];
  let base: CarpConfig;
  let patch: Obj = {};
  if (typeof input === 'string') {
    if (!(input in PRESETS)) {
      throw new ConfigError([`unknown preset '${input}' (known: ${presetNames().join(', ')})`]);
    }
    base = withPreset(input);
  } else if (isObj(input)) {
    const name = input.preset;
    base =
      typeof name === 'string' && name in PRESETS
        ? withPreset(name)
        : { ...copy(PAPER_DEFAULTS), preset: 'custom' };
    patch = input;
  } else {
    throw new ConfigError([
      `config must be a preset name or an object, got ${JSON.stringify(input)}`,
    ]);
  }
  const merged = copy(base) as unknown as Obj;
  mergeInto(merged, patch, '', issues);
  const parsed = parseOverrides(overrides);
  issues.push(...parsed.issues);
  mergeInto(merged, parsed.patch, '', issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return validateConfig(merged);
}

function withPreset(name: string): CarpConfig {
  const merged = copy(PAPER_DEFAULTS) as unknown as Obj;
  const issues: string[] = [];
  mergeInto(merged, PRESETS[name] as Obj, '', issues);
  if (issues.length > 0) throw new ConfigError(issues.map((i) => `preset '${name}': ${i}`));
  merged.preset = name;
  return merged as unknown as CarpConfig;
}
