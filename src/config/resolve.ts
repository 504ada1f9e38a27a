/**
 * Building the resolved config of a run: preset (or object) → deep merge → `key=value`
 * overrides → validation (architecture §3.3 `--set`, architecture §6.5). Nothing is
 * filled in silently: unknown keys and wrong types are errors naming the dotted key.
 */
import { PRESETS, presetNames } from './presets';
import { PAPER_DEFAULTS, type CarpConfig, type DeepPartial } from './schema';
import {
  ConfigError,
  checkValue,
  keySpec,
  show,
  unknownKeyText,
  validateConfig,
  type KeySpec,
} from './validate';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep copy of plain JSON data. */
function copy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Merges `patch` into `target` in place; sections must stay objects, leaves replace. Only
 * the target's own keys exist: `__proto__`, `constructor`, `toString` … are unknown keys
 * like any other, never inherited properties to write through.
 */
function mergeInto(target: Obj, patch: Obj, prefix: string, issues: string[]): void {
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    const key = prefix ? `${prefix}.${k}` : k;
    if (!Object.hasOwn(target, k)) {
      issues.push(unknownKeyText(key));
    } else if (isObj(target[k]) && !keySpec(key)) {
      if (isObj(v)) mergeInto(target[k] as Obj, v, key, issues);
      else issues.push(`'${key}' is a section and must be an object, got ${show(v)}`);
    } else {
      target[k] = copy(v);
    }
  }
}

/** Parses the text of one override value according to the key's rule. */
function parseValue(text: string, k: KeySpec): unknown {
  const t = text.trim();
  if (k.nullable && t === 'null') return null;
  switch (k.kind) {
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
    const spec = keySpec(key);
    if (!spec) {
      issues.push(`${unknownKeyText(key)} (from '${o}')`);
      continue;
    }
    const value = parseValue(o.slice(eq + 1), spec);
    const bad = checkValue(key, value, spec);
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

/** Preset names a config's `preset` may hold: the presets, and `custom` (none). */
const isPresetName = (n: unknown): n is string =>
  typeof n === 'string' && (n === 'custom' || Object.hasOwn(PRESETS, n));

/**
 * The resolved configuration of a run.
 *
 * @param input a preset name, or a (partial) config object. An object is merged over the
 *   preset named by its `preset` field (a known preset, or `custom` for the paper
 *   defaults; any other name is refused: a typo must not silently train the paper's
 *   ResNet-50); without one, over the paper defaults as `custom`. A top-level `$schema`
 *   key (for editors) is ignored.
 * @param overrides `key=value` strings with dotted keys (`optim.lrRef=0.3`,
 *   `crops.globalScale=0.3,1`, `data.limit=null`), applied last.
 * @param o.source the file the object came from, named in errors.
 */
export function resolveConfig(
  input: string | DeepPartial<CarpConfig> | Obj,
  overrides: readonly string[] = [],
  o: { source?: string } = {},
): CarpConfig {
  const issues: string[] = [];
  const known = `known: ${presetNames().join(', ')}`;
  let base: CarpConfig;
  let patch: Obj = {};
  if (typeof input === 'string') {
    if (!Object.hasOwn(PRESETS, input))
      throw new ConfigError([`unknown preset '${input}' (${known})`]);
    base = withPreset(input);
  } else if (isObj(input)) {
    const { $schema: _schema, ...rest } = input as Obj;
    patch = rest;
    const name = Object.hasOwn(patch, 'preset') ? patch.preset : 'custom';
    if (typeof name === 'string' && !isPresetName(name))
      throw new ConfigError([`unknown preset '${name}' (${known}, or custom)`], o.source);
    base = isPresetName(name) && name !== 'custom' ? withPreset(name) : customBase();
  } else {
    throw new ConfigError(
      [`config must be a preset name or an object, got ${show(input)}`],
      o.source,
    );
  }
  const merged = copy(base) as unknown as Obj;
  mergeInto(merged, patch, '', issues);
  const parsed = parseOverrides(overrides);
  issues.push(...parsed.issues);
  mergeInto(merged, parsed.patch, '', issues);
  if (issues.length === 0 && typeof merged.preset === 'string' && !isPresetName(merged.preset))
    issues.push(`unknown preset '${merged.preset}' (${known}, or custom)`);
  if (issues.length > 0) throw new ConfigError(issues, o.source);
  return validateConfig(merged, o.source);
}

function customBase(): CarpConfig {
  return { ...copy(PAPER_DEFAULTS), preset: 'custom' };
}

function withPreset(name: string): CarpConfig {
  const merged = copy(PAPER_DEFAULTS) as unknown as Obj;
  const issues: string[] = [];
  mergeInto(merged, PRESETS[name] as Obj, '', issues);
  if (issues.length > 0) throw new ConfigError(issues.map((i) => `preset '${name}': ${i}`));
  merged.preset = name;
  return merged as unknown as CarpConfig;
}
