/**
 * Archive extraction for the data scripts with the system `tar` / `unzip` (Debian base
 * tools), into a temporary sibling folder renamed into place when complete — an
 * interrupted extraction leaves nothing that looks finished.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commitDir, tempSibling } from '../../src/util/atomic';

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      `${what}: ${missing ? `'${cmd}' is not installed (apt-get install ${cmd})` : r.error.message}`,
    );
  }
  if (r.status !== 0)
    throw new Error(
      `${what}: ${cmd} exited with ${r.status}: ${r.stderr.toString().trim().slice(0, 500)}`,
    );
}

/** Extracts a .tar, .tar.gz/.tgz or .zip archive into `dest` (skipped when `dest` exists). */
export function extract(archive: string, dest: string): 'present' | 'extracted' {
  if (fs.existsSync(dest)) return 'present';
  if (!fs.existsSync(archive)) throw new Error(`${archive} not found`);
  const tmp = tempSibling(dest);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const lower = archive.toLowerCase();
    if (lower.endsWith('.zip'))
      run('unzip', ['-q', '-o', archive, '-d', tmp], `extracting ${archive}`);
    else if (/\.(tar|tar\.gz|tgz|tar\.bz2|tar\.xz)$/.test(lower))
      run('tar', ['-xf', archive, '-C', tmp], `extracting ${archive}`);
    else if (lower.endsWith('.gz')) {
      // a single gzipped file (e.g. iNat annotations .json.gz)
      run(
        'sh',
        ['-c', `gzip -dc "$0" > "$1"`, archive, path.join(tmp, path.basename(archive, '.gz'))],
        `gunzip ${archive}`,
      );
    } else
      throw new Error(`${archive}: unknown archive type (expected .tar, .tar.gz, .tgz or .zip)`);
    commitDir(tmp, dest, false);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return 'extracted';
}

/** The first path under `root` (breadth-first, ≤ `depth` levels) whose name is `name`. */
export function findUnder(root: string, name: string, depth = 4): string | null {
  let level = [root];
  for (let d = 0; d <= depth && level.length > 0; d++) {
    const next: string[] = [];
    for (const dir of level) {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.name === name) return p;
        if (e.isDirectory()) next.push(p);
      }
    }
    level = next.sort();
  }
  return null;
}
