#!/usr/bin/env node
// Strips notebooks for committing (architecture §3.2: "outputs are stripped before commit"):
// outputs and execution counts removed; cell metadata kept only for `tags`; notebook
// metadata kept only for the kernelspec and the language name (Jupyter rewrites the
// rest on every save, which would only make diffs noisy; nbdev's clean does the same).
// Keys are sorted and indented by 1, as nbformat writes them.
//   node environment/strip-notebooks.mjs [--check] [NOTEBOOK ...]   (default notebooks/*.ipynb)
// --check writes nothing and exits 1 listing the notebooks that need stripping.
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Returns the stripped notebook object (input untouched). */
export function stripNotebook(nb) {
  const out = JSON.parse(JSON.stringify(nb));
  const meta = out.metadata ?? {};
  out.metadata = {};
  if (meta.kernelspec) out.metadata.kernelspec = meta.kernelspec;
  if (meta.language_info?.name) out.metadata.language_info = { name: meta.language_info.name };
  for (const cell of out.cells ?? []) {
    const tags = cell.metadata?.tags;
    cell.metadata = tags && tags.length ? { tags } : {};
    if (cell.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    } else {
      delete cell.outputs;
      delete cell.execution_count;
    }
  }
  return out;
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  }
  return v;
}

/** The file text of a stripped notebook. */
export function stripNotebookText(text) {
  return JSON.stringify(sortKeys(stripNotebook(JSON.parse(text))), null, 1) + '\n';
}

function main(argv) {
  const check = argv.includes('--check');
  let files = argv.filter((a) => a !== '--check');
  if (files.length === 0) {
    const dir = join(root, 'notebooks');
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.ipynb'))
      .sort()
      .map((f) => join(dir, f));
  }
  const dirty = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const clean = stripNotebookText(text);
    if (clean === text) continue;
    dirty.push(file);
    if (!check) {
      writeFileSync(`${file}.tmp-${process.pid}`, clean);
      renameSync(`${file}.tmp-${process.pid}`, file);
    }
  }
  if (check && dirty.length) {
    console.error(`not stripped (run: node environment/strip-notebooks.mjs): ${dirty.join(', ')}`);
    return 1;
  }
  for (const f of dirty) console.log(`stripped ${f}`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));
