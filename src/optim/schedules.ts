/**
 * Per-micro-step schedules (§5.3) as plain arrays, one value per micro-step
 * t = epoch·itersPerEpoch + i; the trainer reads the value at each optimiser step and
 * hands it to the optimizer/EMA as a number (architecture §6.4).
 *
 * Source: DINO/CARP `utils.cosine_scheduler` (linspace warm-up, then half a cosine).
 */

export interface CosineScheduleOptions {
  /** Value at the end of warm-up (or at step 0 without warm-up). */
  base: number;
  /** Asymptote of the cosine; the last entry is slightly above it. */
  final: number;
  /** Number of epochs E (positive integer). */
  epochs: number;
  /** Micro-steps per epoch I (positive integer). */
  itersPerEpoch: number;
  /** Warm-up epochs E_w (integer, 0 ≤ E_w ≤ E; default 0). */
  warmupEpochs?: number;
  /** First warm-up value (default 0). */
  warmupStart?: number;
}

function checkInteger(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`cosineSchedule: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

/**
 * Cosine schedule with optional linear warm-up (§5.3).
 *
 * - Warm-up: E_w·I evenly spaced values from `warmupStart` to `base`, both ends included
 *   (NumPy `linspace`; a single warm-up step is just `warmupStart`).
 * - Then, with T = (E − E_w)·I: value_i = final + ½(base − final)(1 + cos(π·i/T)), i < T.
 *
 * @returns Float64Array of length E·I.
 */
export function cosineSchedule(o: CosineScheduleOptions): Float64Array {
  const { base, final, epochs, itersPerEpoch } = o;
  const warmupEpochs = o.warmupEpochs ?? 0;
  const warmupStart = o.warmupStart ?? 0;
  for (const [name, v] of [
    ['base', base],
    ['final', final],
    ['warmupStart', warmupStart],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`cosineSchedule: ${name} must be a finite number, got ${v}`);
    }
  }
  checkInteger(epochs, 'epochs', 1);
  checkInteger(itersPerEpoch, 'itersPerEpoch', 1);
  checkInteger(warmupEpochs, 'warmupEpochs', 0);
  if (warmupEpochs > epochs) {
    throw new Error(`cosineSchedule: warmupEpochs (${warmupEpochs}) exceeds epochs (${epochs})`);
  }

  const total = epochs * itersPerEpoch;
  const warmup = warmupEpochs * itersPerEpoch;
  const out = new Float64Array(total);
  // NumPy linspace: start + i·step, with the last point set exactly to the stop value.
  const step = warmup > 1 ? (base - warmupStart) / (warmup - 1) : 0;
  for (let i = 0; i < warmup; i++)
    out[i] = i === warmup - 1 && warmup > 1 ? base : warmupStart + i * step;
  const cosineSteps = total - warmup;
  for (let i = 0; i < cosineSteps; i++) {
    out[warmup + i] = final + 0.5 * (base - final) * (1 + Math.cos((Math.PI * i) / cosineSteps));
  }
  return out;
}
