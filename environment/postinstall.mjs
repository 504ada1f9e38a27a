// npm postinstall of carp-kit. Runs offline, in two situations:
//  - in this repository (`npm ci`): links node_modules/carp-kit -> the project root, so
//    the notebooks in notebooks/ (tslab: CommonJS, Node10 resolution, kernel cwd =
//    notebooks/) resolve `carp-kit` by name; then builds the native parts;
//  - where carp-kit is installed as a dependency (its root is inside a node_modules
//    folder): only builds the native parts, into the installed package's build/ folder.
// Native parts, both optional at run time:
//  1. the faiss binding (native/faiss) against the system libfaiss; without it k-NN and
//     k-means run on the kit's exact fallback;
//  2. the native kernels (native/) against oneDNN (libdnnl-dev); without them the wasm
//     backend runs its pure-wasm kernels.
// Each prints one warning line when it cannot be built, and installation goes on.
// CARP_FAISS=1 and CARP_REQUIRE_NATIVE=1 (set-up, CI) make that line an error instead.
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Installed as a dependency: some folder above the package root is a node_modules (npm,
// pnpm's .pnpm store and yarn all place packages there).
const asDependency = root.split(sep).includes('node_modules');

if (!asDependency) {
  const link = join(root, 'node_modules', 'carp-kit');
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  let linked = false;
  try {
    linked = lstatSync(link).isSymbolicLink();
  } catch {
    linked = false;
  }
  if (!linked) {
    if (existsSync(link)) rmSync(link, { recursive: true, force: true });
    symlinkSync('..', link, 'dir');
  }
}

const { buildFaiss } = await import('../native/faiss/build.mjs');
try {
  buildFaiss(root, { required: process.env.CARP_FAISS === '1' });
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}

const { buildNative } = await import('../native/build.mjs');
try {
  buildNative(root, { required: process.env.CARP_REQUIRE_NATIVE === '1' });
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
