/**
 * The install step's faiss build where it cannot compile: one warning line naming what is
 * missing and the fallback, and no binary; an error instead when faiss is required.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
// @ts-expect-error: a plain ESM build script without type declarations
import { buildFaiss } from '../../native/faiss/build.mjs';

const build = buildFaiss as (root: string, o?: { required?: boolean }) => string | null;

describe('native/faiss/build.mjs', () => {
  it('a package root without node-addon-api: one warning line, no binary, install goes on', () => {
    // A bare temporary root: node-addon-api cannot be resolved from it.
    const root = mkdtempSync(join(tmpdir(), 'carp-install-'));
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    let result: string | null;
    try {
      result = build(root);
    } finally {
      spy.mockRestore();
    }
    expect(result).toBeNull();
    expect(out).toBe(
      '[faiss] warning: faiss binding not built: missing the node-addon-api package (npm install); ' +
        "run: apt-get install g++ libfaiss-dev libopenblas-dev liblapack-dev; k-NN and k-means will use the kit's exact fallback\n",
    );
    expect(existsSync(join(root, 'build', 'faiss'))).toBe(false);
  });

  it('required (CARP_FAISS=1 at set-up): the same is an error', () => {
    const root = mkdtempSync(join(tmpdir(), 'carp-install-'));
    expect(() => build(root, { required: true })).toThrow(
      '[faiss] error: faiss binding not built: missing the node-addon-api package (npm install)',
    );
  });
});
