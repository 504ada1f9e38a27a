/**
 * The run record `run.json` of a run directory: what produced a run — git sha, package
 * versions, backend, seed, start/end — so a result can be traced and reproduced
 * (the reference copies its scripts and args into the log dir for the same reason).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { writeFileAtomic } from './atomic';
import { FormatError } from './formatError';

export interface RunRecord {
  gitSha: string | null;
  gitDirty: boolean | null;
  packages: Record<string, string | null>;
  node: string;
  platform: string;
  cpus: number;
  backend: string;
  seed: number;
  preset: string | null;
  command: string[];
  startedAt: string;
  endedAt: string | null;
  /** `interrupted`: stopped by SIGINT/SIGTERM after saving a checkpoint (resumable). */
  status: 'running' | 'completed' | 'failed' | 'interrupted';
  /** Number of times this run was resumed from a checkpoint. */
  resumes: number;
  /** The training images: how many, and how a `limit` drew them (absent: the whole split). */
  data?: {
    name: string;
    split: string;
    count: number;
    subset: { count: number; of: number; seed: number; rule: string } | null;
    /** How the stored pixels were made from the originals (prepared splits); null: raw. */
    preprocessing?: string | null;
  };
}

/** The project root (two levels above dist/train or src/train). */
export const PACKAGE_ROOT = join(__dirname, '..', '..');

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

function versionOf(pkg: string): string | null {
  try {
    const path = join(PACKAGE_ROOT, 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

const TRACKED_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-backend-webgpu',
  'faiss-node',
];

export function createRunRecord(o: {
  backend: string;
  seed: number;
  preset: string | null;
  command?: string[];
}): RunRecord {
  const status = git(['status', '--porcelain']);
  return {
    gitSha: git(['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
    packages: {
      'carp-kit': versionOf('carp-kit'),
      ...Object.fromEntries(TRACKED_PACKAGES.map((p) => [p, versionOf(p)])),
    },
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.cpus()[0]?.model ?? ''}`.trim(),
    cpus: os.cpus().length,
    backend: o.backend,
    seed: o.seed,
    preset: o.preset,
    command: o.command ?? process.argv.slice(1),
    startedAt: new Date().toISOString(),
    endedAt: null,
    status: 'running',
    resumes: 0,
  };
}

export function writeRunRecord(runDir: string, record: RunRecord): void {
  writeFileAtomic(join(runDir, 'run.json'), JSON.stringify(record, null, 2) + '\n');
}

/**
 * Reads `run.json`. A file that is not a run record (corrupt, truncated, edited) is a
 * `FormatError` of its own that says how to go on, so it is never confused with — or
 * hides — a training error.
 */
export function readRunRecord(runDir: string): RunRecord {
  const path = join(runDir, 'run.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read run record ${path}: ${(e as Error).message}`);
  }
  let r: RunRecord;
  try {
    r = JSON.parse(text) as RunRecord;
  } catch (e) {
    throw corrupt(path, `not JSON (${(e as Error).message})`);
  }
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.status !== 'string' ||
    !Number.isInteger(r.resumes)
  ) {
    throw corrupt(path, 'not a run record (expected an object with status and resumes)');
  }
  return r;
}

function corrupt(path: string, what: string): FormatError {
  return new FormatError(
    path,
    `run record is corrupt: ${what}; move it aside to continue (a new record is started)`,
  );
}
