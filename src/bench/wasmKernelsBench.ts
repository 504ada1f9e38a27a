/**
 * wasm kernel benchmarks (not tests): our gradient kernels
 * (src/backend/wasmKernels.ts) against wasm's built-ins where both exist, in one process,
 * so the ratio is meaningful on a noisy shared machine (the built-in is the "peer").
 *
 *   - a CIFAR ResNet-18 conv stack (3×3 stem, 4 stages × 2 basic blocks, widths w…8w,
 *     batch norm from batch moments, ReLU, global mean, dense), forward + backward of all
 *     weights, batch 32, 32×32, w = 64: ours vs the built-in `Conv2DBackpropInput`;
 *   - the same step without batch norm, to show its share (architecture §7.4 suspects
 *     batch-norm broadcasting of being a large cost);
 *   - single kernels at the ResNet's most common shape (3×3, w→w, 32×32, batch 32):
 *     the forward conv for scale, `Conv2DBackpropInput` (stride 1 and 2) ours vs
 *     built-in, `Conv2DBackpropFilter` (no built-in), `MaxPoolGrad` 3×3/2 ours vs the
 *     (wrong) built-in, and a transposed dense-layer matMul ours vs built-in.
 * Ours and the peer run alternately; times are the minimum of `repeats` runs after one
 * warm-up (medians in the notes).
 * Run directly:
 * `npx tsx src/bench/wasmKernelsBench.ts` (prints the rows as JSON).
 */
import { tf } from '../backend/tf';
import {
  activeNativeKernels,
  registerWasmKernels,
  useNativeKernels,
  useWasmKernel,
  type WasmKernelName,
} from '../backend/wasmKernels';
import { createRng } from '../random';
import { type BenchRow, speedRatio } from './types';

