/**
 * TensorBoard event files against an independent Python writer/reader
 * (test/fixtures/tensorboard/events.py: struct + a hand-rolled CRC-32C), and, where
 * torch.utils.tensorboard imports, against PyTorch's SummaryWriter itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventFileError, writeRunEvents } from '../../../src/interop/tensorboard';
import {
  parseEventFile,
  readEventFile,
  readTensorBoardRuns,
  writeEventFile,
} from '../../../src/interop/tensorboard/eventFile';
import { frameRecord } from '../../../src/interop/tensorboard/tfrecord';

const PY = '/usr/bin/python3';
const SCRIPT = join(__dirname, '..', '..', 'fixtures', 'tensorboard', 'events.py');
const tmp = mkdtempSync(join(tmpdir(), 'carp-tb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function py(args: string[]): string {
  const r = spawnSync(PY, [SCRIPT, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`events.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim();
}

// The official trainer's tags, each in one of the three scalar encodings; steps up to 2^40
// exercise int64 varints beyond 32 bits.
const SPEC = {
  wallTime: 1700000000,
  points: [
    ['loss/total', 0, 9.5, 'simple'],
    ['loss/consistency', 0, 0.1, 'simple'],
    ['loss/entropy', 0, 2.25, 'tensor'],
    ['lr', 0, 0.0048, 'double'],
    ['momentum', 100, 0.99, 'simple'],
    ['acc/top1', 100, 37.5, 'tensor'],
    ['loss/total', 2 ** 40, -1.5, 'simple'],
  ] as [string, number, number, string][],
};

let specs = 0;
function writeSpec(dir: string): string {
  const specFile = join(tmp, `spec-${specs++}.json`);
  writeFileSync(specFile, JSON.stringify(SPEC));
  return py(['write', dir, specFile]);
}

describe('reading event files written by Python', () => {
  it('every scalar encoding, float32/float64 values, int64 steps; histograms skipped', () => {
    const file = writeSpec(join(tmp, 'run-a'));
    const got = readEventFile(file);
    expect(got.fileVersion).toBe('brain.Event:2');
    expect([...got.scalars.keys()].sort()).toEqual(
      ['acc/top1', 'loss/consistency', 'loss/entropy', 'loss/total', 'lr', 'momentum'].sort(),
    );
    expect(got.scalars.get('loss/total')).toEqual([
      { step: 0, wallTime: 1700000000, value: 9.5 },
      { step: 2 ** 40, wallTime: 1700000006, value: -1.5 },
    ]);
    expect(got.scalars.get('loss/consistency')![0].value).toBe(Math.fround(0.1));
    expect(got.scalars.get('loss/entropy')![0].value).toBe(2.25);
    // DT_DOUBLE tensor_content keeps the double.
    expect(got.scalars.get('lr')![0].value).toBe(0.0048);
    expect(got.scalars.get('acc/top1')).toEqual([{ step: 100, wallTime: 1700000005, value: 37.5 }]);
  });

  it('runs grouped by folder under a root', () => {
    writeSpec(join(tmp, 'runs', 'one'));
    writeSpec(join(tmp, 'runs', 'two', 'nested'));
    const runs = readTensorBoardRuns(join(tmp, 'runs'));
    expect(runs.map((r) => r.name)).toEqual(['one', join('two', 'nested')]);
    expect(runs[1].scalars.get('momentum')).toEqual([
      { step: 100, wallTime: 1700000004, value: Math.fround(0.99) },
    ]);
    expect(runs.every((r) => r.problems.length === 0)).toBe(true);
  });
});

describe('damaged event files are typed errors naming the file and record', () => {
  const good = () => readFileSync(writeSpec(join(tmp, 'damage')));
  const firstRecordEnd = () => {
    const b = good();
    return 12 + Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true)) + 4;
  };

  function expectProblem(bytes: Uint8Array, problem: string, offset: number, detail: RegExp) {
    const file = join(tmp, 'damaged.tfevents');
    writeFileSync(file, bytes);
    let err: unknown;
    try {
      readEventFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventFileError);
    const e = err as EventFileError;
    expect([e.file, e.problem, e.offset]).toEqual([file, problem, offset]);
    expect(e.message).toMatch(detail);
    expect(e.message.startsWith(`${file}: record at byte ${offset}: `)).toBe(true);
  }

  it('a flipped data byte: data CRC', () => {
    const b = good();
    const at = firstRecordEnd();
    b[at + 14] ^= 0x40; // inside the second record's data
    expectProblem(b, 'data-crc', at, /data CRC mismatch/);
  });

  it('a flipped length byte: length CRC', () => {
    const b = good();
    b[0] ^= 0x01;
    expectProblem(b, 'length-crc', 0, /length CRC mismatch/);
  });

  it('cut inside a record: truncated; partial reading keeps the records before', () => {
    const b = good();
    const at = firstRecordEnd();
    expectProblem(b.subarray(0, at + 20), 'truncated', at, /truncated data/);
    expectProblem(b.subarray(0, at + 5), 'truncated', at, /truncated header \(5 of 12 bytes\)/);
    const partial = parseEventFile(b.subarray(0, at + 20), 'x', true);
    expect(partial.error?.problem).toBe('truncated');
    expect(partial.scalars.fileVersion).toBe('brain.Event:2');
  });

  it('sound framing around a malformed Event: protobuf', () => {
    // Field 1 (wall_time, fixed64) announced with only 3 bytes left.
    const bad = frameRecord(Uint8Array.of(0x09, 1, 2, 3));
    expectProblem(bad, 'protobuf', 0, /bad Event protobuf: double runs past the end/);
  });
});

describe('writing event files', () => {
  it('the independent Python reader reads back what the kit wrote', () => {
    const path = writeEventFile(join(tmp, 'written'), [
      { step: 0, wallTime: 1700000000.25, scalars: { 'loss/total': 3.5, lr: 0.1 } },
      { step: 7, wallTime: 1700000001.5, scalars: { 'loss/total': 2.75 } },
    ]);
    expect(path).toMatch(/events\.out\.tfevents\.\d+\.[^/]+\.carp-kit$/);
    const got = JSON.parse(py(['read', path])) as {
      fileVersion: string;
      scalars: Record<string, number[][]>;
    };
    expect(got.fileVersion).toBe('brain.Event:2');
    expect(got.scalars).toEqual({
      'loss/total': [
        [0, 1700000000.25, 3.5],
        [7, 1700000001.5, 2.75],
      ],
      lr: [[0, 1700000000.25, Math.fround(0.1)]],
    });
    expect(
      readEventFile(path)
        .scalars.get('loss/total')!
        .map((p) => p.value),
    ).toEqual([3.5, 2.75]);
  });

  it("a run's metrics.jsonl under the official trainer's tags and units", () => {
    const run = join(tmp, 'kit-run');
    const rows = [
      {
        step: 0,
        epoch: 0,
        loss: 8,
        consistency: 6,
        entropy: 2,
        lr: 0.5,
        wd: 1e-6,
        momentum: 0.99,
        top1: 0.25,
        top5: 0.5,
        imagesPerSecond: 100,
        elapsed: 1.5,
      },
      {
        step: 10,
        epoch: 1,
        loss: 4,
        consistency: 3,
        entropy: 1,
        lr: 0.25,
        wd: 1e-6,
        momentum: 0.995,
        top1: 0.5,
        top5: 0.75,
        imagesPerSecond: 120,
        elapsed: 3,
      },
    ];
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'metrics.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(run, 'config.json'), JSON.stringify({ train: { accumulation: 4 } }));
    writeFileSync(join(run, 'run.json'), JSON.stringify({ startedAt: '2024-01-01T00:00:00.000Z' }));
    const { path, steps } = writeRunEvents(run);
    expect(steps).toBe(2);
    const got = JSON.parse(py(['read', path])) as { scalars: Record<string, number[][]> };
    const t0 = Date.parse('2024-01-01T00:00:00.000Z') / 1000;
    // loss/total = loss / accumulation; acc/* in percent (the official trainer's units).
    expect(got.scalars['loss/total']).toEqual([
      [0, t0 + 1.5, 2],
      [10, t0 + 3, 1],
    ]);
    expect(got.scalars['acc/top1'].map((p) => p[2])).toEqual([25, 50]);
    expect(got.scalars['acc/top5'].map((p) => p[2])).toEqual([50, 75]);
    expect(got.scalars['loss/consistency'].map((p) => p[2])).toEqual([6, 3]);
    expect(got.scalars['momentum'].map((p) => p[2])).toEqual([
      Math.fround(0.99),
      Math.fround(0.995),
    ]);
    expect(Object.keys(got.scalars).sort()).toEqual([
      'acc/top1',
      'acc/top5',
      'epoch',
      'loss/consistency',
      'loss/entropy',
      'loss/total',
      'lr',
      'momentum',
      'perf/images_per_second',
      'wd',
    ]);
  });

  it('refuses a run without train.accumulation, naming the file and field', () => {
    const run = join(tmp, 'kit-run');
    writeFileSync(join(run, 'config.json'), JSON.stringify({ train: {} }));
    expect(() => writeRunEvents(run)).toThrow(
      `${join(run, 'config.json')}: train.accumulation must be a positive integer, got undefined`,
    );
  });
});

// PyTorch's own writer, where this machine has it (Debian's python3-torch ships
// torch.utils.tensorboard, which needs the tensorboard package as well).
const torchWriter =
  spawnSync(PY, ['-c', 'from torch.utils.tensorboard import SummaryWriter'], { stdio: 'ignore' })
    .status === 0;
describe.skipIf(!torchWriter)("PyTorch's SummaryWriter", () => {
  it('its scalars read back', () => {
    const specFile = join(tmp, 'spec-torch.json');
    writeFileSync(specFile, JSON.stringify(SPEC));
    const dir = join(tmp, 'torch-run');
    py(['torch', dir, specFile]);
    const [run] = readTensorBoardRuns(dir);
    expect(run.scalars.get('loss/total')!.map((p) => [p.step, p.value])).toEqual([
      [0, 9.5],
      [2 ** 40, -1.5],
    ]);
    expect(run.scalars.get('acc/top1')!.map((p) => p.value)).toEqual([37.5]);
  });
});
