// Builds faiss-node 0.5.1 against Debian's libfaiss (1.7.3) without network access.
//
// Why (architecture §7.1): faiss-node's own install script downloads a prebuilt from
// GitHub and then clones faiss; it is disabled through package.json's allowScripts and
// this step, called from environment/postinstall.mjs, compiles the binding instead.
//
// The stock binding takes plain JS arrays only and converts element by element (adding
// 50k×512 floats took 7–13 s instead of 0.36 s from Python). We compile a patched copy
// of its src/faiss.cc (see patchSource below) that
//   - accepts Float32Array in add/train/search (the typed array's memory is handed to
//     faiss directly: no per-element conversion), the old Array path still works;
//   - returns typed arrays from a typed search: Float32Array distances and Int32Array
//     labels (faiss's int64 ids narrowed; the bank must hold < 2^31 vectors, which the
//     binding checks), optionally written into caller-provided output views;
//   - adds `kmeans` (faiss::Clustering, the engine behind Python's faiss.Kmeans),
//     `setNumThreads`/`getNumThreads` (OpenMP), `release` (frees an index's storage) and
//     `reserve` (pre-sizes a flat index's storage).
//
// Every step is idempotent: a stamp (hash of the patched source, binding.gyp, flags and
// the libfaiss archive's size/mtime) next to the binary skips the build when unchanged.
// A missing system package or a failed compile ends the process with one line naming
// what to install (the compiler log is kept in the build directory).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const APT_HINT = 'apt-get install libfaiss-dev libopenblas-dev liblapack-dev';
const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib',
  '/usr/local/lib',
];
const say = (msg) => process.stdout.write(`[faiss] ${msg}\n`);

/** Prints one line naming what to install and stops set-up (exit status 1). */
function fail(msg) {
  process.stderr.write(`[faiss] error: ${msg}\n`);
  process.exit(1);
}

function findLib(names) {
  for (const dir of LIB_DIRS)
    for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  return null;
}

/** Checks the Debian headers/libraries and the toolchain; returns the libfaiss path. */
function checkSystem() {
  const missing = [];
  if (
    !existsSync('/usr/include/faiss/IndexFlat.h') ||
    !existsSync('/usr/include/faiss/Clustering.h')
  ) {
    missing.push('faiss headers');
  }
  const libfaiss = findLib(['libfaiss.a', 'libfaiss.so']);
  if (!libfaiss) missing.push('libfaiss');
  if (!findLib(['libopenblas.so', 'libopenblas.a'])) missing.push('libopenblas');
  if (!findLib(['liblapack.so', 'liblapack.a'])) missing.push('liblapack');
  if (missing.length) fail(`missing ${missing.join(', ')}; run: ${APT_HINT}`);
  for (const tool of ['g++', 'make']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) {
      fail(`missing ${tool}; run: apt-get install g++ make`);
    }
  }
  if (!existsSync('/usr/include/node/node_api.h')) {
    fail('missing Node headers in /usr/include/node; run: apt-get install nodejs libnode-dev');
  }
  return libfaiss;
}

/** Replaces `anchor` (asserted present exactly once) by `replacement`. */
function replaceOnce(src, anchor, replacement, what) {
  const at = src.indexOf(anchor);
  if (at < 0 || src.indexOf(anchor, at + anchor.length) >= 0) {
    fail(
      `cannot patch faiss-node/src/faiss.cc (${what}: anchor ${at < 0 ? 'not found' : 'not unique'}); is faiss-node 0.5.1 installed?`,
    );
  }
  return src.slice(0, at) + replacement + src.slice(at + anchor.length);
}

/** Dispatch to the typed-array path at the top of add/train/search. */
const dispatch = (method) =>
  `  Napi::Value ${method}(const Napi::CallbackInfo &info)\n  {\n    Napi::Env env = info.Env();\n` +
  `    // carp-kit: Float32Array input takes the no-copy path.\n` +
  `    if (info.Length() >= 1 && info[0].IsTypedArray()) return ${method}Typed(info);\n`;

// Typed-array methods added to IndexBase (before its `protected:` section).
const TYPED_METHODS = readFileSync(new URL('./typed_methods.inc', import.meta.url), 'utf8');
// Free functions: k-means and OpenMP threads (before the module's Init).
const FREE_FUNCTIONS = readFileSync(new URL('./free_functions.inc', import.meta.url), 'utf8');

/** Produces the patched faiss.cc from the stock one; each anchor is asserted. */
export function patchSource(src) {
  let out = src;
  out = replaceOnce(
    out,
    '#include <napi.h>\n',
    '#include <napi.h>\n#include <omp.h>\n#include <cstring>\n#include <vector>\n#include <faiss/Clustering.h>\n',
    'includes',
  );
  for (const m of ['add', 'train', 'search']) {
    out = replaceOnce(
      out,
      `  Napi::Value ${m}(const Napi::CallbackInfo &info)\n  {\n    Napi::Env env = info.Env();\n`,
      dispatch(m),
      `${m} dispatch`,
    );
  }
  out = replaceOnce(
    out,
    'protected:\n  std::unique_ptr<faiss::Index> index_;',
    `${TYPED_METHODS}\nprotected:\n  std::unique_ptr<faiss::Index> index_;`,
    'typed methods',
  );
  for (const cls of ['Index', 'IndexFlatL2', 'IndexFlatIP']) {
    out = replaceOnce(
      out,
      `      InstanceMethod("toBuffer", &${cls}::toBuffer),\n`,
      `      InstanceMethod("toBuffer", &${cls}::toBuffer),\n` +
        `      InstanceMethod("release", &${cls}::release),\n` +
        `      InstanceMethod("reserve", &${cls}::reserve),\n`,
      `${cls} release`,
    );
  }
  out = replaceOnce(
    out,
    'Napi::Object Init(Napi::Env env, Napi::Object exports)\n{\n',
    `${FREE_FUNCTIONS}\nNapi::Object Init(Napi::Env env, Napi::Object exports)\n{\n`,
    'free functions',
  );
  out = replaceOnce(
    out,
    '  IndexFlatIP::Init(env, exports);\n',
    '  IndexFlatIP::Init(env, exports);\n' +
      '  exports.Set("kmeans", Napi::Function::New(env, Kmeans));\n' +
      '  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));\n' +
      '  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));\n' +
      '  exports.Set("carpPatched", Napi::Number::New(env, 1));\n',
    'exports',
  );
  return out;
}

