/**
 * The target checks of the bench report: one verdict per row that
 * has a target (train step at 2 threads, k-NN and k-means vs faiss, memory flatness).
 */
import { num } from './report';
import type { BenchRow } from './types';

export interface TargetCheck {
  scenario: string;
  target: string;
  /** null: not decidable in this run (peer absent, or its cores were busy). */
  met: boolean | null;
  note?: string;
}

/**
 * The targets: step ≥ 0.4× PyTorch at 2 threads; in the width sweep, train step and
 * features ≥ 1.0× at 1 and 2 threads; faiss ≤ 1.5× its time, memory flat. A 2-thread peer
 * figure below the same peer's 1-thread figure means the cores were busy (OpenMP threads
 * waiting on each other): that check is reported as not decidable instead of flattering us.
 */
export function checkTargets(rows: BenchRow[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const byId = new Map(rows.map((r) => [r.scenario, r]));
  for (const r of rows) {
    const sweep = r.scenario.startsWith('sweep-') && /-t[12]$/.test(r.scenario);
    if ((r.scenario.startsWith('train-step-') || sweep) && r.scenario.endsWith('-t2')) {
      const t1 = byId.get(r.scenario.replace(/-t2$/, '-t1'));
      const least = sweep ? 1 : 0.4;
      const target = `speed ratio ≥ ${least.toFixed(1)} (PyTorch, 2 threads)`;
      if (r.peer !== null && t1?.peer != null && r.peer < t1.peer) {
        out.push({
          scenario: r.scenario,
          target,
          met: null,
          note: `busy cores: the 2-thread peer (${num(r.peer)}) was slower than its 1-thread run (${num(t1.peer)}); ratio vs 1 thread ${num(t1.speedRatio)}`,
        });
      } else {
        out.push({
          scenario: r.scenario,
          target,
          met: r.speedRatio === null ? null : r.speedRatio >= least,
        });
      }
    } else if (sweep)
      out.push({
        scenario: r.scenario,
        target: 'speed ratio ≥ 1.0 (PyTorch, 1 thread)',
        met: r.speedRatio === null ? null : r.speedRatio >= 1,
      });
    else if (r.scenario.startsWith('knn-') || r.scenario.startsWith('kmeans-'))
      out.push({
        scenario: r.scenario,
        target: 'time ≤ 1.5× Python faiss',
        met: r.speedRatio === null ? null : r.speedRatio >= 1 / 1.5,
      });
    else if (r.scenario.startsWith('memory-'))
      out.push({
        scenario: r.scenario,
        target: 'flat',
        met: r.notes.some((n) => n.startsWith('flat: yes')),
      });
  }
  return out;
}
