/**
 * FLOP counts for the GFLOP/s notes of the train-step rows: convolutions
 * of the backbone (§7 network) and the projection head, per image and per micro-step.
 */
import type { CarpConfig } from '../config/schema';
import type { CarpNetworkSpec } from '../models/carpNetwork';
import type { ResNetSpec } from '../models/resnet';

/** Forward multiply-add FLOPs (×2) of the backbone for one `size`×`size` image (convs only). */
export function backboneFlops(spec: ResNetSpec, size: number): number {
  const exp = spec.block === 'bottleneck' ? 4 : 1;
  const conv = (k: number, cin: number, cout: number, out: number) =>
    2 * k * k * cin * cout * out * out;
  let s = spec.cifarStem ? size : Math.ceil(size / 2);
  let flops = conv(spec.cifarStem ? 3 : 7, spec.inChannels, spec.width, s);
  if (!spec.cifarStem) s = Math.ceil(s / 2);
  let inC = spec.width;
  spec.layers.forEach((count, stage) => {
    const planes = spec.width * 2 ** stage;
    for (let j = 0; j < count; j++) {
      const stride = stage > 0 && j === 0 ? 2 : 1;
      const out = stride === 2 ? Math.ceil(s / 2) : s;
      if (spec.block === 'basic') {
        flops += conv(3, inC, planes, out) + conv(3, planes, planes, out);
      } else {
        flops += conv(1, inC, planes, s) + conv(3, planes, planes, out);
        flops += conv(1, planes, planes * exp, out);
      }
      if (stride !== 1 || inC !== planes * exp) flops += conv(1, inC, planes * exp, out);
      inC = planes * exp;
      s = out;
    }
  });
  return flops;
}

/** ≈ FLOPs of one micro-step: student forward + backward (3× forward) on all views, teacher forward on the globals. */
export function stepFlops(spec: CarpNetworkSpec, cfg: CarpConfig['crops'], batch: number): number {
  const h = spec.head;
  const headRow =
    2 * (h.inDim * h.hiddenDim + h.hiddenDim * h.hiddenDim + h.hiddenDim * h.bottleneckDim) +
    2 * h.bottleneckDim * h.numPrototypes;
  const globals = 2 * batch * (backboneFlops(spec.backbone, cfg.globalSize) + headRow);
  const locals = cfg.numLocal * batch * (backboneFlops(spec.backbone, cfg.localSize) + headRow);
  return 3 * (globals + locals) + globals;
}
