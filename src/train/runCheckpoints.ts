/**
 * Where and when a run writes its checkpoints (`checkpoints/` of the run directory):
 *
 * - `latest.safetensors`: rewritten at every save; what `--resume` reads;
 * - `epoch-XXXX.safetensors` (0-based epoch): every `checkpointEvery` epochs and the last,
 *   as the reference's `checkpoint%04d.pth`;
 * - `step-XXXXXXXXX.safetensors` (global micro-step): mid-epoch, every `checkpointMinutes`
 *   and when a stop is requested (SIGINT/SIGTERM); the newest `keepSteps` are kept.
 *
 * Each save encodes once and writes one file atomically (temp + fsync + rename); the other
 * names are hard links to it, renamed into place, so a kill at any moment leaves every
 * name either at its previous checkpoint or at the new one, never half-written.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { LATEST_CHECKPOINT } from '../interop/carpCheckpoint';
import { removeStaleTemps, tempSibling, writeFileAtomic } from '../util/atomic';

/** Path (relative to the run directory) of the numbered checkpoint of 0-based epoch `e`. */
export function epochCheckpointName(e: number): string {
  return join('checkpoints', `epoch-${String(e).padStart(4, '0')}.safetensors`);
}

/** Path (relative to the run directory) of the mid-epoch checkpoint before micro-step `t`. */
export function stepCheckpointName(t: number): string {
  return join('checkpoints', `step-${String(t).padStart(9, '0')}.safetensors`);
}

const STEP_FILE = /^step-\d+\.safetensors$/;

/** Writes `bytes` to every path: atomically to the first, as hard links to the others. */
export function writeLinked(bytes: Uint8Array, paths: string[]): void {
  const [first, ...rest] = paths;
  writeFileAtomic(first, bytes);
  for (const p of rest) {
    const tmp = tempSibling(p, 'link');
    try {
      fs.linkSync(first, tmp);
      fs.renameSync(tmp, p);
    } catch {
      fs.rmSync(tmp, { force: true });
      writeFileAtomic(p, bytes); // file systems without hard links
    }
  }
}

export class RunCheckpoints {
  readonly latest: string;
  private lastSave: number;

  constructor(
    readonly outDir: string,
    /** Minutes between mid-epoch checkpoints; 0 = epoch ends only. */
    private readonly minutes: number,
    private readonly keepSteps = 3,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.latest = join(outDir, LATEST_CHECKPOINT);
    this.lastSave = now();
    fs.mkdirSync(join(outDir, 'checkpoints'), { recursive: true });
    // A run killed while writing a checkpoint leaves its temporary file behind.
    removeStaleTemps(join(outDir, 'checkpoints'));
    removeStaleTemps(outDir);
  }

  /** Whether a mid-epoch checkpoint is due (the time since the last save reached `minutes`). */
  due(): boolean {
    return this.minutes > 0 && this.now() - this.lastSave >= this.minutes * 60_000;
  }

  /** End of epoch `epoch`: latest, plus the numbered file when `numbered`. */
  saveEpoch(bytes: Uint8Array, epoch: number, numbered: boolean): string {
    const paths = numbered
      ? [join(this.outDir, epochCheckpointName(epoch)), this.latest]
      : [this.latest];
    return this.write(bytes, paths);
  }

  /** Mid-epoch, before micro-step `globalStep`: a step file and latest; old step files pruned. */
  saveStep(bytes: Uint8Array, globalStep: number): string {
    const path = this.write(bytes, [
      join(this.outDir, stepCheckpointName(globalStep)),
      this.latest,
    ]);
    this.prune();
    return path;
  }

  /** Only latest (the end of a `stopAfterSteps` run). */
  saveLatest(bytes: Uint8Array): string {
    return this.write(bytes, [this.latest]);
  }

  private write(bytes: Uint8Array, paths: string[]): string {
    writeLinked(bytes, paths);
    this.lastSave = this.now();
    return paths[0];
  }

  private prune(): void {
    const dir = join(this.outDir, 'checkpoints');
    const steps = fs
      .readdirSync(dir)
      .filter((f) => STEP_FILE.test(f))
      .sort();
    for (const f of steps.slice(0, Math.max(0, steps.length - this.keepSteps))) {
      fs.rmSync(join(dir, f), { force: true });
    }
  }
}
