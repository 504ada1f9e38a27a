/**
 * A data script's conversion killed part-way (SIGKILL of the child process) continues on
 * the next run from its progress record, and the prepared folder it ends with is
 * byte-identical to that of an uninterrupted run. The source is a small synthetic
 * ImageNet-style folder of PPM files (`imagenet.ts --source`), converted for real
 * (decode, bicubic centre-256).
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partialDir } from '../../src/data/prepared';
import { verifyPrepared } from '../../src/data/preparedRead';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-ds-resume-'));
const source = path.join(tmp, 'source');
const CLASSES = ['n01', 'n02', 'n03'];
const PER_CLASS = 40;

beforeAll(() => {
  for (const split of ['train', 'val']) {
    for (const [c, wnid] of CLASSES.entries()) {
      const dir = path.join(source, split, wnid);
      fs.mkdirSync(dir, { recursive: true });
      const n = split === 'train' ? 1 : PER_CLASS;
      for (let i = 0; i < n; i++) {
        const [w, h] = [260 + 7 * i, 300 - 3 * i];
        const px = Buffer.alloc(w * h * 3);
        for (let p = 0; p < px.length; p++) px[p] = (p * (c + 3) + i * 11 + (p >> 7)) & 255;
        const header = Buffer.from(`P6\n${w} ${h}\n255\n`, 'latin1');
        fs.writeFileSync(path.join(dir, `${wnid}_${i}.ppm`), Buffer.concat([header, px]));
      }
    }
  }
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** Runs imagenet.ts on the synthetic source; `killWhen` is polled and SIGKILLs the child. */
function convert(dataDir: string, killWhen?: () => boolean): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'data-scripts/imagenet.ts',
        '--source',
        source,
        '--skip-train',
        '--data-dir',
        dataDir,
        '--checkpoint-seconds',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += d));
    const timer = killWhen
      ? setInterval(() => {
          if (killWhen()) {
            clearInterval(timer);
            p.kill('SIGKILL');
          }
        }, 10)
      : undefined;
    p.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout });
    });
  });
}

/** Images recorded in the partial folder's progress record (0 when none). */
function recorded(dir: string): number {
  try {
    return JSON.parse(fs.readFileSync(path.join(partialDir(dir), 'progress.json'), 'utf8')).count;
  } catch {
    return 0;
  }
}

/** Every file of a folder with its sha256 (a deep comparison of 23 MB would crawl). */
function files(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [
        f,
        crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(dir, f)))
          .digest('hex'),
      ]),
  );
}

describe('data scripts: an interrupted conversion resumes', () => {
  it('killed after a progress record, the next run continues and matches an uninterrupted run', async () => {
    const once = path.join(tmp, 'once');
    const killed = path.join(tmp, 'killed');
    const val = (d: string) => path.join(d, 'imagenet', 'val');
    const total = CLASSES.length * PER_CLASS;

    const first = await convert(killed, () => recorded(val(killed)) >= 16);
    expect(first.signal).toBe('SIGKILL');
    const at = recorded(val(killed));
    expect(at).toBeGreaterThanOrEqual(16);
    expect(at).toBeLessThan(total); // killed before the end: there is something to resume
    expect(fs.existsSync(val(killed))).toBe(false);

    const second = await convert(killed);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(
      `${val(killed)}: resuming at image ${at} (progress record verified)`,
    );
    expect(fs.existsSync(partialDir(val(killed)))).toBe(false);

    const whole = await convert(once);
    expect(whole.code).toBe(0);
    expect(whole.stdout).not.toContain('resuming');
    const m = verifyPrepared(val(once));
    expect(m.count).toBe(total);
    expect(files(val(killed))).toEqual(files(val(once)));
  }, 240_000);
});
