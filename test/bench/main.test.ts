/**
 * Smoke test of the bench plumbing (src/bench/main.ts) at tiny sizes: scenario selection,
 * rows, target checks, results file and table. Not a benchmark: no figure is checked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkTargets,
  formatReport,
  runBench,
  runScenario,
  SCENARIOS,
  selectScenarios,
  type BenchReport,
} from '../../src/bench/main';
import { sweepCase } from '../../src/bench/sweep';
import { OurCarpStep } from '../../src/bench/ourCarpStep';
import type { BenchRow } from '../../src/bench/types';
import { backboneFlops, TorchPeer } from '../../src/bench/trainStepBench';
import { resnetSpec } from '../../src/models/resnet';
import { tf } from '../../src/backend/tf';
import { activeNativeKernels } from '../../src/backend/wasmKernels';

const dir = mkdtempSync(join(tmpdir(), 'carp-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench plumbing', () => {
  it('lists unique scenario ids and rejects unknown ones before running anything', async () => {
    const ids = SCENARIOS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    await expect(runBench({ only: ['nope'], out: join(dir, 'x.json') })).rejects.toThrow(
      /unknown scenario\(s\) nope/,
    );
    await expect(runScenario('nope')).rejects.toThrow(/unknown scenario 'nope'/);
  });

  it('runs selected scenarios in-process, writes results.json and prints the table', async () => {
    const out = join(dir, 'results.json');
    let printed = '';
    const report = await runBench({
      only: ['augment,memory'],
      noPeer: true,
      smoke: true,
      isolate: false,
      out,
      print: (t) => (printed += t),
    });
    const saved = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(saved.scenarios).toEqual(['augment', 'memory']);
    expect(saved.failures).toEqual([]);
    expect(saved.rows.map((r) => r.scenario)).toEqual([
      'augment-cifar10-r18',
      'augment-fmnist-small',
      'memory-fmnist-tiny-tensors-2-vs-6',
      'memory-fmnist-tiny-rss-2-vs-6',
    ]);
    for (const r of saved.rows) {
      expect(r.peer).toBeNull();
      expect(r.speedRatio).toBeNull();
      expect(Number.isFinite(r.ours)).toBe(true);
    }
    expect(report.rows[0].notes).toContain('peer skipped (noPeer)');
    // No tensor leaks over the smoke steps.
    expect(saved.rows[2].ours).toBe(0);
    expect(saved.targets.find((t) => t.scenario.includes('tensors'))?.met).toBe(true);
    expect(saved.machine.cores).toBeGreaterThan(0);
    expect(printed).toContain('augment-fmnist-small');
    expect(printed).toContain(`results: ${out}`);
  });

  it('keeps the width sweep out of the default run and selects it by group or id', () => {
    const all = SCENARIOS.map((s) => s.id);
    const sweep = selectScenarios(['sweep']).map((s) => s.id);
    const size = (px: number) =>
      [8, 16, 32, 64].flatMap((w) => [`sweep-step-w${w}-${px}px`, `sweep-features-w${w}-${px}px`]);
    expect(sweep).toEqual([
      ...size(28),
      ...size(32),
      'sweep-step-w16-28px-k65536',
      'sweep-profile-w16-28px',
      'sweep-profile-w64-32px',
    ]);
    const defaults = selectScenarios([]).map((s) => s.id);
    expect(defaults).toEqual(all.filter((id) => !id.startsWith('sweep-')));
    expect(defaults).toContain('train-step-cifar10-r18');
    // Pieces by id, in SCENARIOS order, mixed with default scenarios.
    expect(selectScenarios(['sweep-features-w64-32px', 'knn']).map((s) => s.id)).toEqual([
      'knn',
      'sweep-features-w64-32px',
    ]);
    expect(() => selectScenarios(['sweeps'])).toThrow(
      /unknown scenario\(s\) sweeps .*groups: sweep/,
    );
  });

  it('builds each sweep row on the stated network, crops and batch', () => {
    const c = sweepCase('step', 64, 32);
    expect(c).toMatchObject({ id: 'sweep-step-w64-32px', batch: 64, accumulation: 2 });
    const ours = new OurCarpStep(c);
    try {
      const { model, crops } = ours.cfg;
      expect([model.width, model.cifarStem, model.inChannels]).toEqual([64, true, 3]);
      expect([model.numPrototypes, model.partitionSize, model.hiddenDim]).toEqual([4096, 512, 512]);
      expect([crops.globalSize, crops.localSize, crops.numLocal]).toEqual([32, 16, 4]);
      expect(ours.views.map((v) => v.shape)).toEqual([
        ...[0, 1].map(() => [64, 32, 32, 3]),
        ...[0, 1, 2, 3].map(() => [64, 16, 16, 3]),
      ]);
    } finally {
      ours.dispose();
    }
    const f = sweepCase('step', 16, 28, 65536);
    expect(f).toMatchObject({ batch: 32, accumulation: 4 });
    expect(sweepCase('step', 32, 32)).toMatchObject({ batch: 128, accumulation: 1 });
    const small = new OurCarpStep(f);
    try {
      const { model, crops } = small.cfg;
      expect([model.width, model.inChannels, model.numPrototypes]).toEqual([16, 1, 65536]);
      expect([crops.globalSize, crops.localSize, crops.numLocal]).toEqual([28, 14, 4]);
    } finally {
      small.dispose();
    }
  });

  it('runs a sweep scenario at smoke size: 1- and 2-thread rows with the memory peak', async () => {
    const { rows } = await runScenario('sweep-step-w8-28px', { smoke: true, noPeer: true });
    expect(rows.map((r) => r.scenario)).toEqual(['sweep-step-w8-28px-t1', 'sweep-step-w8-28px-t2']);
    for (const r of rows)
      expect(r.notes.some((n) => /^memory peak: ours \d+ MiB RSS/.test(n))).toBe(true);
    const { profiles } = await runScenario('sweep-profile-w16-28px', { smoke: true });
    const k = profiles[0].kernels!;
    // Every convolution of the step is a kernel call; the shares are of the step's wall time.
    expect(k.kernels.map((x) => x.name)).toContain('Conv2D');
    expect(k.kernels.map((x) => x.name)).toContain('Conv2DBackpropFilter');
    expect(k.kernels.map((x) => x.name)).not.toContain('unnamed scope');
    expect(k.kernels.reduce((a, x) => a + x.share, 0)).toBeLessThanOrEqual(1);
    expect(k.peakTensorBytes).toBeGreaterThan(0);
  });

  it.skipIf(TorchPeer.unavailable() !== null)(
    'sweep rows run the peer in its faster layout and state its settings',
    async () => {
      const { rows } = await runScenario('sweep-features-w8-32px', { smoke: true });
      expect(rows.map((r) => r.scenario)).toEqual([
        'sweep-features-w8-32px-t1',
        'sweep-features-w8-32px-t2',
      ]);
      for (const r of rows) {
        expect(r.peer).toBeGreaterThan(0);
        const layout = r.notes.find((n) => n.startsWith('peer layout '))!;
        const m = /^peer layout (\w+), .*nchw ([\d.]+) s, channels_last ([\d.]+) s$/.exec(layout)!;
        const [nchw, cl] = [Number(m[2]), Number(m[3])];
        // The chosen layout's probe was the faster one (ties print alike).
        expect(m[1] === 'nchw' ? nchw <= cl : cl <= nchw).toBe(true);
        expect(r.notes.some((n) => n.includes('allocator glibc malloc'))).toBe(true);
        expect(r.notes.some((n) => /peer \d+ MiB RSS/.test(n))).toBe(true);
      }
    },
  );

  it('formats missing peers and ratios', () => {
    const text = formatReport({
      startedAt: '',
      seconds: 1,
      gitSha: null,
      machine: { cpu: 'x', cores: 2 },
      scenarios: ['a'],
      rows: [
        {
          scenario: 'a-t2',
          unit: 'images/s',
          higherIsBetter: true,
          ours: 2,
          peer: 4,
          peerName: 'p',
          speedRatio: 0.5,
          backend: 'wasm',
          notes: ['n1'],
        },
      ],
      profiles: [],
      failures: [{ scenario: 'b', error: 'boom' }],
      targets: [{ scenario: 'a-t2', target: 'ratio ≥ 0.4', met: true }],
    });
    expect(text).toMatch(/a-t2 +images\/s +2\.00 +4\.00 +0\.50×/);
    expect(text).toContain('met   a-t2: ratio ≥ 0.4');
    expect(text).toContain('a-t2: n1');
    expect(text).toContain('FAILED b: boom');
  });

  it('checks the targets, and refuses to judge a 2-thread peer slower than its 1-thread run', () => {
    const row = (scenario: string, ours: number, peer: number, higher = true): BenchRow => ({
      scenario,
      unit: '',
      higherIsBetter: higher,
      ours,
      peer,
      peerName: '',
      speedRatio: higher ? ours / peer : peer / ours,
      backend: 'wasm',
      notes: [],
    });
    const t = checkTargets([
      row('train-step-a-t1', 1, 4),
      row('train-step-a-t2', 1, 6), // faster than its 1-thread run: judged
      row('train-step-b-t1', 1, 4),
      row('train-step-b-t2', 1, 3), // slower than its 1-thread run: busy cores
      row('knn-x', 1.4, 1, false),
      row('kmeans-x', 1.6, 1, false),
      row('sweep-step-w8-28px-t1', 1, 1.01), // the sweep asks ≥ 1.0 at 1 thread…
      row('sweep-step-w8-28px-t2', 2, 2), // …and at 2
      row('sweep-features-w8-28px-t1', 1, 1),
      row('sweep-features-w8-28px-t2', 1, 0.9), // busy cores
    ]);
    expect(t.map((x) => x.met)).toEqual([false, null, true, false, false, true, true, null]);
    expect(t[1].note).toMatch(/busy cores/);
    expect(t[4].target).toBe('speed ratio ≥ 1.0 (PyTorch, 1 thread)');
    expect(t[5].target).toBe('speed ratio ≥ 1.0 (PyTorch, 2 threads)');
  });

  it('counts ResNet-18 CIFAR forward FLOPs as the known ≈0.56 GFLOP at 32 px', () => {
    const f = backboneFlops(resnetSpec('resnet18', { cifarStem: true }), 32);
    expect(f / 2 / 1e6).toBeCloseTo(555.4, 0); // multiply-adds, convs only
  });

  it('train step: ours runs each row at the peer thread count, plus the in-run pure-wasm baseline', async () => {
    const { rows, profiles } = await runScenario('train-step-cifar10-r18', {
      smoke: true,
      noPeer: true,
    });
    const native = activeNativeKernels() !== undefined;
    expect(rows.map((r) => r.scenario)).toEqual([
      'train-step-cifar10-r18-t1',
      'train-step-cifar10-r18-t2',
      ...(native ? ['train-step-cifar10-r18-native-vs-pure-wasm'] : []),
    ]);
    expect(profiles).toHaveLength(1);
    for (const [i, n] of [1, 2].entries()) {
      const note = rows[i].notes.find((x) => x.startsWith('ours:'))!;
      expect(note).toMatch(
        native ? new RegExp(`^ours: ${n} threads? \\(tfjs wasm \\+ native`) : /^ours: 1 thread/,
      );
      expect(rows[i].backend).toBe(native ? 'wasm+native' : tf.getBackend());
    }
    if (native) {
      const base = rows[2];
      expect(base.peer).toBeGreaterThan(0);
      // Ours in the baseline row is the fastest native step of the last thread count.
      expect(base.ours).toBe(rows[1].ours);
      expect(base.peerName).toMatch(/pure-wasm kernels/);
      // The baseline switched the native kernels off only for its own step.
      expect(activeNativeKernels()).toBeDefined();
    }
  });

  it.skipIf(TorchPeer.unavailable() !== null)(
    'talks to the PyTorch peer (train step at smoke size, same loss scale as ours)',
    async () => {
      const { rows } = await runScenario('train-step-fmnist-small', { smoke: true });
      expect(rows.map((r) => r.scenario)).toEqual([
        'train-step-fmnist-small-t1',
        'train-step-fmnist-small-t2',
      ]);
      for (const r of rows) {
        expect(r.peer).toBeGreaterThan(0);
        expect(r.speedRatio).toBeGreaterThan(0);
        const loss = r.notes.find((n) => n.startsWith('loss after'))!;
        const [ours, peer] = [...loss.matchAll(/(\d+\.\d+)/g)].map((m) => Number(m[1]));
        // K 64, P 16 at initialisation: both near ln 16 ≈ 2.77.
        expect(Math.abs(ours - Math.log(16))).toBeLessThan(0.05);
        expect(Math.abs(peer - Math.log(16))).toBeLessThan(0.05);
      }
    },
  );
});
