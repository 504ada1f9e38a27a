/**
 * carp-kit device check (environment/gpu-check.sh runs the bundled form of this file).
 *
 * 1. Starts the CPU reference backend (wasm + the kit's gradient kernels, else cpu) and
 *    the webgpu backend (Dawn; hardware adapter only unless CARP_BACKEND=webgpu), and
 *    prints the adapter.
 * 2. Correctness: one CARP step (loss + all gradients) on webgpu vs the CPU backend, same
 *    weights, data and partition (compare.ts).
 * 3. Speed on webgpu: CARP train-step images/s for the `cifar10-r18` network at batch 64,
 *    32 px (workload.ts), teacher feature-extraction images/s, k-NN search queries/s.
 * 3d. A per-kernel profile of one train step (profile.ts), then train images/s at the
 *    larger batches of GPU_CHECK_SWEEP (default "128,256"), each only while time is left.
 * 4. Writes a JSON summary to $OUT/gpu-check.json (or GPU_CHECK_JSON) and exits 0 when the
 *    comparison passed, 1 when it failed, 2 when webgpu could not start, 3 on the deadline.
 *
 * Every phase has a time budget so the whole check ends inside GPU_CHECK_DEADLINE_S
 * (default 270 s, inside a 5-minute limit on the machine that runs it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tf } from '../../../src/backend/tf';
// tfjs-core's CommonJS bundle registers no gradients; the registry is global (see tests).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerWasmKernels } from '../../../src/backend/wasmKernels';
import { currentWebgpu, shutdownWebgpu, tryWebgpu } from '../../../src/backend/webgpu';
import { listDawnAdapters } from '../../../src/backend/webgpu/dawn';
import { createRng } from '../../../src/random';
import { compareSteps, stepOn } from './compare';
import { knnSearch, randomUnitRows } from './knnSearch';
import { profileStep, type KernelTotal } from './profile';
import {
  CHECK_NETWORK,
  createWorkload,
  seededImages,
  seededViews,
  type WorkloadSize,
} from './workload';

const env = process.env;
const num = (name: string, dflt: number) => (env[name] ? Number(env[name]) : dflt);
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const say = (line: string) =>
  process.stdout.write(`[gpu-check ${elapsed().toFixed(1)}s] ${line}\n`);

const report: Record<string, unknown> = {
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  startedAt: new Date().toISOString(),
};

function writeReport(status: string): void {
  report.status = status;
  report.seconds = Number(elapsed().toFixed(1));
  const path = env.GPU_CHECK_JSON ?? (env.OUT ? join(env.OUT, 'gpu-check.json') : undefined);
  if (!path) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
  say(`wrote ${path}`);
}

function finish(code: number, status: string): never {
  writeReport(status);
  process.exit(code); // Dawn holds native handles: end explicitly (src/backend/webgpu.ts)
}

/** Sizes: the `cifar10-r18` network, overridable for small local runs. */
function sizeFromEnv(): WorkloadSize {
  return {
    ...CHECK_NETWORK,
    batch: num('GPU_CHECK_BATCH', CHECK_NETWORK.batch),
    localViews: num('GPU_CHECK_LOCAL_VIEWS', CHECK_NETWORK.localViews),
    width: num('GPU_CHECK_WIDTH', CHECK_NETWORK.width),
    numPrototypes: num('GPU_CHECK_PROTOTYPES', CHECK_NETWORK.numPrototypes),
    partitionSize: num('GPU_CHECK_PARTITION', CHECK_NETWORK.partitionSize),
  };
}

/** Runs `fn` repeatedly after `warmup` calls until `maxRuns` or `budgetS` seconds. */
async function timeRuns(
  fn: () => Promise<void>,
  warmup: number,
  maxRuns: number,
  budgetS: number,
): Promise<{ firstS: number; runs: number; seconds: number }> {
  let firstS = 0;
  for (let i = 0; i < warmup; i++) {
    const s = performance.now();
    await fn();
    if (i === 0) firstS = (performance.now() - s) / 1000;
  }
  const start = performance.now();
  let runs = 0;
  while (runs < maxRuns && (runs === 0 || (performance.now() - start) / 1000 < budgetS)) {
    await fn();
    runs++;
  }
  return { firstS, runs, seconds: (performance.now() - start) / 1000 };
}

