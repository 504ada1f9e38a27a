// Compiles the kit's faiss binding (faiss_node.cc + flatIndex.h, derived from faiss-node
// 0.5.1) against the system libfaiss into build/faiss/faiss_node.node. Called from
// environment/postinstall.mjs, in this repository and where carp-kit is installed as a
// dependency.
//
// Why our own build: faiss-node's install script downloads a prebuilt binary from GitHub
// and falls back to cloning faiss from GitHub, so `npm install` fails offline or behind a
// registry-only proxy. Compiling this small file against Debian's libfaiss-dev takes ≈ 5 s.
//
// Why a plain g++ call and not node-gyp: one source file and three libraries; a direct
// compile needs no Python.
//
// Optional: without it k-NN and k-means run on the kit's exact fallback (src/search), so a
// missing package or a failed compile prints one warning line naming what to install and
// installation goes on — unless `required` (set-up and CI, CARP_FAISS=1), where it
// is an error. A stamp (hash of the sources, flags and libfaiss's size/mtime) skips the
// build when nothing changed; the binary is written under a temporary name and renamed, so
// a half-written binding is never loaded.
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
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { nodeInclude } from '../build.mjs';

const APT_HINT = 'apt-get install g++ libfaiss-dev libopenblas-dev liblapack-dev';
const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/lib',
];
const SOURCES = ['faiss_node.cc', 'flatIndex.h'];
const say = (msg) => process.stdout.write(`[faiss] ${msg}\n`);

export const FAISS_CXXFLAGS = [
  '-O2',
  '-std=c++17',
  '-shared',
  '-fPIC',
  '-fopenmp',
  '-fexceptions',
  '-DNAPI_VERSION=6',
  '-DNAPI_CPP_EXCEPTIONS',
  '-DNODE_GYP_MODULE_NAME=faiss_node',
];
// Static libfaiss first, then the BLAS/LAPACK it needs (OpenBLAS, as Python's faiss).
const LIBS = ['-lfaiss', '-lopenblas', '-llapack', '-fopenmp'];

function findLib(names) {
  for (const dir of LIB_DIRS)
    for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  return null;
}

/** What is missing to compile, as words for the warning line (empty: nothing). */
function missingParts(addonInclude) {
  const missing = [];
  if (
    !existsSync('/usr/include/faiss/IndexFlat.h') ||
    !existsSync('/usr/include/faiss/Clustering.h')
  )
    missing.push('faiss headers');
  if (!findLib(['libfaiss.a', 'libfaiss.so'])) missing.push('libfaiss');
  if (!findLib(['libopenblas.so', 'libopenblas.a'])) missing.push('libopenblas');
  if (!findLib(['liblapack.so', 'liblapack.a'])) missing.push('liblapack');
  if (!nodeInclude()) missing.push("Node's C headers (node_api.h)");
  if (!addonInclude) missing.push('the node-addon-api package (npm install)');
  if (spawnSync('g++', ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('g++');
  return missing;
}

/**
 * Builds when the stamp changed; returns the binding's path, or null after one warning
 * line (or, with `required`, throws).
 */
export function buildFaiss(root, { required = false } = {}) {
  const problem = (msg) => {
    if (required) throw new Error(`[faiss] error: ${msg}`);
    process.stdout.write(
      `[faiss] warning: ${msg}; k-NN and k-means will use the kit's exact fallback\n`,
    );
    return null;
  };
  const target = join(root, 'build', 'faiss', 'faiss_node.node');
  const stampFile = `${target}.stamp`;
  let addonInclude = null;
  try {
    const req = createRequire(join(root, 'package.json'));
    addonInclude = dirname(req.resolve('node-addon-api/package.json'));
  } catch {
    addonInclude = null;
  }
  const missing = missingParts(addonInclude);
  if (missing.length)
    return problem(`faiss binding not built: missing ${missing.join(', ')}; run: ${APT_HINT}`);

  const srcDir = join(root, 'native', 'faiss');
  const libfaiss = findLib(['libfaiss.a', 'libfaiss.so']);
  const flags = [...FAISS_CXXFLAGS, `-I${nodeInclude()}`, `-I${addonInclude}`];
  const lib = statSync(libfaiss);
  const stamp = createHash('sha256')
    .update(Buffer.concat(SOURCES.map((f) => readFileSync(join(srcDir, f)))))
    .update(flags.join(' '))
    .update(LIBS.join(' '))
    .update(`${libfaiss}:${lib.size}:${lib.mtimeMs}:${process.version}`)
    .digest('hex');
  if (existsSync(target) && existsSync(stampFile)) {
    if (readFileSync(stampFile, 'utf8').trim() === stamp) {
      say('faiss binding up to date');
      return target;
    }
  }
  say('building the faiss binding against the system libfaiss (about 5 s)');
  mkdirSync(dirname(target), { recursive: true });
  // .node suffix: require() picks the native loader by extension.
  const tmp = join(dirname(target), `faiss_node.tmp-${process.pid}.node`);
  const log = join(dirname(target), 'build.log');
  const r = spawnSync('g++', [...flags, join(srcDir, 'faiss_node.cc'), '-o', tmp, ...LIBS], {
    encoding: 'utf8',
  });
  writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`);
  if (r.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    return problem(
      `the faiss binding failed to compile (log: ${relative(root, log)}); run: ${APT_HINT}`,
    );
  }
  // Load check in a child process: a broken link must not surface later, inside a test.
  const check = spawnSync(
    process.execPath,
    [
      '-e',
      `const b=require(${JSON.stringify(tmp)});if(b.carpBinding!==2||!b.kmeans)process.exit(3)`,
    ],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } },
  );
  if (check.status !== 0) {
    writeFileSync(log, `\n[load check]\n${check.stderr}`, { flag: 'a' });
    rmSync(tmp, { force: true });
    return problem(`the built faiss binding does not load (log: ${relative(root, log)})`);
  }
  renameSync(tmp, target);
  writeFileSync(stampFile, `${stamp}\n`);
  say(`faiss binding built: ${relative(root, target)}`);
  return target;
}
