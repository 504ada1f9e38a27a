/**
 * The frozen teacher every evaluation uses (§2.1, §8): from a carp-kit run (run
 * directory or `.safetensors` checkpoint) or from an official PyTorch `.pth` (the
 * `teacher` entry, with `module.`/`backbone.` stripped, §8).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf';
import { networkSpec } from '../config/derived';
import { withEarlierLoss } from '../config/earlierConfigs';
import { validateConfig } from '../config/validate';
import { PAPER_DEFAULTS, type CarpConfig } from '../config/schema';
import { checkCompleteness, loadCarpNetwork, type Completeness } from './loadNetwork';
import { FormatError } from '../util/formatError';
import type { HeadSpec } from '../models/carpHead';
import { createCarpParams } from '../models/carpNetwork';
import type { ParamStore } from '../models/params';
import type { ResNetSpec } from '../models/resnet';
import { createRng } from '../random';
import { LATEST_CHECKPOINT, readCheckpoint } from './carpCheckpoint';

export interface LoadedTeacher {
  params: ParamStore;
  /** The head is null for backbone-only weights (e.g. a torchvision state_dict). */
  spec: { backbone: ResNetSpec; head: HeadSpec | null };
  /** The run's config when the checkpoint is ours; null for PyTorch files. */
  config: CarpConfig | null;
  /** Identifies the weights in feature-cache manifests (path + step). */
  checkpointId: string;
  /** The checkpoint file actually read. */
  path: string;
  /**
   * Non-essential keys the file lacked, left as initialised (`num_batches_tracked`, head
   * keys when only the backbone is needed): evaluation records them with its results.
   * A file lacking essential keys is refused (`IncompleteCheckpointError`).
   */
  missing: string[];
  /** Keys of the file that the network does not use (e.g. torchvision's `fc.*`). */
  unexpected: string[];
}

export interface LoadTeacherOptions {
  /**
   * What must be complete: `backbone` (default; frozen-feature protocols) or `network`
   * (protocols that use the CARP head, e.g. prototype clusters).
   */
  need?: Completeness;
}

/**
 * Fills keys that only steer how a run is carried out (not what it computes) and that
 * checkpoints of older versions lack, so their config still validates.
 */
function withOperationalDefaults(config: unknown): unknown {
  const c = config as { train?: Record<string, unknown> } | null;
  if (!c || typeof c.train !== 'object' || c.train === null) return config;
  if ('checkpointMinutes' in c.train) return config;
  return { ...c, train: { ...c.train, checkpointMinutes: PAPER_DEFAULTS.train.checkpointMinutes } };
}

/** Resolves a run directory to its latest checkpoint; files are returned as given. */
export function resolveCheckpointPath(pathOrRunDir: string): string {
  if (!existsSync(pathOrRunDir)) throw new Error(`checkpoint ${pathOrRunDir} does not exist`);
  if (statSync(pathOrRunDir).isDirectory()) {
    const p = join(pathOrRunDir, LATEST_CHECKPOINT);
    if (!existsSync(p))
      throw new Error(`${pathOrRunDir} is a directory without ${LATEST_CHECKPOINT}`);
    return p;
  }
  return pathOrRunDir;
}

/**
 * Loads the teacher network (parameters + BN running statistics) for evaluation: refuses
 * a checkpoint whose needed part is incomplete, warns about (and returns) the rest.
 */
export function loadTeacher(pathOrRunDir: string, opts: LoadTeacherOptions = {}): LoadedTeacher {
  const path = resolveCheckpointPath(pathOrRunDir);
  const need = opts.need ?? 'backbone';
  if (path.endsWith('.pth') || path.endsWith('.pt')) {
    const net = loadCarpNetwork(path, {
      entry: 'teacher',
      label: 'teacher',
      inertGlobals: true,
      need,
    });
    return {
      params: net.params,
      spec: net.spec,
      config: null,
      checkpointId: `${path}#teacher`,
      path,
      missing: net.missing,
      unexpected: net.unexpected,
    };
  }
  const ck = readCheckpoint(path);
  const config = validateConfig(withEarlierLoss(withOperationalDefaults(ck.meta.config)), path);
  const spec = networkSpec(config.model);
  const params = createCarpParams(spec, createRng(0), 'teacher', false);
  const ours = new Set(params.names());
  const unexpected = [...ck.tensors.keys()]
    .filter((k) => k.startsWith('teacher.') && !ours.has(k.slice('teacher.'.length)))
    .map((k) => k.slice('teacher.'.length));
  const missing = params.names().filter((n) => !ck.tensors.has(`teacher.${n}`));
  try {
    checkCompleteness(path, missing, unexpected, need);
    for (const name of params.names()) {
      const entry = ck.tensors.get(`teacher.${name}`);
      if (!entry) continue;
      const v = params.get(name);
      if (!tf.util.arraysEqual(entry.shape, v.shape)) {
        throw new FormatError(
          path,
          `'teacher.${name}' has shape [${entry.shape}], expected [${v.shape}] from its config`,
        );
      }
      tf.tidy(() =>
        v.assign(tf.tensor(entry.data as Float32Array | Int32Array, entry.shape, v.dtype)),
      );
    }
  } catch (e) {
    params.dispose();
    throw e;
  }
  return {
    params,
    spec,
    config,
    checkpointId: `${path}@step${ck.meta.position.globalStep}`,
    path,
    missing,
    unexpected,
  };
}
