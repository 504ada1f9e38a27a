/**
 * The layers of src/ (docs/architecture.md): which folder may import which, and no import
 * cycles between modules. A violation names the importing file, the import and the rule.
 * Also the shape of test/: it mirrors src/ folder by folder, and every module of src/ is
 * imported by a test file of its own (not only reached through other modules).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
const SRC = join(ROOT, 'src');
const TEST = join(ROOT, 'test');

/**
 * What each top-level part of src/ may import besides itself, from the bottom up: shared
 * infrastructure, the backend, building blocks, the method, checkpoint formats, training,
 * evaluation (never training), then the applications.
 */
const MAY_IMPORT: Record<string, string[]> = {
  util: [],
  random: [],
  backend: ['util'],
  optim: ['backend'],
  models: ['backend', 'random', 'util'],
  search: ['backend', 'util'],
  data: ['backend', 'random', 'util'],
  config: ['data', 'models'],
  carp: ['backend', 'models', 'optim', 'random', 'util'],
  interop: ['backend', 'config', 'data', 'models', 'optim', 'random', 'util'],
  train: ['backend', 'carp', 'config', 'data', 'interop', 'models', 'optim', 'random', 'util'],
  eval: ['backend', 'config', 'data', 'interop', 'models', 'optim', 'random', 'search', 'util'],
  viz: ['data', 'eval', 'interop', 'random', 'util'],
  bench: ['backend', 'carp', 'config', 'data', 'models', 'optim', 'random', 'search', 'util'],
  experiments: [
    'backend',
    'carp',
    'config',
    'data',
    'eval',
    'interop',
    'models',
    'optim',
    'random',
    'search',
    'train',
    'util',
    'viz',
  ],
  cli: ['*'],
  index: ['*'],
};

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** `dir` and every folder below it. */
function folders(dir: string, out: string[] = []): string[] {
  out.push(dir);
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) folders(p, out);
  }
  return out;
}

/** Top-level part of a src/ file: its first folder, or the file's stem for src/x.ts. */
function part(file: string): string {
  const [first, ...rest] = relative(SRC, file).split(sep);
  return rest.length ? first : first.replace(/\.ts$/, '');
}

/**
 * Static relative imports of a file, resolved to .ts files. With `values`, only imports that
 * exist at run time: `import type` is erased by the compiler, and dynamic import() (the CLI's
 * lazy commands) is excluded either way.
 */
function imports(file: string, values = false): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(import|export)(\s+type)?\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
    if (values && m[2]) continue;
    const base = resolve(dirname(file), m[3].replace(/\.js$/, ''));
    for (const c of [`${base}.ts`, join(base, 'index.ts')]) {
      try {
        if (statSync(c).isFile()) {
          out.push(c);
          break;
        }
      } catch {
        // try the next candidate
      }
    }
  }
  return out;
}

const files = walk(SRC);
const graph = new Map(files.map((f) => [f, imports(f)]));
const runtimeGraph = new Map(files.map((f) => [f, imports(f, true)]));

describe('architecture: the layers of src/', () => {
  it('every part imports only the parts below it', () => {
    const bad: string[] = [];
    for (const [file, deps] of graph) {
      const from = part(file);
      const rule = MAY_IMPORT[from];
      if (!rule) {
        bad.push(`${relative(ROOT, file)}: part '${from}' has no rule in MAY_IMPORT`);
        continue;
      }
      for (const d of deps) {
        const to = part(d);
        if (to === from || rule.includes('*') || rule.includes(to)) continue;
        bad.push(
          `${relative(ROOT, file)} imports ${relative(ROOT, d)}: ${from} may not import ${to}`,
        );
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no import cycles between modules (at run time)', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]) => {
      state.set(f, 'open');
      for (const d of runtimeGraph.get(f) ?? []) {
        if (state.get(d) === 'open') {
          const from = stack.indexOf(d);
          cycles.push([...stack.slice(from), d].map((x) => relative(SRC, x)).join(' → '));
        } else if (!state.has(d)) visit(d, [...stack, d]);
      }
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f, [f]);
    expect(cycles).toEqual([]);
  });
});

describe('architecture: test/ mirrors src/', () => {
  it('every folder of src/ has a folder of the same path under test/', () => {
    const missing = folders(SRC)
      .map((d) => join(TEST, relative(SRC, d)))
      .filter((d) => !existsSync(d))
      .map((d) => relative(ROOT, d));
    expect(missing).toEqual([]);
  });

  it('every src/ module is imported directly by some test file', () => {
    const testFiles = walk(TEST).filter((f) => f.endsWith('.test.ts'));
    const tested = new Set(testFiles.flatMap((f) => imports(f)));
    const untested = files.filter((f) => !tested.has(f)).map((f) => relative(ROOT, f));
    expect(untested).toEqual([]);
  });
});
