/**
 * The install step's native builds where they cannot compile (faiss binding, native
 * kernels): one warning line naming what is missing, the package and the fallback, and no
 * binary; an error instead when the part is required (set-up).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
// @ts-expect-error: a plain ESM build script without type declarations
import { buildFaiss } from '../../native/faiss/build.mjs';
// @ts-expect-error: a plain ESM build script without type declarations
import { buildNative, NATIVE_SOURCES } from '../../native/build.mjs';

const build = buildFaiss as (root: string, o?: { required?: boolean }) => string | null;
const buildKernels = buildNative as (
  root: string,
  o?: { required?: boolean; libDirs?: string[]; includeDirs?: string[] },
) => string | null;

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

describe('native/build.mjs', () => {
  it('stamps every source of the addon: a changed header rebuilds it', () => {
    const headers = readdirSync(join(__dirname, '..', '..', 'native')).filter((f) =>
      f.endsWith('.h'),
    );
    expect([...headers, 'carp_native.cc'].sort()).toEqual([...(NATIVE_SOURCES as string[])].sort());
  });

  // oneDNN looked for where it is not: an empty folder for both the library and the header.
  const nowhere = () => {
    const root = mkdtempSync(join(tmpdir(), 'carp-install-'));
    return { root, o: { libDirs: [root], includeDirs: [root] } };
  };

  it('without oneDNN: one warning line naming libdnnl-dev, no addon, install goes on', () => {
    const { root, o } = nowhere();
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    let result: string | null;
    try {
      result = buildKernels(root, o);
    } finally {
      spy.mockRestore();
    }
    expect(result).toBeNull();
    expect(out).toBe(
      '[native] warning: native kernels not built: missing oneDNN (libdnnl.so, dnnl.hpp); ' +
        'run: apt-get install libdnnl-dev; the wasm backend runs without them\n',
    );
    expect(existsSync(join(root, 'build', 'native'))).toBe(false);
  });

  it('required (CARP_REQUIRE_NATIVE=1 at set-up): the same is an error', () => {
    const { root, o } = nowhere();
    expect(() => buildKernels(root, { ...o, required: true })).toThrow(
      /^\[native\] error: native kernels not built: missing oneDNN \(libdnnl\.so, dnnl\.hpp\); run: apt-get install libdnnl-dev$/,
    );
  });
});
