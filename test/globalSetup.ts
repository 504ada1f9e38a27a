/**
 * One temporary directory per test run: TMPDIR points into it for every test file and
 * every process a test starts (the CLI, Python peers, Jupyter), and it is removed when
 * the run ends. Tests make hundreds of temporary folders (runs, checkpoints, prepared
 * datasets); a failing or killed test cannot leave them behind in the system's /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'carp-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
