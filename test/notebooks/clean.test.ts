/**
 * Committed notebooks carry no outputs and no execution counts (architecture §3.2), are
 * in the stripped form of environment/strip-notebooks.mjs, run in the carp-kit kernel,
 * and import the kit as a package (tslab cannot compile `../src/…`, architecture §7.2).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const NOTEBOOKS = join(ROOT, 'notebooks');
const STRIP = join(ROOT, 'environment', 'strip-notebooks.mjs');

interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}
interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name?: string } };
}

const files = readdirSync(NOTEBOOKS)
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
const read = (f: string): Notebook =>
  JSON.parse(readFileSync(join(NOTEBOOKS, f), 'utf8')) as Notebook;
const source = (c: Cell): string => (Array.isArray(c.source) ? c.source.join('') : c.source);

describe('committed notebooks', () => {
  it('exist', () => {
    expect(files).toContain('00-quickstart.ipynb');
  });

  it.each(files)('%s has no outputs or execution counts', (f) => {
    const dirty = read(f)
      .cells.map((c, i) => ({ i, c }))
      .filter(
        ({ c }) =>
          c.cell_type === 'code' && ((c.outputs ?? []).length > 0 || c.execution_count != null),
      )
      .map(({ i }) => i);
    expect(dirty, `cells with outputs: run node environment/strip-notebooks.mjs`).toEqual([]);
  });

  it.each(files)('%s is in stripped form and uses the carp-kit kernel', (f) => {
    execFileSync(process.execPath, [STRIP, '--check', join(NOTEBOOKS, f)]);
    expect(read(f).metadata.kernelspec?.name).toBe('carp-kit');
  });

  it.each(files)('%s imports the kit by package name, never ../src', (f) => {
    const code = read(f)
      .cells.filter((c) => c.cell_type === 'code')
      .map(source)
      .join('\n');
    expect(code).not.toMatch(/from\s+['"]\.\.?\//);
    expect(code).not.toMatch(/require\(\s*['"]\.\.?\//);
  });
});

describe('strip-notebooks.mjs', () => {
  it('strips outputs, counts and volatile metadata; --check tells dirty from clean', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carp-nb-'));
    const file = join(dir, 'x.ipynb');
    const dirty = {
      nbformat: 4,
      nbformat_minor: 4,
      metadata: {
        kernelspec: { name: 'carp-kit' },
        language_info: { name: 'typescript', version: '5.0.4' },
        widgets: {},
      },
      cells: [
        { cell_type: 'markdown', metadata: { collapsed: true }, source: ['# t'] },
        {
          cell_type: 'code',
          execution_count: 3,
          metadata: { scrolled: true, tags: ['keep'] },
          outputs: [{ output_type: 'stream', name: 'stdout', text: ['hi\n'] }],
          source: ['1+1'],
        },
      ],
    };
    writeFileSync(file, JSON.stringify(dirty));
    const check = (): number => {
      try {
        execFileSync(process.execPath, [STRIP, '--check', file], { stdio: 'pipe' });
        return 0;
      } catch (e) {
        return (e as { status: number }).status;
      }
    };
    expect(check()).toBe(1);
    execFileSync(process.execPath, [STRIP, file]);
    expect(check()).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      cells: [
        { cell_type: 'markdown', metadata: {}, source: ['# t'] },
        {
          cell_type: 'code',
          execution_count: null,
          metadata: { tags: ['keep'] },
          outputs: [],
          source: ['1+1'],
        },
      ],
      metadata: { kernelspec: { name: 'carp-kit' }, language_info: { name: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 4,
    });
  });
});
