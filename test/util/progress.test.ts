import { describe, expect, it } from 'vitest';
import { formatDuration, Progress } from '../../src/util/progress';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => (out.push(s), true) } as never };
}

describe('Progress', () => {
  it('reports step/total, images/s, ETA and fields', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const p = new Progress({
      total: 10,
      label: 'pretrain',
      itemsPerStep: 32,
      stream,
      now: () => t,
    });
    t = 2; // 2 steps in 2 s → 32 img/s, 8 steps left → 8 s
    p.update(2, { loss: 1.23456 });
    expect(out[0]).toBe('pretrain 2/10  32.0 img/s  ETA 8s  loss 1.2346\n');
  });

  it('throttles plain lines but always prints the last step', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const p = new Progress({
      total: 3,
      label: 'x',
      itemsPerStep: 1,
      stream,
      now: () => t,
      everySeconds: 100,
    });
    t = 1;
    p.update(1);
    t = 2;
    p.update(2);
    t = 3;
    p.update(3);
    expect(out.length).toBe(2);
    expect(out[1]).toMatch(/^x 3\/3 /);
  });

  it('rewrites one line on a TTY', () => {
    let t = 0;
    const { out, stream } = sink(true);
    const p = new Progress({ total: 2, label: 'x', itemsPerStep: 1, stream, now: () => t });
    t = 1;
    p.update(1);
    expect(out[0].startsWith('\r')).toBe(true);
    expect(out[0].endsWith('\x1b[K')).toBe(true);
  });

  it('formats durations', () => {
    expect(formatDuration(59)).toBe('59s');
    expect(formatDuration(61)).toBe('1m01s');
    expect(formatDuration(3700)).toBe('1h01m');
    expect(formatDuration(NaN)).toBe('?');
  });
});
