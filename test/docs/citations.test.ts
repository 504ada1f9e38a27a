/**
 * The repository documents itself: every section number the code cites exists, and no
 * file points at documents outside the repository.
 *
 * - `§x.y` (bare, or `method §x.y`) cites docs/method.md; `architecture §x.y` cites
 *   docs/architecture.md. A citation that follows another one after only a separator
 *   (`§5, §6.5`, `§2–§5`, `§9.2 and §9.3`) cites the same document. Inside
 *   docs/architecture.md a bare `§` cites that document itself.
 * - A section exists when a Markdown heading starts with its number (`## 4. Loss`,
 *   `### 4.2 Uniformity …`, `### 11.12 VOC07 difficult examples`).
 * - No file names the design or specification documents that used to live outside the
 *   repository, and no `spec §x` wording remains (write `§x`).
 * - No comment speaks of issues or waves (the project's task tracking is not the code's
 *   business): say what the code does instead.
 * Every failure lists file:line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/golden';

const SELF = relative(PROJECT_ROOT, __filename);

/** Folders (and single files) whose text is checked; build outputs and data are skipped. */
const SCANNED = [
  'src',
  'test',
  'notebooks',
  'environment',
  'data-scripts',
  'native',
  'bench',
  'docs',
  'README.md',
  '.ci/run',
  'eslint.config.mjs',
  'vitest.config.mts',
];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', '.bundle', '.jupyter', 'runs']);
const CODE_EXT = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.cc', '.h']);
const HASH_EXT = new Set(['.py', '.sh', '']);
const TEXT_EXT = new Set([...CODE_EXT, ...HASH_EXT, '.md', '.ipynb', '.inc']);

function listFiles(path: string): string[] {
  const abs = join(PROJECT_ROOT, path);
  let st;
  try {
    st = statSync(abs);
  } catch {
    return [];
  }
  if (st.isFile()) return [path];
  return readdirSync(abs)
    .filter((name) => !SKIPPED_DIRS.has(name))
    .flatMap((name) => listFiles(join(path, name)));
}

const FILES = SCANNED.flatMap(listFiles)
  .filter((f) => TEXT_EXT.has(extname(f)) && f !== SELF)
  .sort();
const text = new Map(FILES.map((f) => [f, readFileSync(join(PROJECT_ROOT, f), 'utf8')]));

function lineOf(src: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) line++;
  return line;
}

/** Section numbers that headings of a Markdown document open. */
function sectionsOf(doc: string): Set<string> {
  const out = new Set<string>();
  for (const m of (text.get(doc) ?? '').matchAll(/^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s/gm)) out.add(m[1]);
  return out;
}

type Doc = 'method' | 'architecture';
interface Citation {
  file: string;
  line: number;
  doc: Doc;
  section: string;
}

