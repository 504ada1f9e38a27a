/**
 * The frozen teacher every evaluation uses (§2.1, §8): from a carp-kit run (run
 * directory or `.safetensors` checkpoint) or from an official PyTorch `.pth` (the
 * `teacher` entry, with `module.`/`backbone.` stripped, §8).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf';
import { networkSpec } from '../config/derived';
import { validateConfig } from '../config/validate';
import type { CarpConfig } from '../config/schema';
import { loadCarpNetwork } from './loadNetwork';
import type { HeadSpec } from '../models/carpHead';
import { createCarpParams } from '../models/multiCrop';
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
  /** Keys the file lacked (PyTorch files), for the report. */
  missing: string[];
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

/** Loads the teacher network (parameters + BN running statistics) for evaluation. */
export function loadTeacher(pathOrRunDir: string): LoadedTeacher {
  const path = resolveCheckpointPath(pathOrRunDir);
  if (path.endsWith('.pth') || path.endsWith('.pt')) {
    const net = loadCarpNetwork(path, { entry: 'teacher', label: 'teacher', inertGlobals: true });
    return {
      params: net.params,
      spec: net.spec,
      config: null,
      checkpointId: `${path}#teacher`,
      path,
      missing: net.missing,
    };
  }
  const ck = readCheckpoint(path);
  const config = validateConfig(ck.meta.config);
  const spec = networkSpec(config.model);
  const params = createCarpParams(spec, createRng(0), 'teacher', false);
  try {
    for (const name of params.names()) {
      const entry = ck.tensors.get(`teacher.${name}`);
      if (!entry) throw new Error(`${path}: missing tensor 'teacher.${name}'`);
      const v = params.get(name);
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
    missing: [],
  };
}
