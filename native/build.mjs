// Compiles the kit's native kernels (carp_native.cc) against Debian's OpenBLAS into
// build/native/carp_native.node. Called from environment/postinstall.mjs (npm ci).
//
// Why a plain g++ call and not node-gyp: one source file, Node's C API only (node_api.h),
// one library; a direct compile takes ≈ 2 s and has no Python dependency.
//
// The addon is optional (src/backend/native/addon.ts): without it the wasm backend runs
// our pure-wasm kernels. So a missing package or a failed compile prints one warning line
// naming what to install, and set-up goes on. A stamp (hash of the source, the flags and
// libopenblas's size/mtime) skips the build when nothing changed; the binary is written
// to a temporary name and renamed, so a half-written addon is never loaded.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';

const APT_HINT = 'apt-get install g++ libopenblas-dev';
const say = (msg) => process.stdout.write(`[native] ${msg}\n`);
const warn = (msg) =>
  process.stdout.write(`[native] warning: ${msg}; the wasm backend runs without them\n`);

function findFirst(paths) {
  return paths.find((p) => existsSync(p)) ?? null;
}

/** Node's C API headers: Debian's nodejs, or the headers next to the running node. */
export function nodeInclude() {
  const dirs = ['/usr/include/node', join(dirname(process.execPath), '..', 'include', 'node')];
  return dirs.find((d) => existsSync(join(d, 'node_api.h'))) ?? null;
}

export const CXXFLAGS = [
  '-O3',
  '-std=c++17',
  '-shared',
  '-fPIC',
  '-pthread',
  '-Wall',
  '-Wextra',
  '-DNODE_GYP_MODULE_NAME=carp_native',
];

/** Builds when the stamp changed; returns the addon path, or null (with a warning). */
export function buildNative(root) {
  const source = join(root, 'native', 'carp_native.cc');
  const target = join(root, 'build', 'native', 'carp_native.node');
  const stampFile = `${target}.stamp`;
  const libblas = findFirst(
    [
      '/usr/lib/x86_64-linux-gnu',
      '/usr/lib/aarch64-linux-gnu',
      '/usr/lib64',
      '/usr/lib',
      '/usr/local/lib',
    ].map((d) => join(d, 'libopenblas.so')),
  );
  const include = nodeInclude();
  const missing = [];
  const cblas = findFirst(
    ['x86_64-linux-gnu/', 'aarch64-linux-gnu/', '', 'openblas/'].map(
      (d) => `/usr/include/${d}cblas.h`,
    ),
  );
  if (!libblas || !cblas) missing.push('OpenBLAS (libopenblas.so and cblas.h)');
  if (!include) missing.push("Node's C headers (node_api.h)");
  if (spawnSync('g++', ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('g++');
  if (missing.length) {
    warn(`native kernels not built: missing ${missing.join(', ')}; run: ${APT_HINT}`);
    return null;
  }

  // The addon is one translation unit: carp_native.cc includes the kernel headers.
  const files = ['carp_native.cc', 'threads.h', 'conv.h', 'batchNorm.h'];
  const src = Buffer.concat(files.map((f) => readFileSync(join(root, 'native', f))));
  const flags = [...CXXFLAGS, `-I${include}`];
  const lib = statSync(libblas);
  const stamp = createHash('sha256')
    .update(src)
    .update(flags.join(' '))
    .update(`${libblas}:${lib.size}:${lib.mtimeMs}:${process.version}`)
    .digest('hex');
  if (existsSync(target) && existsSync(stampFile)) {
    if (readFileSync(stampFile, 'utf8').trim() === stamp) {
      say('native kernels up to date');
      return target;
    }
  }
  say('building the native kernels against OpenBLAS (about 3 s)');
  mkdirSync(dirname(target), { recursive: true });
  // .node suffix: require() picks the native loader by extension.
  const tmp = join(dirname(target), `carp_native.tmp-${process.pid}.node`);
  const log = join(dirname(target), 'build.log');
  const r = spawnSync('g++', [...flags, source, '-o', tmp, '-lopenblas'], { encoding: 'utf8' });
  writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`);
  if (r.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    warn(`native kernels failed to compile (log: ${relative(root, log)}); run: ${APT_HINT}`);
    return null;
  }
  // Load check in a child process: a broken link must not surface later, inside a test.
  const check = spawnSync(
    process.execPath,
    [
      '-e',
      `const m=require(${JSON.stringify(tmp)});if(!m.conv2d||!m.blasInfo().core)process.exit(3)`,
    ],
    { encoding: 'utf8' },
  );
  if (check.status !== 0) {
    writeFileSync(log, `\n[load check]\n${check.stderr}`, { flag: 'a' });
    rmSync(tmp, { force: true });
    warn(`the built native kernels do not load (log: ${relative(root, log)})`);
    return null;
  }
  renameSync(tmp, target);
  writeFileSync(stampFile, `${stamp}\n`);
  say(`native kernels built: ${relative(root, target)}`);
  return target;
}
