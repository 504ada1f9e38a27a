/**
 * Training checkpoints (§7 keeps student, teacher, optimiser and
 * epoch): everything needed to continue a run exactly where it stopped — student and
 * teacher (parameters AND BN buffers), LARS momentum buffers and step counter, the
 * position (epoch, micro-step), the RNG state and the resolved config.
 *
 * Container: safetensors (JSON header + raw little-endian tensors), readable from Python.
 * Keys: `student.<name>`, `teacher.<name>` with our parameter names (the reference's
 * state_dict keys minus `module.`), `optimizer.<name>.momentum`, and — for a checkpoint
 * taken inside an accumulation group — `accumulated.<name>`, the gradient sums so far
 * (their micro-step count is `accumulatedSteps` in the metadata); the optimiser's step
 * counter, position, RNG and config live in the string metadata. Written atomically;
 * the data carries a sha256 digest that reading verifies.
 */
import { join } from 'node:path';
import { tf } from '../backend/tf';
import type { Tensor } from '../backend/tf';
import type { ParamStore } from '../models/params';
import type { LARS } from '../optim/lars';
import type { RngState } from '../random';
import { FormatError } from '../util/formatError';
import { writeFileAtomic } from '../util/atomic';
import { encodeSafetensors, loadSafetensors, type NamedArray } from '../util/safetensors';
import { warn } from '../util/warn';

export const CHECKPOINT_FORMAT = 'carp-kit-checkpoint/1';

/** Where a run directory keeps its latest checkpoint. */
export const LATEST_CHECKPOINT = join('checkpoints', 'latest.safetensors');

/** Where the run stands: the next micro-step to execute. */
export interface TrainingPosition {
  /** Epoch of the next micro-step (0-based). */
  epoch: number;
  /** Micro-step within that epoch (0-based). */
  iteration: number;
  /** Global micro-step index t = epoch·I + iteration (§5.4). */
  globalStep: number;
  /** Optimiser steps taken so far. */
  optimizerSteps: number;
}

export interface CheckpointMeta {
  format: string;
  position: TrainingPosition;
  /** States of the run's generators (e.g. `partition`, `augment`) at `position`. */
  rngs: Record<string, RngState>;
  /** The resolved configuration (JSON), checked on resume. */
  config: unknown;
  savedAt: string;
  /** Micro-steps summed in `accumulated.*` (0 or absent: at an optimiser-step boundary). */
  accumulatedSteps?: number;
  /** The training images (count, and how a `limit` drew them), checked on resume. */
  data?: { count: number; subset: unknown };
}

async function arrayOf(t: Tensor): Promise<NamedArray> {
  const data = await t.data();
  if (t.dtype === 'int32') return { dtype: 'I32', shape: t.shape, data: data as Int32Array };
  if (t.dtype === 'float32') return { dtype: 'F32', shape: t.shape, data: data as Float32Array };
  throw new Error(`checkpoint: unsupported dtype ${t.dtype}`);
}

/** What a checkpoint holds (see the module comment). */
export interface CheckpointPayload {
  student: ParamStore;
  teacher: ParamStore;
  optimizer: LARS;
  position: TrainingPosition;
  rngs: Record<string, RngState>;
  config: unknown;
  /** Gradient sums of the open accumulation group, by variable name, and their count. */
  accumulated?: { sums: [string, Tensor][]; count: number };
  /** The training images (see `CheckpointMeta.data`). */
  data?: { count: number; subset: unknown };
}

/** Serialises a checkpoint (safetensors bytes). */
export async function encodeCheckpoint(o: CheckpointPayload): Promise<Buffer> {
  const tensors = new Map<string, NamedArray>();
  for (const [prefix, store] of [
    ['student', o.student],
    ['teacher', o.teacher],
  ] as const) {
    for (const name of store.names())
      tensors.set(`${prefix}.${name}`, await arrayOf(store.get(name)));
  }
  const weights = await o.optimizer.getWeights();
  const [iterations, ...buffers] = weights;
  const optimizerIterations = (await iterations.tensor.data())[0];
  iterations.tensor.dispose();
  for (const { name, tensor } of buffers) {
    const varName = name.slice(0, -'/momentum'.length);
    tensors.set(`optimizer.${o.student.paramNameOf(varName)}.momentum`, await arrayOf(tensor));
  }
  const count = o.accumulated?.count ?? 0;
  if (count > 0) {
    for (const [varName, t] of o.accumulated!.sums) {
      tensors.set(`accumulated.${o.student.paramNameOf(varName)}`, await arrayOf(t));
    }
  }
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    position: o.position,
    rngs: o.rngs,
    config: o.config,
    savedAt: new Date().toISOString(),
    accumulatedSteps: count,
    ...(o.data ? { data: o.data } : {}),
  };
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    meta: JSON.stringify(meta),
    optimizerIterations: String(optimizerIterations),
  });
}

