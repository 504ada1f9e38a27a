/**
 * Long runs that lose nothing, tested with real processes: `carp pretrain` (the CLI, run
 * by Node with tsx) is killed with SIGKILL mid-epoch, or stopped with SIGTERM, then
 * resumed; every logged row (loss terms, accuracies, schedules) and the final weights
 * (the sha256 digest of the last checkpoint's tensor data) must equal those of an
 * uninterrupted run. Two trainers on one run directory: the second is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/interop/carpCheckpoint';
import { readMetrics } from '../../src/train/metricsLog';
import { LATEST_CHECKPOINT } from '../../src/train/trainer';
import { TINY_RUN_OVERRIDES } from '../helpers/fixtures';
import { PROJECT_ROOT } from '../helpers/golden';

// 64 images in micro-batches of 8, accumulation 2: 8 micro-steps per epoch, 2 epochs.
// A checkpoint after every micro-step (checkpointMinutes ≈ 0), so a kill finds one mid-epoch.
const ARGS = [
  'pretrain',
  '--preset',
  'fmnist-tiny',
  ...[
    ...TINY_RUN_OVERRIDES,
    'train.accumulation=2',
    'data.limit=64',
    'train.checkpointMinutes=0.00001',
  ].flatMap((s) => ['--set', s]),
];
const ENV = { ...process.env, CARP_BACKEND: 'wasm', CARP_THREADS: '1' };

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function carp(args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((res) =>
    child.on('exit', (code, signal) => setTimeout(() => res({ code, signal, stderr }), 50)),
  );
  return { child, exit };
}

async function waitFor(what: string, ok: () => boolean, exit: Promise<Exit>): Promise<void> {
  let ended = false;
  void exit.then(() => (ended = true));
  for (let i = 0; i < 1200; i++) {
    if (ok()) return;
    if (ended) throw new Error(`process ended before ${what}: ${(await exit).stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const loggedLines = (dir: string): number => {
  const p = join(dir, 'metrics.jsonl');
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').length - 1 : 0;
};

/** The logged rows without the timing fields. */
function rows(dir: string) {
  return readMetrics(join(dir, 'metrics.jsonl')).map(
    ({ imagesPerSecond: _ips, elapsed: _el, ...rest }) => rest,
  );
}

/** sha256 of the tensor data of the run's latest checkpoint (stored in its header). */
function weightsDigest(dir: string): string {
  const buf = readFileSync(join(dir, LATEST_CHECKPOINT));
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString());
  return header.__metadata__.data_sha256 as string;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'carp-kill-'));

describe('pretrain survives kills (real processes)', { timeout: 600_000 }, () => {
  let straight = '';
  beforeAll(async () => {
    straight = tmp();
    const r = await carp([...ARGS, '--out', straight]).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(rows(straight).map((m) => m.step)).toEqual([...Array(16).keys()]);
  }, 600_000);

  it('kill -9 mid-epoch, then --resume: every logged row and the final weights equal the uninterrupted run', async () => {
    const dir = tmp();
    const run = carp([...ARGS, '--out', dir]);
    await waitFor('5 logged steps', () => loggedLines(dir) >= 5, run.exit);
    run.child.kill('SIGKILL');
    expect((await run.exit).signal).toBe('SIGKILL');
    const at = readCheckpoint(join(dir, LATEST_CHECKPOINT)).meta.position;
    expect(at.epoch).toBe(0);
    expect(at.iteration).toBeGreaterThan(0); // mid-epoch
    expect(existsSync(join(dir, 'run.lock'))).toBe(true); // left behind by the kill

    const resumed = await carp(['pretrain', '--out', dir, '--resume']).exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      new RegExp(`stale lock of pid ${run.child.pid} on ${hostname()} .*taken over`),
    );
    expect(rows(dir)).toEqual(rows(straight));
    expect(weightsDigest(dir)).toBe(weightsDigest(straight));
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
    // The newest 3 mid-epoch checkpoints are kept beside latest and the epoch files.
    const files = readdirSync(join(dir, 'checkpoints')).sort();
    expect(files).toEqual([
      'epoch-0000.safetensors',
      'epoch-0001.safetensors',
      'latest.safetensors',
      'step-000000013.safetensors',
      'step-000000014.safetensors',
      'step-000000015.safetensors',
    ]);
  });

  it('SIGTERM: finishes the micro-step, saves, exits 143 saying how to resume; the resumed run matches', async () => {
    const dir = tmp();
    const run = carp([...ARGS, '--out', dir]);
    await waitFor('5 logged steps', () => loggedLines(dir) >= 5, run.exit);
    run.child.kill('SIGTERM');
    const r = await run.exit;
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(
      /SIGTERM: stopping once the current micro-step is done \(\d+ done so far\), then saving a checkpoint/,
    );
    expect(r.stderr).toMatch(
      new RegExp(
        `pretrain interrupted by SIGTERM after (\\d+)/16 micro-steps; checkpoint saved to ` +
          `.*latest\\.safetensors\\nresume with: carp pretrain --out ${dir} --resume`,
      ),
    );
    const steps = Number(/after (\d+)\/16/.exec(r.stderr)![1]);
    const ck = readCheckpoint(join(dir, LATEST_CHECKPOINT)).meta;
    expect(ck.position.globalStep).toBe(steps);
    expect(rows(dir).map((m) => m.step)).toEqual([...Array(steps).keys()]);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toBe('interrupted');
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);

    const resumed = await carp(['pretrain', '--out', dir, '--resume']).exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(rows(dir)).toEqual(rows(straight));
    expect(weightsDigest(dir)).toBe(weightsDigest(straight));
  });

  it('a second pretrain on the same --out is refused while the first runs', async () => {
    const dir = tmp();
    const first = carp([...ARGS, '--set', 'train.epochs=200', '--out', dir]);
    await waitFor('the first checkpoint', () => loggedLines(dir) >= 2, first.exit);
    const second = await carp(['pretrain', '--out', dir, '--resume']).exit;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`is in use by another pretrain \\(pid ${first.child.pid} on ${hostname()}, since`),
    );
    expect(first.child.exitCode).toBeNull(); // untouched, still training
    first.child.kill('SIGKILL');
    await first.exit;
  });
});
