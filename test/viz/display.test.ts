import { describe, expect, it } from 'vitest';
import {
  LiveFigure,
  LiveTrainingCurves,
  loadPlotly,
  showFigure,
  type DisplayHost,
} from '../../src/viz/display';

/** Records what would go to tslab: `display` outputs and each `newDisplay()` handle's updates. */
function fakeHost(): DisplayHost & { shown: string[]; handles: string[][] } {
  const shown: string[] = [];
  const handles: string[][] = [];
  return {
    shown,
    handles,
    display: { html: (s) => shown.push(s) },
    newDisplay() {
      const updates: string[] = [];
      handles.push(updates);
      return { html: (s) => updates.push(s) };
    },
  };
}

const fig = { data: [{ type: 'scatter', x: [0], y: [1] }], layout: {} };
const isBundle = (s: string) => s.length > 1_000_000 && s.includes('window.Plotly = Plotly');

// One file = one process (vitest forks): the "bundle once per session" state starts fresh.
describe('showFigure', () => {
  it('inlines the plotly bundle once per session, then only figures', () => {
    const host = fakeHost();
    showFigure(fig, { host });
    showFigure(fig, { host });
    expect(host.shown).toHaveLength(3);
    expect(isBundle(host.shown[0])).toBe(true);
    expect(host.shown.slice(1).every((s) => !isBundle(s) && s.includes('newPlot'))).toBe(true);
    const ids = host.shown.slice(1).map((s) => /id="([^"]+)"/.exec(s)?.[1]);
    expect(new Set(ids).size).toBe(2); // unique div ids
  });

  it('loadPlotly re-inlines the bundle on request', () => {
    const host = fakeHost();
    loadPlotly({ host });
    expect(isBundle(host.shown[0])).toBe(true);
  });
});

describe('LiveFigure', () => {
  it('redraws in one output, throttled, and flush draws the last pending figure', () => {
    const host = fakeHost();
    let t = 0;
    const live = new LiveFigure({ host, throttleMs: 100, now: () => t });
    expect(host.handles).toHaveLength(1);
    live.update(fig); // t = 0: drawn
    t = 50;
    live.update({ ...fig, layout: { title: { text: 'late' } } }); // too soon: pending
    expect(host.handles[0]).toHaveLength(1);
    t = 60;
    live.flush();
    expect(host.handles[0]).toHaveLength(2);
    expect(host.handles[0][1]).toContain('late');
    live.flush(); // nothing pending
    expect(live.draws).toBe(2);
    expect(host.shown.every((s) => !s.includes('newPlot'))).toBe(true); // bundle output never updated
  });
});

describe('LiveTrainingCurves', () => {
  it('builds the loss figure only when drawing', () => {
    const host = fakeHost();
    let t = 0;
    const curves = new LiveTrainingCurves({ host, throttleMs: 1000, now: () => t });
    for (let step = 0; step < 6; step++) {
      t = step * 300;
      curves.push({ step, loss: 5 - step, consistency: 3, entropy: 2 - step / 5 });
    }
    curves.done();
    const draws = host.handles[0];
    expect(draws).toHaveLength(3); // t = 0, t = 1200 and the final flush (step 5)
    expect(draws[2]).toContain('"x":[0,1,2,3,4,5]');
    expect(curves.rows).toHaveLength(6);
  });
});
