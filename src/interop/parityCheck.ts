/**
 * PyTorch parity on demand (§8, §9.0), for notebook 09 and users about to evaluate
 * an official checkpoint: when Python with torch + torchvision is available, PyTorch
 * writes a CARP training dictionary in the official layout (`module.backbone.*`,
 * `module.head.*`; a full-width torchvision ResNet-50 with a small head, random weights)
 * plus its own eval-mode outputs on a fixed input; carp-kit loads the file exactly as it
 * loads `carp-400ep-mc/checkpoint0399.pth` (`loadTeacher`, `teacher` entry) and must give
 * the same pooled features and prototype logits. The generator is
 * `data-scripts/make-parity-fixture.py` (also behind test/interop/parity.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf';
import type { Tensor4D } from '../backend/tf';
import { backboneFeatures, multiCropForward, type CarpNetworkSpec } from '../models/carpNetwork';
import { loadTeacher } from './loadTeacher';
import { PACKAGE_ROOT } from '../util/runRecord';

/** Debian's Python, which has python3-torch (the `python3` on PATH may not). */
export const DEFAULT_TORCH_PYTHON = '/usr/bin/python3';

export interface TorchAvailability {
  available: boolean;
  python: string;
  /** `torch x.y / torchvision a.b` when available. */
  versions?: string;
  /** Why not, when unavailable. */
  reason?: string;
}

/** Whether `python` can import torch and torchvision (a few seconds: it imports them). */
export function torchAvailable(python = DEFAULT_TORCH_PYTHON): TorchAvailability {
  if (!existsSync(python)) return { available: false, python, reason: `${python} not found` };
  try {
    const out = execFileSync(
      python,
      ['-c', 'import torch, torchvision; print(torch.__version__, torchvision.__version__)'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
      .toString()
      .trim()
      .split(/\s+/);
    return { available: true, python, versions: `torch ${out[0]} / torchvision ${out[1]}` };
  } catch {
    return {
      available: false,
      python,
      reason: `${python} cannot import torch and torchvision (Debian: apt-get install python3-torch python3-torchvision)`,
    };
  }
}

export interface TorchParityOptions {
  /** Folder for the generated `.pth` (≈190 MB) and PyTorch's outputs. */
  outDir: string;
  python?: string;
  /** Input side in px (default 64). */
  size?: number;
  /** Largest allowed max-abs difference (default 1e-4, as the parity test). */
  tolerance?: number;
}

export interface TorchParityResult {
  /** The generated checkpoint (official layout). */
  pth: string;
  /** The backbone the file was read as (e.g. `bottleneck [3,4,6,3] width 64`). */
  backbone: string;
  inputShapeNCHW: [number, number, number, number];
  /** Max abs difference of the pooled features / prototype logits vs PyTorch. */
  features: number;
  logits: number;
  tolerance: number;
  passed: boolean;
  /** Seconds PyTorch took to build the file, and carp-kit to load and run it. */
  pythonSeconds: number;
  carpKitSeconds: number;
}

interface Expected {
  inputShapeNCHW: [number, number, number, number];
  input: number[];
  features: number[];
  logits: number[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Generates an official-layout ResNet-50 checkpoint with PyTorch and compares outputs. */
export async function torchParityCheck(o: TorchParityOptions): Promise<TorchParityResult> {
  const python = o.python ?? DEFAULT_TORCH_PYTHON;
  const script = join(PACKAGE_ROOT, 'data-scripts', 'make-parity-fixture.py');
  if (!existsSync(script)) throw new Error(`torchParityCheck: ${script} is missing`);
  mkdirSync(o.outDir, { recursive: true });
  const name = 'carp-parity-r50';
  const size = o.size ?? 64;
  let t0 = performance.now();
  execFileSync(
    python,
    [
      script,
      ...['--out', o.outDir, '--name', name, '--arch', 'resnet50', '--width', '64'],
      ...['--no-cifar-stem', '--size', String(size), '--hidden', '64', '--bottleneck', '32'],
      ...['--prototypes', '100', '--random-gain', '--no-dtypes'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const pythonSeconds = (performance.now() - t0) / 1000;
  const pth = join(o.outDir, `${name}.pth`);
  const expected = JSON.parse(
    readFileSync(join(o.outDir, `${name}.expected.json`), 'utf8'),
  ) as Expected;

  t0 = performance.now();
  const teacher = loadTeacher(pth);
  try {
    const [n, c, h, w] = expected.inputShapeNCHW;
    const x = tf.tidy(() =>
      tf.transpose(tf.tensor4d(expected.input, [n, c, h, w]), [0, 2, 3, 1]),
    ) as Tensor4D;
    const opts = { training: false };
    const feats = backboneFeatures(teacher.params, teacher.spec, x, opts);
    const logits = multiCropForward(teacher.params, teacher.spec as CarpNetworkSpec, [x], opts);
    const features = maxAbsDiff(await feats.data(), expected.features);
    const logitDiff = maxAbsDiff(await logits.data(), expected.logits);
    tf.dispose([x, feats, logits]);
    const tolerance = o.tolerance ?? 1e-4;
    return {
      pth,
      backbone: `${teacher.spec.backbone.block} [${teacher.spec.backbone.layers.join(',')}] width ${teacher.spec.backbone.width}`,
      inputShapeNCHW: expected.inputShapeNCHW,
      features,
      logits: logitDiff,
      tolerance,
      passed: features <= tolerance && logitDiff <= tolerance,
      pythonSeconds,
      carpKitSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    teacher.params.dispose();
  }
}