const CITE = /§\s?(\d+(?:\.\d+)*)/g;
/** What may stand between two citations of one list: a comma, a dash, "and", "or", a slash. */
const SEPARATOR = /^[\s,]*(?:and|or|to|–|-|\/|&)?[\s,]*$/;
/** Line breaks inside comments (and their leaders) read as one space. */
const joinLines = (s: string): string => s.replace(/\s*\n\s*(?:\*(?!\/)|\/\/+|#+)?\s*/g, ' ');

/** Every § citation of a file, with the document it cites. */
function citationsOf(file: string): Citation[] {
  const src = text.get(file)!;
  const own: Doc = file === 'docs/architecture.md' ? 'architecture' : 'method';
  const out: Citation[] = [];
  let prevEnd = -1;
  let prevDoc: Doc = own;
  for (const m of src.matchAll(CITE)) {
    const start = m.index!;
    const before = joinLines(src.slice(Math.max(0, start - 60), start));
    const prefix = /(?:^|[^\w/])(?:docs\/)?(architecture|method)(?:\.md)?\s+$/i.exec(before);
    let doc: Doc;
    if (prefix) doc = prefix[1].toLowerCase() as Doc;
    else if (prevEnd >= 0 && SEPARATOR.test(joinLines(src.slice(prevEnd, start)))) doc = prevDoc;
    else doc = own;
    out.push({ file, line: lineOf(src, start), doc, section: m[1] });
    prevEnd = start + m[0].length;
    prevDoc = doc;
  }
  return out;
}

/** The comment text of a source line, or the whole line for prose files. */
function commentLines(file: string): { line: number; text: string }[] {
  const src = text.get(file)!;
  const ext = extname(file);
  const lines = src.split('\n');
  if (!CODE_EXT.has(ext) && !HASH_EXT.has(ext))
    return lines.map((t, i) => ({ line: i + 1, text: t }));
  const out: { line: number; text: string }[] = [];
  let inBlock = false;
  lines.forEach((t, i) => {
    if (HASH_EXT.has(ext)) {
      // Python docstrings are prose too: whole lines of .py files are checked.
      const k = ext === '.py' ? 0 : t.indexOf('#');
      if (k >= 0) out.push({ line: i + 1, text: t.slice(k) });
      return;
    }
    let rest = t;
    let comment = '';
    for (;;) {
      if (inBlock) {
        const end = rest.indexOf('*/');
        if (end < 0) {
          comment += rest;
          break;
        }
        comment += rest.slice(0, end);
        rest = rest.slice(end + 2);
        inBlock = false;
      }
      const block = rest.indexOf('/*');
      const lineC = rest.indexOf('//');
      if (lineC >= 0 && (block < 0 || lineC < block)) {
        comment += rest.slice(lineC);
        break;
      }
      if (block < 0) break;
      rest = rest.slice(block + 2);
      inBlock = true;
    }
    if (comment) out.push({ line: i + 1, text: comment });
  });
  return out;
}

function report(problems: string[]): string {
  return `${problems.length} problem(s):\n  ${problems.join('\n  ')}`;
}

describe('documentation citations', () => {
  const sections: Record<Doc, Set<string>> = {
    method: sectionsOf('docs/method.md'),
    architecture: sectionsOf('docs/architecture.md'),
  };

  it('docs/method.md and docs/architecture.md have numbered sections', () => {
    // The numbering of method.md is the one the code has always cited: §0 … §11.
    for (const s of ['0', '2.4', '4.2', '4.5', '5.5', '7.6', '9.0', '9.9', '10.2', '11.17'])
      expect(sections.method.has(s), `method §${s}`).toBe(true);
    for (const s of ['1', '2.2', '3.4', '4', '6.7', '7.4'])
      expect(sections.architecture.has(s), `architecture §${s}`).toBe(true);
  });

  it('every § cited in the repository exists in the document it cites', () => {
    const problems = FILES.flatMap(citationsOf)
      .filter((c) => !sections[c.doc].has(c.section))
      .map(
        (c) =>
          `${c.file}:${c.line}: ${c.doc === 'method' ? '' : 'architecture '}§${c.section} (no such section in docs/${c.doc}.md)`,
      );
    expect(problems, report(problems)).toEqual([]);
  });

  it('names no document outside the repository', () => {
    const outside =
      /\.\.\/shared|\bshared\/(?:reference|design|golden)|DESIGN\.md|ENVIRONMENT\.md|STYLE-ANCHORS|carp-spec|CARP_GOLDEN_DIR/;
    const problems: string[] = [];
    for (const f of FILES)
      text
        .get(f)!
        .split('\n')
        .forEach((t, i) => {
          const m = outside.exec(t);
          if (m) problems.push(`${f}:${i + 1}: mentions '${m[0]}'`);
        });
    expect(problems, report(problems)).toEqual([]);
  });

  it('cites method sections as §x, not "spec §x"', () => {
    const problems: string[] = [];
    for (const f of FILES)
      text
        .get(f)!
        .split('\n')
        .forEach((t, i) => {
          const m = /\bspec(?:'s)?\s+§/i.exec(t);
          if (m) problems.push(`${f}:${i + 1}: '${m[0]}' (write §x: § cites docs/method.md)`);
        });
    expect(problems, report(problems)).toEqual([]);
  });

  it('no comment speaks of issues or waves', () => {
    const tracking = [
      /\b(?:issue|wave)\s*(?:#?\d+|:)/i,
      /\b(?:this|next|previous|first|second|third|last|earlier|later)\s+wave\b/i,
      /\bthe issue (?:asks|says|wants|requires)\b/i,
    ];
    const problems: string[] = [];
    for (const f of FILES)
      for (const { line, text: t } of commentLines(f))
        for (const re of tracking) {
          const m = re.exec(t);
          if (m) problems.push(`${f}:${line}: '${m[0]}'`);
        }
    expect(problems, report(problems)).toEqual([]);
  });

  it('the scan itself finds the files and citations it is meant to check', () => {
    // Guards against a scan that silently checks nothing (a moved folder, a broken regex).
    expect(FILES).toContain('src/carp/carpLoss.ts');
    expect(FILES).toContain('README.md');
    const cites = FILES.flatMap(citationsOf);
    expect(cites.filter((c) => c.doc === 'method').length).toBeGreaterThan(100);
    expect(cites.filter((c) => c.doc === 'architecture').length).toBeGreaterThan(20);
  });
});
