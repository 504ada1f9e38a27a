/**
 * A small synthetic run directory (architecture §3.4 layout) for report tests: metrics of
 * 60 steps, config, run record and eval files of each shape the report draws.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function makeSyntheticRun(parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, 'carp-run-'));
  const steps = 60;
  const lines: string[] = [];
  for (let step = 0; step < steps; step++) {
    const t = step / steps;
    const cos = 0.5 * (1 + Math.cos(Math.PI * t));
    lines.push(
      JSON.stringify({
        step,
        epoch: Math.floor(step / 20),
        loss: 6 * Math.exp(-3 * t) + 1,
        consistency: 4 * Math.exp(-3 * t) + 0.5,
        entropy: 2 * Math.exp(-3 * t) + 0.5,
        lr: step < 10 ? (0.3 * step) / 10 : 0.3 * cos,
        momentum: 1 - 0.01 * cos,
        wd: 1e-6,
      }),
    );
  }
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ preset: 'fmnist-tiny', numPrototypes: 64, partitionSize: 16 }),
  );
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      gitSha: 'abc1234',
      backend: 'wasm',
      seed: 0,
      startTime: '2025-01-01T00:00:00Z',
      versions: { node: 'v20', tfjs: '4.22.0' },
    }),
  );
  mkdirSync(join(dir, 'eval'));
  const knn = {
    protocol: 'knn',
    dataset: 'fmnist',
    results: {
      1: { top1: 0.61, top5: 0.8 },
      10: { top1: 0.7, top5: 0.93 },
      20: { top1: 0.71, top5: 0.95 },
      200: { top1: 0.66, top5: 0.96 },
    },
  };
  writeFileSync(join(dir, 'eval', 'knn.json'), JSON.stringify(knn));
  writeFileSync(
    join(dir, 'eval', 'linear.json'),
    JSON.stringify({
      protocol: 'linear',
      top1: 0.74,
      confusion: [
        [8, 1, 1],
        [2, 7, 1],
        [0, 1, 9],
      ],
      classNames: ['tee', 'shoe', 'bag'],
    }),
  );
  writeFileSync(
    join(dir, 'eval', 'copydays.json'),
    JSON.stringify({
      protocol: 'copy detection',
      mAP: 0.83,
      precisionRecall: {
        precision: [1, 0.5, 2 / 3],
        recall: [0.5, 0.5, 1],
        averagePrecision: 0.83,
      },
    }),
  );
  writeFileSync(
    join(dir, 'eval', 'prototypes.json'),
    JSON.stringify({ prototypeCounts: Array.from({ length: 64 }, (_, k) => (k * 7) % 13) }),
  );
  return dir;
}
