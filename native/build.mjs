// Compiles the kit's native kernels (carp_native.cc) against Debian's oneDNN (libdnnl-dev)
// into build/native/carp_native.node. Called from environment/postinstall.mjs
// (npm ci), so the addon is always built on the machine that runs it: hence -march=native
// (AVX-512 for our own loops where the CPU has it), with a portable retry where the
// compiler refuses it.
//
// Why a plain g++ call and not node-gyp: one source file, Node's C API only (node_api.h),
// one library; a direct compile takes ≈ 5 s and has no Python dependency.
//
// The addon is optional (src/backend/native/addon.ts): without it the wasm backend runs
// our pure-wasm kernels. So a missing package or a failed compile prints one warning line
// naming what to install, and installation goes on — unless `required` (set-up,
// CARP_REQUIRE_NATIVE=1), where the same line is an error. A stamp (hash of the sources, the flags and
// libdnnl's size/mtime) skips the build when nothing changed; the binary is written
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

const APT_HINT = 'apt-get install g++ libdnnl-dev';
const say = (msg) => process.stdout.write(`[native] ${msg}\n`);

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
  '-fopenmp',
  '-Wall',
  '-Wextra',
  // The 16-float vector type of native/vecmath.h draws a note about the AVX-512 calling
  // convention on CPUs without it; every such function is inline, so no ABI is involved.
  '-Wno-psabi',
  '-DNODE_GYP_MODULE_NAME=carp_native',
];
/** Tried first; dropped when the compiler rejects it (an unknown CPU, a cross compiler). */
export const NATIVE_ARCH = '-march=native';
/**
 * The addon is one translation unit: carp_native.cc includes the kernel headers. The build
 * stamp hashes all of them, so a changed header rebuilds (a test checks that every
 * native/*.h is listed).
 */
export const NATIVE_SOURCES = [
  'carp_native.cc',
  'threads.h',
  'gemm.h',
  'conv.h',
  'onednn.h',
  'batchNorm.h',
  'carpLoss.h',
  'gelu.h',
  'optimizerStep.h',
  'vecmath.h',
];
export const LIBS = ['-ldnnl'];

export const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/lib',
];

export const INCLUDE_DIRS = ['/usr/include', '/usr/local/include'];

/**
 * Builds when the stamp changed; returns the addon path, or null after one warning line
 * (with `required`, set-up's CARP_REQUIRE_NATIVE=1, it throws that line as an error).
 * `libDirs` and `includeDirs`: where libdnnl.so and dnnl.hpp are looked for.
 */
export function buildNative(
  root,
  { required = false, libDirs = LIB_DIRS, includeDirs = INCLUDE_DIRS } = {},
) {
  const fail = (msg) => {
    if (required) throw new Error(`[native] error: ${msg}`);
    process.stdout.write(`[native] warning: ${msg}; the wasm backend runs without them\n`);
    return null;
  };
  const source = join(root, 'native', 'carp_native.cc');
  const target = join(root, 'build', 'native', 'carp_native.node');
  const stampFile = `${target}.stamp`;
  const libdnnl = findFirst(libDirs.map((d) => join(d, 'libdnnl.so')));
  const dnnlHeader = findFirst(includeDirs.map((d) => join(d, 'dnnl.hpp')));
  const include = nodeInclude();
  // What is missing, and the Debian package that brings it (one line names them all).
  const missing = [];
  const packages = [];
  if (!libdnnl || !dnnlHeader) {
    missing.push('oneDNN (libdnnl.so, dnnl.hpp)');
    packages.push('libdnnl-dev');
  }
  if (spawnSync('g++', ['--version'], { stdio: 'ignore' }).status !== 0) {
    missing.push('g++');
    packages.unshift('g++');
  }
  if (!include) missing.push("Node's C headers (node_api.h, shipped with Node)");
  if (missing.length) {
    const fix = packages.length ? `; run: apt-get install ${packages.join(' ')}` : '';
    return fail(`native kernels not built: missing ${missing.join(', ')}${fix}`);
  }

  const src = Buffer.concat(NATIVE_SOURCES.map((f) => readFileSync(join(root, 'native', f))));
  const flags = [...CXXFLAGS, `-I${include}`];
  const hash = createHash('sha256')
    .update(src)
    .update(`${flags.join(' ')} ${NATIVE_ARCH}`);
  const lib = statSync(libdnnl);
  hash.update(`${libdnnl}:${lib.size}:${lib.mtimeMs}`);
  const stamp = hash.update(process.version).digest('hex');
  if (existsSync(target) && existsSync(stampFile)) {
    if (readFileSync(stampFile, 'utf8').trim() === stamp) {
      say('native kernels up to date');
      return target;
    }
  }
  say('building the native kernels against oneDNN (about 5 s)');
  mkdirSync(dirname(target), { recursive: true });
  // .node suffix: require() picks the native loader by extension.
  const tmp = join(dirname(target), `carp_native.tmp-${process.pid}.node`);
  const log = join(dirname(target), 'build.log');
  const compile = (extra) =>
    spawnSync('g++', [...flags, ...extra, source, '-o', tmp, ...LIBS], { encoding: 'utf8' });
  let r = compile([NATIVE_ARCH]);
  let logText = `${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`;
  if (r.status !== 0 && /march/.test(r.stderr ?? '')) {
    r = compile([]);
    logText += `\n[retry without ${NATIVE_ARCH}]\n${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  }
  writeFileSync(log, logText);
  if (r.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    return fail(`native kernels failed to compile (log: ${relative(root, log)}); run: ${APT_HINT}`);
  }
  // Load check in a child process: a broken link must not surface later, inside a test.
  const check = spawnSync(
    process.execPath,
    [
      '-e',
      `const m=require(${JSON.stringify(tmp)});if(!m.conv2d||!m.engineInfo().library)process.exit(3)`,
    ],
    { encoding: 'utf8' },
  );
  if (check.status !== 0) {
    writeFileSync(log, `\n[load check]\n${check.stderr}`, { flag: 'a' });
    rmSync(tmp, { force: true });
    return fail(`the built native kernels do not load (log: ${relative(root, log)})`);
  }
  renameSync(tmp, target);
  writeFileSync(stampFile, `${stamp}\n`);
  say(`native kernels built: ${relative(root, target)}`);
  return target;
}