async function startBackends(): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  let reference = 'cpu';
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmKernels();
    if (await tf.setBackend('wasm')) reference = 'wasm';
  } catch (e) {
    say(`wasm unavailable (${(e as Error).message}); CPU reference is the cpu backend`);
  }
  report.referenceBackend = reference;
  const allowSoftware = (env.CARP_BACKEND ?? '').trim().toLowerCase() === 'webgpu';
  try {
    await tryWebgpu({ allowSoftware, alwaysProbe: true, log: say });
  } catch (e) {
    report.error = (e as Error).message;
    say(`webgpu failed: ${(e as Error).message}`);
    // Diagnostics for the next try: what Dawn sees on each backend.
    const adapters: Record<string, string> = {};
    for (const b of ['vulkan', 'opengles'] as const) adapters[b] = await listDawnAdapters(b);
    report.dawnAdapters = adapters;
    say(`Dawn adapters: ${JSON.stringify(adapters)}`);
    finish(2, 'no-webgpu');
  }
  report.adapter = currentWebgpu()?.adapter;
  return reference;
}

async function main(): Promise<void> {
  const deadline = num('GPU_CHECK_DEADLINE_S', 250);
  setTimeout(() => {
    say(`deadline of ${deadline}s reached; writing what was measured`);
    finish(3, 'deadline');
  }, deadline * 1000).unref();

  const reference = await startBackends();
  if (env.GPU_CHECK_PROBE_ONLY === '1') finish(0, 'probe-only');
  const size = sizeFromEnv();
  report.workload = size;
  const sweep = sweepFromEnv();
  const seed = num('GPU_CHECK_SEED', 1234);

  // 2. correctness: small batch so the CPU side takes seconds.
  const cmpSize = { ...size, batch: num('GPU_CHECK_COMPARE_BATCH', 2) };
  say(`comparing one CARP step (batch ${cmpSize.batch}) on ${reference} and webgpu …`);
  const ref = await stepOn(reference, cmpSize, seed);
  const gpu = await stepOn('webgpu', cmpSize, seed);
  const cmp = compareSteps(ref, gpu, num('GPU_CHECK_TOLERANCE', 2e-3));
  report.comparison = cmp;
  say(
    `loss ${reference} ${cmp.lossReference.toFixed(6)} webgpu ${cmp.lossWebgpu.toFixed(6)} ` +
      `(rel ${cmp.lossRelError.toExponential(2)}); ${cmp.gradients} gradients, max rel err ` +
      `${cmp.maxGradRelError.toExponential(2)} (${cmp.worstGradient}), median ` +
      `${cmp.medianGradRelError.toExponential(2)} → ${cmp.pass ? 'PASS' : 'FAIL'}`,
  );

  // 3a. train-step throughput on webgpu.
  await tf.setBackend('webgpu');
  const budget = num('GPU_CHECK_PHASE_S', 60);
  const w = createWorkload(size, seed);
  const rng = createRng(seed + 3);
  const views = seededViews(rng, size);
  say(
    `timing CARP train steps: batch ${size.batch}, ${size.globalViews}×${size.imageSize}px` +
      (size.localViews ? ` + ${size.localViews}×${size.localSize}px` : '') +
      ` …`,
  );
  let lastLoss = NaN;
  const train = await timeRuns(
    async () => {
      lastLoss = await w.trainStep(views, 0.1, 0.996);
    },
    num('GPU_CHECK_WARMUP', 2),
    num('GPU_CHECK_STEPS', 20),
    budget,
  );
  tf.dispose(views);
  const trainIps = (size.batch * train.runs) / train.seconds;
  report.train = {
    ...train,
    imagesPerSecond: trainIps,
    stepSeconds: train.seconds / train.runs,
    lastLoss,
  };
  say(
    `train: ${trainIps.toFixed(1)} images/s (${(train.seconds / train.runs).toFixed(3)} s/step, first step ${train.firstS.toFixed(1)} s, loss ${lastLoss.toFixed(4)})`,
  );

  // 3b. feature extraction (teacher backbone, eval mode).
  const fb = num('GPU_CHECK_FEATURE_BATCH', 256);
  const images = seededImages(rng, fb, size.imageSize);
  const feat = await timeRuns(
    async () => void (await w.features(images)),
    1,
    num('GPU_CHECK_FEATURE_RUNS', 20),
    budget / 2,
  );
  images.dispose();
  const featIps = (fb * feat.runs) / feat.seconds;
  report.features = { ...feat, batch: fb, imagesPerSecond: featIps };
  say(`features: ${featIps.toFixed(1)} images/s (batch ${fb})`);

  // 3c. k-NN search: a small case vs the reference, then a CIFAR-sized timing.
  report.knn = await knnPhase(reference, budget / 2);
  say(`knn: ${JSON.stringify(report.knn)}`);

  // 3d. where a train step's time goes, then larger batches: each only with time to spare.
  await tf.setBackend('webgpu');
  const spare = () => deadline - elapsed() - num('GPU_CHECK_RESERVE_S', 20);
  if (env.GPU_CHECK_PROFILE !== '0' && spare() > 0) {
    const pv = seededViews(rng, size);
    report.profile = await profileStep(() => w.trainStep(pv, 0.1, 0.996));
    tf.dispose(pv);
    const p = report.profile as { dispatchesPerStep: number; top: KernelTotal[] };
    say(
      `profile: ${p.dispatchesPerStep} dispatches/step; top ` +
        p.top
          .slice(0, 5)
          .map((k) => `${k.name} ${(100 * k.share).toFixed(1)}%`)
          .join(', '),
    );
  }
  await batchSweep(w, size, rng, sweep, spare);
  w.dispose();

  report.memory = tf.memory();
  await shutdownWebgpu();
  finish(cmp.pass ? 0 : 1, cmp.pass ? 'pass' : 'comparison-failed');
}

