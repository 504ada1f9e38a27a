/**
 * The bench report: its JSON shape (`bench/results.json`), the machine
 * and commit it was measured on, the printed table, and the results file writer.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { tf } from '../backend/tf';
import type { NativeSummary } from '../backend/native/addon';
import { activeNativeKernels } from '../backend/wasmKernels';
import type { StepProfile } from './stepProfile';
import type { TargetCheck } from './targets';
import type { BenchRow } from './types';

export interface BenchFailure {
  scenario: string;
  error: string;
}

export interface BenchReport {
  startedAt: string;
  seconds: number;
  gitSha: string | null;
  machine: Record<string, unknown>;
  scenarios: string[];
  rows: BenchRow[];
  profiles: StepProfile[];
  failures: BenchFailure[];
  targets: TargetCheck[];
}

const PROJECT = resolve(__dirname, '..', '..');

/** The machine a report was measured on (call after `selectBackend`). */
export function machineInfo(): Record<string, unknown> {
  let os = `${type()} ${release()}`;
  try {
    os = `Debian ${readFileSync('/etc/debian_version', 'utf8').trim()} (${os})`;
  } catch {
    // not Debian
  }
  const env = tf.env();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    os,
    node: process.version,
    tfjs: tf.version_core,
    backend: tf.getBackend(),
    wasmSimd: tf.getBackend() === 'wasm' ? env.getBool('WASM_HAS_SIMD_SUPPORT') : null,
    wasmThreads: tf.getBackend() === 'wasm' ? env.getBool('WASM_HAS_MULTITHREAD_SUPPORT') : null,
    // The native kernels behind wasm's convolutions, matMuls and batch norm, if on.
    nativeKernels: tf.getBackend() === 'wasm' ? (activeNativeKernels() ?? null) : null,
    loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

function nativeWords(native: unknown): string {
  const n = native as NativeSummary | null | undefined;
  return n ? `, native kernels: ${n.library} ${n.isa}` : '';
}

export function gitSha(): string | null {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** A figure as printed: "—" for none, 0 decimals from 100, 2 from 1, else 3 significant digits. */
export const num = (x: number | null): string =>
  x === null
    ? '—'
    : Math.abs(x) >= 100
      ? x.toFixed(0)
      : Math.abs(x) >= 1
        ? x.toFixed(2)
        : x.toPrecision(3);

/** The printed table (one line per row) with notes, targets, profiles and failures below. */
export function formatReport(r: BenchReport): string {
  const head = ['scenario', 'unit', 'ours', 'peer', 'ratio', 'backend', 'peer name'];
  const body = r.rows.map((x) => [
    x.scenario,
    x.unit,
    num(x.ours),
    num(x.peer),
    x.speedRatio === null ? '—' : `${x.speedRatio.toFixed(2)}×`,
    x.backend,
    x.peerName,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const m = r.machine;
  const lines = [
    `carp-kit bench — ${String(m.cpu)}, ${String(m.cores)} cores, ${String(m.memoryGiB)} GiB, ${String(m.os)}, Node ${String(m.node)}, tfjs ${String(m.tfjs)} (${String(m.backend)}${m.wasmSimd ? ', SIMD' : ''}${m.wasmThreads === false ? ', 1 wasm thread' : ''}${nativeWords(m.nativeKernels)}), load ${String(m.loadAverageAtStart)}`,
    'ratio: > 1 means ours is faster (ours/peer for images/s, peer/ours for seconds)',
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ];
  if (r.targets.length) {
    lines.push('', 'targets:');
    for (const t of r.targets) {
      const mark = t.met === null ? 'n/a ' : t.met ? 'met ' : 'MISS';
      lines.push(`  ${mark}  ${t.scenario}: ${t.target}${t.note ? ` — ${t.note}` : ''}`);
    }
  }
  for (const p of r.profiles) {
    const parts = Object.entries(p.shares).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}%`);
    lines.push(
      '',
      `profile ${p.scenario} (one micro-step of ${p.batch}${p.threads ? `, ${p.threads} thread${p.threads === 1 ? '' : 's'}` : ''}, ${p.total.toFixed(2)} s): ${parts.join(', ')}`,
    );
    const k = p.kernels;
    if (k) {
      const top = k.kernels
        .filter((x) => x.share >= 0.01)
        .map((x) => `${x.name} ${(100 * x.share).toFixed(1)}% (${x.calls})`);
      lines.push(
        `kernels ${p.scenario} (one more micro-step, ${k.seconds.toFixed(2)} s; calls in brackets): ${top.join(', ')}; ` +
          `outside kernels ${((100 * k.outsideKernels) / k.seconds).toFixed(1)}%; tensor peak ${(k.peakTensorBytes / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  }
  lines.push('', 'notes:');
  for (const x of r.rows) for (const n of x.notes) lines.push(`  ${x.scenario}: ${n}`);
  for (const f of r.failures) lines.push(`FAILED ${f.scenario}: ${f.error}`);
  lines.push('', `${r.rows.length} rows in ${r.seconds.toFixed(0)} s`);
  return lines.join('\n') + '\n';
}

/** Writes `report` to `out` (default bench/results.json in the project); returns its path. */
export function writeReport(report: BenchReport, out?: string): string {
  const path = resolve(out ?? join(PROJECT, 'bench', 'results.json'));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
