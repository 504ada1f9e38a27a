/**
 * Atomic file and folder writes (a failed write leaves no partial output).
 * Content goes to a temporary sibling first and is renamed into place; rename within one
 * folder is atomic on POSIX file systems.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A unique temporary sibling path of `target` (same folder, so rename stays atomic). */
export function tempSibling(target: string, tag = 'tmp'): string {
  const dir = path.dirname(path.resolve(target));
  const base = path.basename(target);
  return path.join(dir, `.${base}.${tag}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
}

/** `tempSibling`'s names: `.<base>.<tag>-<pid>-<8 hex>`. */
const TEMP_NAME = /^\..+\.[a-z]+-(\d+)-[0-9a-f]{8}$/;

/** Whether a process with this id exists (ours, or another user's: EPERM). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary siblings in `dir` left by writers that no longer run (a process
 * killed between its write and its rename); a live writer's are kept. Returns the names
 * removed.
 */
export function removeStaleTemps(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = TEMP_NAME.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes `data` to `file` atomically (temp file + fsync + rename). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = tempSibling(file);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes `value` as pretty JSON atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Moves a finished temporary folder to `target`. With `overwrite`, an existing target is
 * first renamed aside and removed only after the new folder is in place.
 */
export function commitDir(tmpDir: string, target: string, overwrite: boolean): void {
  if (fs.existsSync(target)) {
    if (!overwrite) {
      throw new Error(`${target} already exists (pass overwrite to replace it)`);
    }
    const old = tempSibling(target, 'old');
    fs.renameSync(target, old);
    try {
      fs.renameSync(tmpDir, target);
    } catch (e) {
      fs.renameSync(old, target); // put the previous version back
      throw e;
    }
    fs.rmSync(old, { recursive: true, force: true });
    return;
  }
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  fs.renameSync(tmpDir, target);
}
