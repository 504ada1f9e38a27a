/**
 * One trainer per run directory: `run.lock` holds the holder's pid, host and start time.
 * Two `pretrain`s on the same directory would interleave checkpoints and metrics, so the
 * second is refused with the holder named. A lock whose process is gone (a `kill -9`, a
 * crashed machine on the same host) is stale: it is reported and taken over.
 *
 * Creation is exclusive (`wx`); a take-over first renames the stale file aside and checks
 * that what it moved is still the stale lock, so two processes that both found it stale
 * cannot both end up holding the directory.
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempSibling } from '../util/atomic';
import { warn } from '../util/warn';

export const LOCK_FILE = 'run.lock';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

/** The directory is held by a live process. */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${dir} is in use by another pretrain (pid ${holder.pid} on ${holder.host}, since ` +
        `${holder.startedAt}); wait for it to finish or stop it` +
        (holder.host === hostname()
          ? ''
          : `; if that process is gone, delete ${join(dir, LOCK_FILE)}`),
    );
  }
}

/** Whether process `pid` exists on this host (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.host === 'string' ? h : null;
  } catch {
    return null; // unreadable or half-written: treated as stale
  }
}

export interface RunLock {
  readonly file: string;
  /** Removes the lock if it is still ours. */
  release(): void;
}

/** Takes the lock of `dir` (created if needed) or throws `RunLockedError`. */
export function acquireRunLock(dir: string): RunLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
  const text = JSON.stringify(me) + '\n';
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      fs.writeFileSync(file, text, { flag: 'wx' });
      return {
        file,
        release() {
          const h = readHolder(file);
          if (h && h.pid === me.pid && h.host === me.host) fs.rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(file);
    if (holder && (holder.host !== me.host || processAlive(holder.pid))) {
      throw new RunLockedError(dir, holder);
    }
    // Stale: move it aside, and make sure what moved is the stale lock, not a fresh one.
    const aside = tempSibling(file, 'stale');
    try {
      fs.renameSync(file, aside);
    } catch {
      continue; // someone else moved it first: try again
    }
    const moved = readHolder(aside);
    if (moved && (moved.host !== me.host || processAlive(moved.pid))) {
      // A live holder's lock was moved: put it back unless a third process got in.
      try {
        fs.linkSync(aside, file);
      } catch {
        /* the directory is contended; the loop reports it */
      }
      fs.rmSync(aside, { force: true });
      continue;
    }
    fs.rmSync(aside, { force: true });
    warn(
      holder
        ? `${file}: stale lock of pid ${holder.pid} on ${holder.host} (since ${holder.startedAt}; ` +
            `that process is gone), taken over`
        : `${file}: unreadable lock file, taken over`,
    );
  }
  const holder = readHolder(file);
  throw holder
    ? new RunLockedError(dir, holder)
    : new Error(`${file}: could not take the lock (the directory is contended)`);
}
