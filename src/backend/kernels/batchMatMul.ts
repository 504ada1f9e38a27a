/**
 * `BatchMatMul` for the wasm backend: wasm's kernel (tfjs 4.22, `batch_mat_mul_impl.cc`)
 * runs XNNPACK only for a single, untransposed product; with `transposeA`/`transposeB`
 * or a batch it falls back to a scalar triple loop. Every matMul gradient is transposed
 * (`dA = dY·Bᵀ`, `dB = Aᵀ·dY`), so dense layers and the CARP prototype layer trained at
 * scalar speed: 1024×512·(2048×512)ᵀ took 3.8 s vs 0.36 s through XNNPACK here.
 *
 * Ours transposes explicitly (a memory pass, cheap next to the product) and runs each
 * batch item through the built-in's XNNPACK path. Products too small to amortise that
 * (< {@link SMALL_PRODUCT} multiply-adds per item) stay with the built-in loop.
 */
import { tf } from '../tf';
import { compositeKernel } from './composite';

/** Below this many multiply-adds per batch item the scalar loop is as fast. */
export const SMALL_PRODUCT = 1 << 15;

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Kernel config for `backendName` (wasm) delegating to `builtin` (wasm's own kernel). */
export function batchMatMulConfig(backendName: string, builtin: tf.KernelConfig): tf.KernelConfig {
  const composite = compositeKernel<MatMulAttrs>(
    tf.BatchMatMul,
    backendName,
    ({ a, b }, { transposeA, transposeB }, backend) => {
      const engine = tf.engine();
      /** One untransposed `[M,K]·[K,N]` on the built-in's XNNPACK path. */
      const fast = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => {
        const info = builtin.kernelFunc({
          inputs: { a: x, b: y },
          backend,
          attrs: { transposeA: false, transposeB: false },
        }) as tf.TensorInfo;
        return engine.makeTensorFromTensorInfo(info, backend);
      };
      const ra = a.rank;
      const rb = b.rank;
      const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
      const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
      const batch = Math.max(batchA, batchB);
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(
        a.shape.slice(0, -2),
        b.shape.slice(0, -2),
      );
      let a3: tf.Tensor3D = tf.reshape(a, [batchA, a.shape[ra - 2], a.shape[ra - 1]]);
      let b3: tf.Tensor3D = tf.reshape(b, [batchB, b.shape[rb - 2], b.shape[rb - 1]]);
      if (transposeA) a3 = tf.transpose(a3, [0, 2, 1]);
      if (transposeB) b3 = tf.transpose(b3, [0, 2, 1]);
      const [, m, k] = a3.shape;
      const n = b3.shape[2];
      tf.util.assert(
        k === b3.shape[1],
        () => `matMul: inner dimensions ${k} and ${b3.shape[1]} do not match`,
      );
      const item = (t: tf.Tensor3D, i: number, count: number): tf.Tensor =>
        count === 1 ? t : tf.slice(t, [i, 0, 0], [1, t.shape[1], t.shape[2]]);
      const outs: tf.Tensor[] = [];
      for (let i = 0; i < batch; i++) outs.push(fast(item(a3, i, batchA), item(b3, i, batchB)));
      const out = batch === 1 ? outs[0] : tf.concat(outs, 0);
      return tf.reshape(out, [...outer, m, n]);
    },
  );
  return {
    kernelName: tf.BatchMatMul,
    backendName,
    // The built-in's set-up binds its C function, which `fast` calls.
    setupFunc: builtin.setupFunc,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as MatMulAttrs;
      const batch = Math.max(
        tf.util.sizeFromShape(a.shape.slice(0, -2)),
        tf.util.sizeFromShape(b.shape.slice(0, -2)),
      );
      const m = a.shape[a.shape.length - (transposeA ? 1 : 2)];
      const k = a.shape[a.shape.length - (transposeA ? 2 : 1)];
      const n = b.shape[b.shape.length - (transposeB ? 2 : 1)];
      const simple = !transposeA && !transposeB && batch === 1;
      if (simple || m * k * n < SMALL_PRODUCT || a.dtype !== 'float32' || b.dtype !== 'float32') {
        return builtin.kernelFunc(args);
      }
      return composite.kernelFunc(args);
    },
  };
}
