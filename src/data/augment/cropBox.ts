/**
 * Random-resized-crop box sampler, torchvision semantics (§6):
 * up to 10 attempts, each with target area = H·W·U(scale) and aspect
 * r = exp(U(ln ratio₀, ln ratio₁)); w = round(√(area·r)), h = round(√(area/r)) (Python
 * rounding); accepted when 0 < w ≤ W and 0 < h ≤ H, top-left uniform over the valid
 * integer positions. Fallback: centred crop of the whole image with the aspect clamped.
 */
import type { Rng } from '../../random';
import { pythonRound } from '../evalTransforms';

export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Draws one crop box for an H×W image. */
export function sampleCropBox(
  h: number,
  w: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  rng: Rng,
): CropBox {
  const area = h * w;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const cw = pythonRound(Math.sqrt(target * aspect));
    const ch = pythonRound(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      // torch.randint(0, H − h + 1): uniform over the valid top-left positions.
      return { top: rng.int(h - ch + 1), left: rng.int(w - cw + 1), height: ch, width: cw };
    }
  }
  const inRatio = w / h;
  let cw = w;
  let ch = h;
  if (inRatio < Math.min(...ratio)) ch = pythonRound(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) cw = pythonRound(h * Math.max(...ratio));
  return { top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), height: ch, width: cw };
}