/** GPU_CHECK_SWEEP: comma-separated batch sizes ("" for none), checked before any work. */
function sweepFromEnv(): number[] {
  const text = env.GPU_CHECK_SWEEP ?? '128,256';
  const batches = text
    .split(',')
    .filter((b) => b.trim() !== '')
    .map(Number);
  if (!batches.every((b) => Number.isInteger(b) && b > 0)) {
    throw new Error(`GPU_CHECK_SWEEP: expected comma-separated positive integers, got "${text}"`);
  }
  return batches;
}

/**
 * Train images/s at each of `batches` while `spare()` seconds remain, into
 * report.batchSweep as each finishes (so a deadline exit keeps the batches done).
 */
async function batchSweep(
  w: ReturnType<typeof createWorkload>,
  size: WorkloadSize,
  rng: ReturnType<typeof createRng>,
  batches: number[],
  spare: () => number,
): Promise<void> {
  const out: Record<string, unknown>[] = [];
  report.batchSweep = out;
  for (const b of batches) {
    if (spare() <= 0) break;
    const views = seededViews(rng, size, b);
    const r = await timeRuns(
      async () => void (await w.trainStep(views, 0.1, 0.996)),
      1,
      num('GPU_CHECK_SWEEP_STEPS', 4),
      Math.min(num('GPU_CHECK_PHASE_S', 60) / 2, Math.max(spare(), 1)),
    );
    tf.dispose(views);
    const ips = (b * r.runs) / r.seconds;
    out.push({ batch: b, ...r, imagesPerSecond: ips, stepSeconds: r.seconds / r.runs });
    say(`train at batch ${b}: ${ips.toFixed(1)} images/s (first step ${r.firstS.toFixed(1)} s)`);
  }
}

async function knnPhase(reference: string, budgetS: number): Promise<Record<string, unknown>> {
  const run = async (backend: string, bankN: number, q: number, dim: number, k: number) => {
    await tf.setBackend(backend);
    const bank = randomUnitRows(bankN, dim, 7);
    const queries = randomUnitRows(q, dim, 8);
    const s = performance.now();
    const r = await knnSearch(bank, queries, k, 1024);
    const seconds = (performance.now() - s) / 1000;
    tf.dispose([bank, queries]);
    return { ...r, seconds };
  };
  const a = await run(reference, 2048, 64, 128, 20);
  const b = await run('webgpu', 2048, 64, 128, 20);
  let same = 0;
  for (let i = 0; i < a.indices.length; i++) if (a.indices[i] === b.indices[i]) same++;
  const agreement = same / a.indices.length;
  const bankN = num('GPU_CHECK_KNN_BANK', 50000);
  const queries = num('GPU_CHECK_KNN_QUERIES', 10000);
  const t = await run('webgpu', bankN, Math.min(queries, 1024), 512, 200); // first chunk: compile
  const full = t.seconds < budgetS / 4 ? await run('webgpu', bankN, queries, 512, 200) : t;
  const n = full === t ? Math.min(queries, 1024) : queries;
  return {
    indexAgreementVsReference: agreement,
    bank: bankN,
    dim: 512,
    k: 200,
    queries: n,
    seconds: full.seconds,
    queriesPerSecond: n / full.seconds,
  };
}

main().catch((e: unknown) => {
  report.error = String((e as Error)?.stack ?? e);
  say(`error: ${String((e as Error)?.message ?? e)}`);
  finish(4, 'error');
});