/** Writes a checkpoint atomically. */
export async function saveCheckpoint(path: string, o: CheckpointPayload): Promise<void> {
  writeFileAtomic(path, await encodeCheckpoint(o));
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  tensors: Map<string, NamedArray>;
  optimizerIterations: number;
}

/**
 * Reads a checkpoint file (no tensors are created yet). The tensor data is verified against
 * its sha256 digest (an `IntegrityError` naming the file on a mismatch); a checkpoint
 * written before digests existed loads with one warning.
 */
export function readCheckpoint(path: string): LoadedCheckpoint {
  const { tensors, metadata, digest } = loadSafetensors(path);
  if (metadata.format !== CHECKPOINT_FORMAT || metadata.meta === undefined) {
    throw new FormatError(
      path,
      `not a carp-kit checkpoint (format ${JSON.stringify(metadata.format)}, expected ${CHECKPOINT_FORMAT})`,
    );
  }
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(metadata.meta) as CheckpointMeta;
  } catch (e) {
    throw new FormatError(path, `metadata 'meta' is not JSON (${(e as Error).message})`);
  }
  if (digest === 'absent') {
    warn(
      `${path} has no data digest (written by an older carp-kit): its tensor data cannot be verified`,
    );
  }
  return {
    meta,
    tensors,
    optimizerIterations: Number(metadata.optimizerIterations ?? 0),
  };
}

function assignInto(store: ParamStore, prefix: string, ck: LoadedCheckpoint, path: string): void {
  for (const name of store.names()) {
    const entry = ck.tensors.get(`${prefix}.${name}`);
    if (!entry) throw new Error(`${path}: missing tensor '${prefix}.${name}'`);
    const v = store.get(name);
    if (!tf.util.arraysEqual(entry.shape, v.shape)) {
      throw new Error(
        `${path}: '${prefix}.${name}' has shape [${entry.shape}], the model expects [${v.shape}]`,
      );
    }
    tf.tidy(() =>
      v.assign(tf.tensor(entry.data as Float32Array | Int32Array, entry.shape, v.dtype)),
    );
  }
}

/**
 * The saved gradient sums of an open accumulation group as tensors keyed by the student's
 * variable names (the caller owns them), or null at an optimiser-step boundary.
 */
export function accumulatedGradients(
  ck: LoadedCheckpoint,
  student: ParamStore,
): { sums: Map<string, Tensor>; count: number } | null {
  const count = ck.meta.accumulatedSteps ?? 0;
  if (count === 0) return null;
  const sums = new Map<string, Tensor>();
  for (const [key, entry] of ck.tensors) {
    if (!key.startsWith('accumulated.')) continue;
    const name = key.slice('accumulated.'.length);
    sums.set(student.varName(name), tf.tensor(entry.data as Float32Array, entry.shape));
  }
  return { sums, count };
}

/** Restores student, teacher and optimiser state from a loaded checkpoint. */
export async function restoreCheckpoint(
  ck: LoadedCheckpoint,
  o: { student: ParamStore; teacher: ParamStore; optimizer: LARS; path: string },
): Promise<void> {
  assignInto(o.student, 'student', ck, o.path);
  assignInto(o.teacher, 'teacher', ck, o.path);
  const weights: { name: string; tensor: Tensor }[] = [
    { name: 'iter', tensor: tf.scalar(ck.optimizerIterations, 'int32') },
  ];
  for (const [key, entry] of ck.tensors) {
    if (!key.startsWith('optimizer.')) continue;
    const name = key.slice('optimizer.'.length, -'.momentum'.length);
    weights.push({
      name: `${o.student.varName(name)}/momentum`,
      tensor: tf.tensor(entry.data as Float32Array, entry.shape),
    });
  }
  await o.optimizer.setWeights(weights);
  tf.dispose(weights.map((w) => w.tensor));
}
