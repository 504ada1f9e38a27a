/**
 * `npm run bench` / `carp bench`: a fixed set of scenarios, each
 * measured against its peer in the same run (alternating, so the ratio survives a noisy
 * shared machine), written to `bench/results.json` and printed as a table.
 *
 * Each scenario runs in a child process of its own (this file, with `CARP_BENCH_CHILD`
 * set): the wasm heap never shrinks and an out-of-memory abort would end the whole run,
 * and the memory scenario needs a clean RSS. Peers live in bench/peers/ and are skipped
 * with a note when their Python packages are absent.
 *
 * Here: the run loop (`runBench`) and the child-process plumbing; the scenarios are in
 * scenarios.ts, the report (table, results file) in report.ts, the target checks in targets.ts.
 *
 * Run directly: `node dist/bench/main.js [--only ID …] [--no-peer] [--out FILE] [--list]`;
 * `--only sweep` runs the width sweep (sweep.ts), which the default run leaves out.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../backend/selectBackend';
import { type BenchReport, formatReport, gitSha, machineInfo, writeReport } from './report';
import {
  type BenchScenario,
  runScenario,
  type RunBenchOptions,
  SCENARIOS,
  type ScenarioResult,
} from './scenarios';
import { checkTargets } from './targets';

// Re-exported: this module is the bench's entry point (src/cli/bench.ts, tests).
export { type BenchFailure, type BenchReport, formatReport } from './report';
export {
  type BenchScenario,
  runScenario,
  type RunBenchOptions,
  SCENARIOS,
  type ScenarioResult,
} from './scenarios';
export { checkTargets, type TargetCheck } from './targets';

/** Runs one scenario in a child process (this file) and reads its result file. */
async function runIsolated(id: string, o: RunBenchOptions): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'carp-bench-'));
  const out = join(dir, 'result.json');
  try {
    const code = await new Promise<number | null>((done, fail) => {
      const child = spawn(process.execPath, [...process.execArgv, __filename], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: {
          ...process.env,
          CARP_BENCH_CHILD: id,
          CARP_BENCH_CHILD_OUT: out,
          CARP_BENCH_CHILD_OPTS: JSON.stringify({
            noPeer: o.noPeer === true,
            smoke: o.smoke === true,
          }),
        },
      });
      child.on('error', fail);
      child.on('close', (c, signal) => done(signal ? -1 : c));
    });
    if (code !== 0) throw new Error(`scenario process exited with ${code} (its stderr is above)`);
    return JSON.parse(readFileSync(out, 'utf8')) as ScenarioResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The scenarios `ids` name (scenario ids or group names such as `sweep`), in SCENARIOS
 * order; none named: every scenario outside a group (the default run). Throws on an unknown name.
 */
export function selectScenarios(ids: string[]): BenchScenario[] {
  const groups = new Set(SCENARIOS.flatMap((s) => (s.group ? [s.group] : [])));
  const known = new Set([...SCENARIOS.map((s) => s.id), ...groups]);
  const bad = ids.filter((i) => !known.has(i));
  if (bad.length)
    throw new Error(
      `unknown scenario(s) ${bad.join(', ')} (known: ${[...known].join(', ')}; groups: ${[...groups].join(', ')})`,
    );
  if (!ids.length) return SCENARIOS.filter((s) => !s.group);
  return SCENARIOS.filter((s) => ids.includes(s.id) || (s.group && ids.includes(s.group)));
}

/** Runs the selected scenarios, writes the results file and prints the table. */
export async function runBench(o: RunBenchOptions = {}): Promise<BenchReport> {
  const ids = (o.only ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const selected = selectScenarios(ids);
  await selectBackend();
  const t0 = performance.now();
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    seconds: 0,
    gitSha: gitSha(),
    machine: machineInfo(),
    scenarios: selected.map((s) => s.id),
    rows: [],
    profiles: [],
    failures: [],
    targets: [],
  };
  for (const s of selected) {
    process.stderr.write(`[bench] ${s.id}: ${s.description}\n`);
    try {
      const r = o.isolate === false ? await runScenario(s.id, o) : await runIsolated(s.id, o);
      report.rows.push(...r.rows);
      report.profiles.push(...r.profiles);
    } catch (e) {
      report.failures.push({ scenario: s.id, error: (e as Error).message });
    }
  }
  report.seconds = (performance.now() - t0) / 1000;
  report.machine.loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  report.targets = checkTargets(report.rows);
  const out = writeReport(report, o.out);
  (o.print ?? ((t: string) => process.stdout.write(t)))(formatReport(report) + `results: ${out}\n`);
  return report;
}

async function childMain(id: string, out: string): Promise<void> {
  const opts = JSON.parse(process.env.CARP_BENCH_CHILD_OPTS ?? '{}') as RunBenchOptions;
  const r = await runScenario(id, opts);
  writeFileSync(out, JSON.stringify(r));
}

if (require.main === module) {
  const child = process.env.CARP_BENCH_CHILD;
  const run = child
    ? childMain(child, process.env.CARP_BENCH_CHILD_OUT as string).then(() => 0)
    : // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('../cli/bench') as typeof import('../cli/bench')).benchCommand(
        process.argv.slice(2),
      );
  run.then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`bench: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
