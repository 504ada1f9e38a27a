/**
 * Helpers for the PyTorch fixtures in ./fixtures (generated once by
 * fixtures/generate_torch_fixtures.py; tests never need torch).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/backend/tf';
import type { ParamScope } from '../../src/models/params';
import { fromTorchLayout, torchShape } from '../../src/models/params';

export type KeyList = [string, number[]][];

export function loadTorchKeys(): Record<string, KeyList> {
  const path = join(__dirname, 'fixtures', 'torchvision_keys.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { keys: Record<string, KeyList> }).keys;
}

export interface Summary {
  shape: number[];
  head: number[];
  sum: number;
  sumsq: number;
  values: number[] | null;
}

export interface GoldenCase {
  name: string;
  input_shape: number[];
  eval: Summary;
  train: Summary;
  grads: Record<string, Summary>;
  stats: Record<string, number[]>;
}

export function loadTorchGolden(): GoldenCase[] {
  const path = join(__dirname, 'fixtures', 'torch_golden.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { cases: GoldenCase[] }).cases;
}

/** The fixture formula (see the generator's docstring), in PyTorch layout. */
export function formulaValues(name: string, k: number, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.sin(0.7 * i + 1.3 * k);
    let v: number;
    if (name.endsWith('num_batches_tracked')) v = 0;
    else if (name.endsWith('weight_g')) v = 1 + 0.2 * s;
    else if ((name.endsWith('weight') || name.endsWith('weight_v')) && shape.length >= 2)
      v = (s * 2) / Math.sqrt(n / shape[0]);
    else if (name.endsWith('weight')) v = 1 + 0.2 * s;
    else if (name.endsWith('bias') || name.endsWith('running_mean')) v = 0.1 * s;
    else if (name.endsWith('running_var')) v = 1 + 0.3 * s;
    else throw new Error(name);
    out[i] = v;
  }
  return out;
}

/** Fills every entry named in `names` (state_dict order) with the fixture formula. */
export function formulaFill(p: ParamScope, names: string[]): void {
  names.forEach((name, k) => {
    const v = p.get(name);
    if (v.dtype === 'int32') {
      tf.tidy(() => v.assign(tf.zerosLike(v)));
      return;
    }
    const ts = torchShape(v.shape);
    tf.tidy(() => {
      const t = tf.tensor(formulaValues(name, k, ts), ts);
      v.assign(fromTorchLayout(t));
    });
  });
}

/** sin(a·i + b) over a flat index, as the generator's `sin_tensor`. */
export function sinArray(n: number, a: number, b = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(a * i + b);
  return out;
}
