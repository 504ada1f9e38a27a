/**
 * wasm kernel benchmarks (issue: wasm kernels; not tests): our gradient kernels
 * (src/backend/wasmKernels.ts) against wasm's built-ins where both exist, in one process,
 * so the ratio is meaningful on a noisy shared machine (the built-in is the "peer").
 *
 *   - a CIFAR ResNet-18 conv stack (3×3 stem, 4 stages × 2 basic blocks, widths w…8w,
 *     batch norm from batch moments, ReLU, global mean, dense), forward + backward of all
 *     weights, batch 32, 32×32, w = 64: ours vs the built-in `Conv2DBackpropInput`;
 *   - single kernels at the ResNet's most common shape (3×3, w→w, 32×32, batch 32):
 *     `Conv2DBackpropInput` ours vs built-in, `Conv2DBackpropFilter` (no built-in), the
 *     forward conv for scale, and `MaxPoolGrad` 3×3/2 ours vs the (wrong) built-in;
 *   - the same step without batch norm, to show its share (ENVIRONMENT.md §4 suspects
 *     batch-norm broadcasting of being a large cost).
 * Times are medians of `repeats` runs after one warm-up. Run directly:
 * `npx tsx src/bench/wasmKernelsBench.ts` (prints the rows as JSON).
 */
import { tf } from '../backend/tf';
import { registerWasmKernels, useWasmKernel, type WasmKernelName } from '../backend/wasmKernels';
import { createRng } from '../random';
import { type BenchRow, speedRatio } from './types';

export interface WasmKernelsBenchOptions {
  /** Batch size (default 32). */
  batch?: number;
  /** Image side (default 32). */
  size?: number;
  /** Base width w of the ResNet-18 stages w, 2w, 4w, 8w (default 64). */
  width?: number;
  /** Timed runs per figure, median reported (default 3). */
  repeats?: number;
  /** Skip the built-in peers (the built-in `Conv2DBackpropInput` step takes seconds). */
  noPeer?: boolean;
}

type Params = tf.Tensor[];

/** He-normal conv weights `[k, k, cin, cout]` (seeded), batch-norm γ = 1, β = 0. */
function makeParams(width: number, seed: number): { params: Params; classes: number } {
  const rng = createRng(seed);
  const normal = (shape: number[], std: number) =>
    tf.randomNormal(shape, 0, std, 'float32', rng.seed32());
  const conv = (k: number, cin: number, cout: number) =>
    normal([k, k, cin, cout], Math.sqrt(2 / (k * k * cin)));
  const params: Params = [conv(3, 3, width), tf.ones([width]), tf.zeros([width])];
  let cin = width;
  for (const [stage, mult] of [1, 2, 4, 8].entries()) {
    const cout = width * mult;
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      params.push(conv(3, cin, cout), tf.ones([cout]), tf.zeros([cout]));
      params.push(conv(3, cout, cout), tf.ones([cout]), tf.zeros([cout]));
      if (stride !== 1 || cin !== cout)
        params.push(conv(1, cin, cout), tf.ones([cout]), tf.zeros([cout]));
      cin = cout;
    }
  }
  const classes = 10;
  params.push(normal([cin, classes], 1 / Math.sqrt(cin)), tf.zeros([classes]));
  return { params, classes };
}

/** The CIFAR ResNet-18 forward pass on `params` (in makeParams order) → logits. */
function resnet18(x: tf.Tensor4D, params: Params, width: number, batchNorm: boolean): tf.Tensor {
  let i = 0;
  const next = () => params[i++];
  const convBn = (h: tf.Tensor4D, stride: number, relu: boolean): tf.Tensor4D => {
    const w = next() as tf.Tensor4D;
    const gamma = next();
    const beta = next();
    let y = tf.conv2d(h, w, stride, 'same');
    if (batchNorm) {
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      y = tf.add(tf.mul(tf.mul(tf.sub(y, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
    }
    return relu ? tf.relu(y) : y;
  };
  let h = convBn(x, 1, true);
  let cin = width;
  for (const [stage, mult] of [1, 2, 4, 8].entries()) {
    const cout = width * mult;
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const a = convBn(h, stride, true);
      const b = convBn(a, 1, false);
      const shortcut = stride !== 1 || cin !== cout ? convBn(h, stride, false) : h;
      h = tf.relu(tf.add(b, shortcut)) as tf.Tensor4D;
      cin = cout;
    }
  }
  const features = tf.mean(h, [1, 2]);
  return tf.add(tf.matMul(features, next()), next());
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)];
}

/** Median seconds of `f` (synchronous tensor work, outputs disposed) over `repeats` runs. */
function timeIt(f: () => tf.Tensor | tf.Tensor[], repeats: number): number {
  tf.dispose(f()); // warm-up: XNNPACK operator creation, wasm memory growth
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const out = f();
    // wasm kernels run synchronously; reading one value makes that explicit.
    (Array.isArray(out) ? out[0] : out).dataSync();
    times.push((performance.now() - t0) / 1000);
    tf.dispose(out);
  }
  return median(times);
}

/** Runs `f` with `kernel` switched to wasm's built-in, restoring ours afterwards. */
function withBuiltin<T>(kernel: WasmKernelName, f: () => T): T {
  useWasmKernel(kernel, 'builtin');
  try {
    return f();
  } finally {
    useWasmKernel(kernel, 'ours');
  }
}

function row(
  scenario: string,
  ours: number,
  peer: number | null,
  peerName: string,
  notes: string[],
): BenchRow {
  return {
    scenario,
    unit: 'seconds',
    higherIsBetter: false,
    ours,
    peer,
    peerName,
    speedRatio: speedRatio(ours, peer, false),
    backend: 'wasm',
    notes,
  };
}

