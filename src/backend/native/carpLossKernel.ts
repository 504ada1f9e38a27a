/**
 * The fused CARP loss as one kernel of ours on the native addon (native/carpLoss.h):
 *
 *   CarpLoss(logits [V·B, K], teacher0 [N_p, B, P], teacher1 [N_p, B, P];
 *            partition, partitionSize, views, regWeight)
 *     → [terms [3] = (L_cons, L_reg, L_cons + λ·L_reg),
 *        grad [V·B, K] = ∂(L_cons + λ·L_reg)/∂logits,
 *        student0 [B, P] = the student's view-0 block-0 probabilities]
 *
 * Why: the composed graph (per-block softmax of every view, ten pair products, the
 * marginals, their logs, and the tape's gradient of all of it) is ≈ 400 kernel calls on
 * one wasm thread: ≈ 0.1 s of a width-8 micro-step at B 128, K 4096 — a sixth of the step.
 * src/carp/fusedCarpLoss.ts is the op over it; the composed graph stays the reference.
 */
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { heapBackend, size } from './heap';

export const CARP_LOSS = 'CarpLoss';

/** Attributes of `CarpLoss`. */
export interface CarpLossAttrs {
  /** π: N_p·P distinct prototype indices. */
  partition: Int32Array;
  partitionSize: number;
  /** V, the student's views (rows of `logits` are V blocks of B). */
  views: number;
  /** λ, the weight of L_reg in the total. */
  regWeight: number;
}

export function carpLossConfig(addon: NativeAddon): tf.KernelConfig {
  return {
    kernelName: CARP_LOSS,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { logits, teacher0, teacher1 } = args.inputs as Record<string, tf.TensorInfo>;
      const {
        partition,
        partitionSize: p,
        views,
        regWeight,
      } = args.attrs as unknown as CarpLossAttrs;
      const [rows, k] = logits.shape;
      const batch = rows / views;
      const blocks = partition.length / p;
      const blockShape = [blocks, batch, p];
      const bad = (what: string) => new Error(`${CARP_LOSS}: ${what}`);
      if (logits.shape.length !== 2 || !Number.isInteger(batch) || batch < 1) {
        throw bad(`logits [${logits.shape}] are not [V·B, K] for V = ${views}`);
      }
      for (const [name, t] of [
        ['teacher0', teacher0],
        ['teacher1', teacher1],
      ] as const) {
        if (!tf.util.arraysEqual(t.shape, blockShape)) {
          throw bad(`${name} has shape [${t.shape}], expected [${blockShape}]`);
        }
      }
      for (const t of [logits, teacher0, teacher1]) {
        if (t.dtype !== 'float32' || size(t) === 0)
          throw bad('every input must be non-empty float32');
      }
      const b = heapBackend(args);
      const terms = b.makeOutput([3], 'float32');
      const grad = b.makeOutput([rows, k], 'float32');
      const student0 = b.makeOutput([batch, p], 'float32');
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      addon.carpLoss(
        b.wasm.HEAPU8, // read after makeOutput, which may have grown the heap
        off(logits),
        off(teacher0),
        off(teacher1),
        partition,
        views,
        batch,
        k,
        p,
        regWeight,
        off(terms),
        off(grad),
        off(student0),
      );
      return [terms, grad, student0];
    },
  };
}