export interface WasmKernelsBenchOptions {
  /** Batch size (default 32). */
  batch?: number;
  /** Image side (default 32). */
  size?: number;
  /** Base width w of the ResNet-18 stages w, 2w, 4w, 8w (default 64). */
  width?: number;
  /** Timed runs per figure, the minimum reported (default 3). */
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

/** Seconds of one call of `f` (synchronous tensor work; outputs disposed). */
function once(f: () => tf.Tensor | tf.Tensor[]): number {
  const t0 = performance.now();
  const out = f();
  // wasm kernels run synchronously; reading one value makes that explicit.
  (Array.isArray(out) ? out[0] : out).dataSync();
  const t = (performance.now() - t0) / 1000;
  tf.dispose(out);
  return t;
}

interface Timing {
  min: number;
  median: number;
}

function summary(times: number[]): Timing {
  const t = [...times].sort((p, q) => p - q);
  return { min: t[0], median: t[Math.floor(t.length / 2)] };
}

interface Scenario {
  scenario: string;
  run: () => tf.Tensor | tf.Tensor[];
  /** The peer: the same `run` with wasm's built-in `kernel`, or another `run`. */
  peer?: { name: string; kernel?: WasmKernelName; run?: () => tf.Tensor | tf.Tensor[] };
  /** Multiply-adds ×2, for a GFLOP/s note. */
  flop?: number;
  notes?: string[];
}

/**
 * Times ours and the peer alternately (ours, peer, ours, …) after one warm-up of each,
 * so that a change in the machine's load hits both alike; reports the minimum, because
 * interference only ever adds time (medians go into the notes).
 */
function measure(s: Scenario, repeats: number, noPeer: boolean): BenchRow {
  const peer = noPeer ? undefined : s.peer;
  const runPeer = (): number => {
    if (peer?.kernel === undefined) return once(peer?.run ?? s.run);
    useWasmKernel(peer.kernel, 'builtin');
    try {
      return once(peer.run ?? s.run);
    } finally {
      useWasmKernel(peer.kernel, 'ours');
    }
  };
  once(s.run); // warm-up: XNNPACK operators, wasm memory growth
  if (peer !== undefined) runPeer();
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    ours.push(once(s.run));
    if (peer !== undefined) theirs.push(runPeer());
  }
  const o = summary(ours);
  const p = peer === undefined ? null : summary(theirs);
  const notes = [
    ...(s.notes ?? []),
    `min of ${repeats} alternating runs; medians ours ${o.median.toFixed(3)} s`,
  ];
  if (p !== null) notes[notes.length - 1] += `, peer ${p.median.toFixed(3)} s`;
  if (s.flop !== undefined) notes.push(`ours ${(s.flop / o.min / 1e9).toFixed(1)} GFLOP/s`);
  return {
    scenario: s.scenario,
    unit: 'seconds',
    higherIsBetter: false,
    ours: o.min,
    peer: p?.min ?? null,
    peerName: peer?.name ?? '',
    speedRatio: speedRatio(o.min, p?.min ?? null, false),
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
  const rng = createRng(2);
  const normal = (shape: number[], std = 1) =>
    tf.randomNormal(shape, 0, std, 'float32', rng.seed32());
  const { params } = makeParams(width, 1);
  const x = normal([batch, size, size, 3]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', rng.seed32()), 10);
  // Without batch norm only conv and dense weights (rank ≠ 1, plus the dense bias) are used.
  const step = (batchNorm: boolean) => () =>
    tf.tidy(() => {
      const mask = params.map((p, i) => batchNorm || p.rank !== 1 || i === params.length - 1);
      return tf.grads((...d: tf.Tensor[]) => {
        let k = 0;
        const all = params.map((p, i) => (mask[i] ? d[k++] : p));
        return tf.losses.softmaxCrossEntropy(labels, resnet18(x, all, width, batchNorm));
      })(params.filter((_, i) => mask[i]));
    });
  // Single kernels at the commonest ResNet shape; the filter is new each call, as in
  // training (XNNPACK caches a packed filter by tensor id).
  const c = width;
  const h = normal([batch, size, size, c]) as tf.Tensor4D;
  const w = normal([3, 3, c, c], 0.05) as tf.Tensor4D;
  const dy = normal([batch, size, size, c]) as tf.Tensor4D;
  const pooled = tf.maxPool(h, 3, 2, 'same');
  const dyPool = normal(pooled.shape) as tf.Tensor4D;
  const [m, kk, n] = [4 * batch * 8, 512, 2048]; // a dense layer's dA = dY·Bᵀ
  const dense = normal([m, n]);
  const weights = normal([kk, n]);
  const conv = 2 * batch * size * size * c * c * 9;
  const k3 = `3×3 ${c}→${c} ${size}×${size} b${batch}`;
  const shape = `b${batch} ${size}×${size} w${width}`;
  const scenarios: Scenario[] = [
    {
      scenario: `resnet18-cifar fwd+bwd ${shape}`,
      run: step(true),
      peer: {
        name: 'the same step with the built-in Conv2DBackpropInput',
        kernel: tf.Conv2DBackpropInput,
      },
      notes: ['all weight gradients, batch norm from batch moments'],
    },
    {
      scenario: `resnet18-cifar fwd+bwd, batch norm's share ${shape}`,
      run: step(true),
      peer: { name: 'the same step without batch norm', run: step(false) },
      notes: ['ours − peer = the moments + normalise of every conv, forward and backward'],
    },
    {
      scenario: `conv2d forward ${k3}`,
      run: () => tf.tidy(() => tf.conv2d(h, tf.add(w, 0) as tf.Tensor4D, 1, 'same')),
      flop: conv,
    },
    {
      scenario: `Conv2DBackpropInput ${k3}`,
      run: () =>
        tf.tidy(() => tf.conv2dTranspose(dy, tf.add(w, 0) as tf.Tensor4D, h.shape, 1, 'same')),
      peer: { name: 'wasm built-in', kernel: tf.Conv2DBackpropInput },
      flop: conv,
    },
    {
      scenario: `Conv2DBackpropInput 3×3/2 ${c}→${c} ${size}×${size} b${batch}`,
      run: () =>
        tf.tidy(() => {
          const dy2 = tf.slice(dy, [0, 0, 0, 0], [batch, size / 2, size / 2, c]);
          return tf.conv2dTranspose(dy2, tf.add(w, 0) as tf.Tensor4D, h.shape, 2, 'same');
        }),
      peer: { name: 'wasm built-in', kernel: tf.Conv2DBackpropInput },
      flop: conv / 4,
    },
    {
      scenario: `Conv2DBackpropFilter ${k3}`,
      run: () =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropFilter,
            { x: h, dy },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, c, c] },
          ) as tf.Tensor,
      flop: conv,
      notes: ['wasm has no built-in'],
    },
    {
      scenario: `MaxPoolGrad 3×3/2 same ${size}×${size}×${c} b${batch}`,
      run: () =>
        tf
          .engine()
          .runKernel(
            tf.MaxPoolGrad,
            { dy: dyPool, input: h, output: pooled },
            { filterSize: 3, strides: 2, pad: 'same' },
          ) as tf.Tensor,
      peer: { name: 'wasm built-in', kernel: tf.MaxPoolGrad },
      notes: ['the built-in loses windows whose maximum is ≤ 0 and sends ties to the last maximum'],
    },
    {
      scenario: `matMul ${m}×${n}·(${kk}×${n})ᵀ`,
      run: () => tf.matMul(dense, weights, false, true),
      peer: { name: 'wasm built-in', kernel: tf.BatchMatMul },
      flop: 2 * m * kk * n,
      notes: ['transposed operand, as in every matMul gradient'],
    },
  ];
  // "Ours" here is the pure-wasm kernels; the native ones (src/backend/native) are
  // measured by the train-step scenario's native-vs-pure-wasm row.
  const nativeWasOn = activeNativeKernels() !== undefined;
  if (nativeWasOn) useNativeKernels(false);
  try {
    return scenarios.map((s) => measure(s, repeats, o.noPeer === true));
  } finally {
    tf.dispose([...params, x, labels, h, w, dy, pooled, dyPool, dense, weights]);
    if (nativeWasOn) useNativeKernels(true);
    if (typeof previous === 'string' && previous !== 'wasm') await tf.setBackend(previous);
  }
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
