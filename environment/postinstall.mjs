// npm postinstall for carp-kit (runs on `npm ci` / `npm install`, offline):
//  1. links node_modules/carp-kit -> the project root, so notebooks in notebooks/ (tslab:
//     CommonJS, Node10 resolution, kernel cwd = notebooks/) resolve `carp-kit` by name;
//  2. builds faiss-node against Debian's libfaiss (its own install script downloads from
//     GitHub and is disabled in package.json's allowScripts).
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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

const { buildFaiss } = await import('./faiss/build.mjs');
await buildFaiss(root);

// 3. The native kernels (OpenBLAS) for the wasm backend; optional, warns when it cannot.
const { buildNative } = await import('../native/build.mjs');
buildNative(root);