/** Runs the wasm kernel benchmarks on the wasm backend (restoring the previous backend). */
export async function runWasmKernelsBench(o: WasmKernelsBenchOptions = {}): Promise<BenchRow[]> {
  const batch = o.batch ?? 32;
  const size = o.size ?? 32;
  const width = o.width ?? 64;
  const repeats = o.repeats ?? 3;
  // The active backend, if any (tf.getBackend() would initialise one).
  const previous = tf.engine().backendName as string | null | undefined;
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  if (tf.getGradient(tf.Conv2D) === undefined) {
    throw new Error(
      'no gradients registered: tfjs-core gradients must be loaded (src/backend/tf.ts)',
    );
  }
  const rows: BenchRow[] = [];
  const { params } = makeParams(width, 1);
  const rng = createRng(2);
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', rng.seed32()) as tf.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', rng.seed32()), 10);
  const shape = `b${batch} ${size}×${size} w${width}`;
  // Without batch norm only conv and dense weights (rank ≠ 1, plus the dense bias) are used.
  const used = (batchNorm: boolean) =>
    params.map((p, i) => batchNorm || p.rank !== 1 || i === params.length - 1);
  const step = (batchNorm: boolean) => () =>
    tf.tidy(() => {
      const mask = used(batchNorm);
      const diff = params.filter((_, i) => mask[i]);
      return tf.grads((...d: tf.Tensor[]) => {
        let k = 0;
        const all = params.map((p, i) => (mask[i] ? d[k++] : p));
        return tf.losses.softmaxCrossEntropy(labels, resnet18(x, all, width, batchNorm));
      })(diff);
    });
  try {
    const ours = timeIt(step(true), repeats);
    const builtin = o.noPeer
      ? null
      : withBuiltin(tf.Conv2DBackpropInput, () => timeIt(step(true), repeats));
    rows.push(
      row(`resnet18-cifar fwd+bwd ${shape}`, ours, builtin, 'wasm built-in Conv2DBackpropInput', [
        'all weight gradients; batch norm from batch moments; peer: same step with the built-in input gradient',
      ]),
    );
    const noBn = timeIt(step(false), repeats);
    rows.push(
      row(`resnet18-cifar fwd+bwd without batch norm ${shape}`, noBn, null, '', [
        `batch norm (moments + normalise, fwd+bwd) share of the step: ${(((ours - noBn) / ours) * 100).toFixed(0)}%`,
      ]),
    );

    // Single kernels at the commonest ResNet shape.
    const c = width;
    const h = tf.randomNormal([batch, size, size, c], 0, 1, 'float32', rng.seed32()) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, c, c], 0, 0.05, 'float32', rng.seed32()) as tf.Tensor4D;
    const dy = tf.randomNormal(
      [batch, size, size, c],
      0,
      1,
      'float32',
      rng.seed32(),
    ) as tf.Tensor4D;
    const gflop = (2 * batch * size * size * c * c * 9) / 1e9;
    const k = `3×3 ${c}→${c} ${size}×${size} b${batch}`;
    const fwd = timeIt(() => tf.conv2d(h, w, 1, 'same'), repeats);
    rows.push(row(`conv2d forward ${k}`, fwd, null, '', [`${(gflop / fwd).toFixed(1)} GFLOP/s`]));
    const dxOf = () => tf.conv2dTranspose(dy, w, h.shape, 1, 'same');
    const dxOurs = timeIt(dxOf, repeats);
    const dxBuiltin = o.noPeer
      ? null
      : withBuiltin(tf.Conv2DBackpropInput, () => timeIt(dxOf, repeats));
    rows.push(
      row(`Conv2DBackpropInput ${k}`, dxOurs, dxBuiltin, 'wasm built-in Conv2DBackpropInput', [
        `ours ${(gflop / dxOurs).toFixed(1)} GFLOP/s`,
      ]),
    );
    const dwOf = () =>
      tf.engine().runKernel(
        tf.Conv2DBackpropFilter,
        { x: h, dy },
        {
          strides: 1,
          pad: 'same',
          dataFormat: 'NHWC',
          filterShape: [3, 3, c, c],
        },
      ) as tf.Tensor;
    const dwOurs = timeIt(dwOf, repeats);
    rows.push(
      row(`Conv2DBackpropFilter ${k}`, dwOurs, null, 'none (wasm has no built-in)', [
        `${(gflop / dwOurs).toFixed(1)} GFLOP/s`,
      ]),
    );
    const pooled = tf.maxPool(h, 3, 2, 'same');
    const dyPool = tf.onesLike(pooled);
    const poolGrad = () =>
      tf.engine().runKernel(
        tf.MaxPoolGrad,
        { dy: dyPool, input: h, output: pooled },
        {
          filterSize: 3,
          strides: 2,
          pad: 'same',
        },
      ) as tf.Tensor;
    const mpOurs = timeIt(poolGrad, repeats);
    const mpBuiltin = o.noPeer
      ? null
      : withBuiltin(tf.MaxPoolGrad, () => timeIt(poolGrad, repeats));
    rows.push(
      row(
        `MaxPoolGrad 3×3/2 same ${size}×${size}×${c} b${batch}`,
        mpOurs,
        mpBuiltin,
        'wasm built-in MaxPoolGrad',
        ['the built-in drops the gradient of windows whose maximum is negative'],
      ),
    );
    tf.dispose([h, w, dy, pooled, dyPool]);
  } finally {
    tf.dispose([...params, x, labels]);
    if (typeof previous === 'string' && previous !== 'wasm') await tf.setBackend(previous);
  }
  return rows;
}

if (require.main === module) {
  runWasmKernelsBench().then(
    (rows) => process.stdout.write(JSON.stringify(rows, null, 2) + '\n'),
    (e) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
