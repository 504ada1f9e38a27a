/**
 * The correctness half of the device check: one CARP step's loss and every parameter
 * gradient computed on the webgpu backend and on a CPU backend (wasm with the kit's
 * gradient kernels, else the pure-JS cpu reference), from identical weights, data and
 * partition (same seeds), then compared.
 *
 * Gradients are compared by relative RMS error per tensor (‖g_gpu − g_cpu‖ / ‖g_cpu‖):
 * float32 reductions run in a different order on the GPU, so single elements near zero
 * can differ by more than an element-wise tolerance allows while the tensor agrees.
 */
import { tf } from '../../../src/backend/tf';
import { createRng } from '../../../src/random';
import { createWorkload, seededViews, type WorkloadSize } from './workload';

export interface StepResult {
  backend: string;
  loss: number;
  grads: Map<string, Float32Array>;
  seconds: number;
}

export interface StepComparison {
  referenceBackend: string;
  lossReference: number;
  lossWebgpu: number;
  lossRelError: number;
  gradients: number;
  maxGradRelError: number;
  worstGradient: string;
  medianGradRelError: number;
  /** Gradients below 1 % of the median gradient RMS (rounding noise; see compareSteps). */
  tinyGradients: number;
  secondsReference: number;
  secondsWebgpu: number;
  tolerance: number;
  pass: boolean;
}

/** Runs one loss-and-gradients step on `backend`, reading everything back. */
export async function stepOn(
  backend: string,
  size: WorkloadSize,
  seed: number,
): Promise<StepResult> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
  const w = createWorkload(size, seed, true);
  const views = seededViews(createRng(seed + 2), size);
  try {
    const t0 = performance.now();
    const { loss, grads } = w.lossAndGrads(views);
    const lossValue = (await loss.data())[0];
    const out = new Map<string, Float32Array>();
    for (const [name, g] of grads) out.set(name, (await g.data()) as Float32Array);
    const seconds = (performance.now() - t0) / 1000;
    tf.dispose([loss, ...grads.values()]);
    return { backend, loss: lossValue, grads: out, seconds };
  } finally {
    tf.dispose(views);
    w.dispose();
  }
}

/** Root mean square of `a` (or of `a − b`). */
function rms(a: Float32Array, b?: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = b ? a[i] - b[i] : a[i];
    s += d * d;
  }
  return a.length ? Math.sqrt(s / a.length) : 0;
}

/**
 * Compares a webgpu step with the reference step. Each gradient's error is its RMS
 * difference over its own RMS, but never over less than 1 % of the median gradient RMS:
 * gradients that are zero in exact arithmetic (a linear bias right before batch norm)
 * hold only rounding noise, which no backend reproduces.
 */
export function compareSteps(
  reference: StepResult,
  webgpu: StepResult,
  tolerance: number,
): StepComparison {
  const sizes = [...reference.grads.values()].map((g) => rms(g)).sort((a, b) => a - b);
  const floor = 0.01 * (sizes.length ? sizes[Math.floor(sizes.length / 2)] : 0);
  const errors: { name: string; rel: number }[] = [];
  let tinyGradients = 0;
  for (const [name, ref] of reference.grads) {
    const got = webgpu.grads.get(name);
    if (!got || got.length !== ref.length) {
      errors.push({ name, rel: Number.POSITIVE_INFINITY });
      continue;
    }
    const size = rms(ref);
    if (size < floor) tinyGradients++;
    const diff = rms(got, ref);
    const rel = diff === 0 ? 0 : diff / Math.max(size, floor, Number.MIN_VALUE);
    errors.push({ name, rel: Number.isFinite(rel) ? rel : Number.POSITIVE_INFINITY });
  }
  const sorted = errors.map((e) => e.rel).sort((a, b) => a - b);
  const worst = errors.reduce((w, e) => (e.rel > w.rel ? e : w), { name: '', rel: -1 });
  const lossRelError =
    Math.abs(webgpu.loss - reference.loss) / Math.max(Math.abs(reference.loss), 1e-12);
  const maxGradRelError = worst.rel;
  return {
    referenceBackend: reference.backend,
    lossReference: reference.loss,
    lossWebgpu: webgpu.loss,
    lossRelError,
    gradients: errors.length,
    maxGradRelError,
    worstGradient: worst.name,
    medianGradRelError: sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0,
    tinyGradients,
    secondsReference: reference.seconds,
    secondsWebgpu: webgpu.seconds,
    tolerance,
    pass:
      Number.isFinite(webgpu.loss) &&
      lossRelError <= tolerance &&
      errors.length > 0 &&
      maxGradRelError <= tolerance,
  };
}