// faiss 1.7.3 names the id type faiss::Index::idx_t; faiss-node expects faiss::idx_t.
const IDX_HEADER =
  '#pragma once\n#include <faiss/Index.h>\nnamespace faiss { using idx_t = Index::idx_t; }\n';

function bindingGyp(addonInclude, header) {
  return JSON.stringify(
    {
      targets: [
        {
          target_name: 'faiss-node',
          sources: ['faiss.cc'],
          include_dirs: [addonInclude],
          defines: ['NAPI_VERSION=6', 'NAPI_CPP_EXCEPTIONS'],
          'cflags!': ['-fno-exceptions'],
          'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17'],
          cflags_cc: [
            '-std=c++17',
            '-fexceptions',
            '-frtti',
            '-fopenmp',
            '-O2',
            '-include',
            header,
          ],
          ldflags: ['-fopenmp'],
          // Static libfaiss first, then the BLAS/LAPACK it needs (OpenBLAS, as Python's faiss).
          libraries: ['-lfaiss', '-lopenblas', '-llapack', '-fopenmp'],
        },
      ],
    },
    null,
    2,
  );
}

/** Finds npm's bundled node-gyp (npm puts it on PATH only inside scripts). */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  fail('node-gyp not found (it comes with npm); run: apt-get install npm');
}

/** Compiles the patched binding when its stamp changed; places it where faiss-node's loader looks. */
export async function buildFaiss(root) {
  const pkgDir = join(root, 'node_modules', 'faiss-node');
  if (!existsSync(join(pkgDir, 'src', 'faiss.cc')))
    fail('node_modules/faiss-node is missing; run: npm ci');
  const libfaiss = checkSystem();

  const buildDir = join(pkgDir, 'build-carp');
  const target = join(pkgDir, 'build', 'Release', 'faiss-node.node');
  const stampFile = join(pkgDir, 'build', 'Release', 'carp-stamp.txt');
  const req = createRequire(join(pkgDir, 'package.json'));
  let addonInclude;
  try {
    addonInclude = dirname(req.resolve('node-addon-api/package.json'));
  } catch {
    fail('node-addon-api (a faiss-node dependency) is missing; run: npm ci');
  }

  const source = patchSource(readFileSync(join(pkgDir, 'src', 'faiss.cc'), 'utf8'));
  const header = join(buildDir, 'faiss_idx_compat.h');
  const gyp = bindingGyp(addonInclude, header);
  const libStat = statSync(libfaiss);
  const stamp = createHash('sha256')
    .update(source)
    .update(gyp)
    .update(IDX_HEADER)
    .update(`${libfaiss}:${libStat.size}:${libStat.mtimeMs}`)
    .digest('hex');
  if (
    existsSync(target) &&
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8').trim() === stamp
  ) {
    say('faiss-node binding up to date');
    return;
  }

  say('building faiss-node against the system libfaiss (about 10 s)');
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'faiss.cc'), source);
  writeFileSync(header, IDX_HEADER);
  writeFileSync(join(buildDir, 'binding.gyp'), gyp);
  writeFileSync(
    join(buildDir, 'package.json'),
    '{"name":"faiss-node-carp-build","private":true}\n',
  );

  const nodeGyp = findNodeGyp();
  const args = [nodeGyp, 'rebuild', '--nodedir=/usr', '--release', '--jobs=2'];
  if (existsSync('/usr/bin/python3')) args.push('--python=/usr/bin/python3');
  const log = join(buildDir, 'build.log');
  const r = spawnSync(process.execPath, args, {
    cwd: buildDir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_nodedir: '/usr' },
  });
  writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`);
  const built = join(buildDir, 'build', 'Release', 'faiss-node.node');
  if (r.status !== 0 || !existsSync(built)) {
    fail(`faiss-node native build failed (log: ${relative(root, log)}); run: ${APT_HINT} g++ make`);
  }

  // Load check in a child process (a broken link would otherwise surface later, in a test).
  const check = spawnSync(
    process.execPath,
    [
      '-e',
      `const b=require(${JSON.stringify(built)});if(!b.carpPatched||!b.kmeans)process.exit(3)`,
    ],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } },
  );
  if (check.status !== 0) {
    writeFileSync(log, `\n[load check]\n${check.stderr}`, { flag: 'a' });
    fail(
      `the built faiss-node binding does not load (log: ${relative(root, log)}); run: ${APT_HINT}`,
    );
  }

  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(built, target);
  writeFileSync(stampFile, `${stamp}\n`);
  say(`faiss-node built: ${relative(root, target)}`);
}
