import { describe, expect, it } from 'vitest';
import { info, setInfoSink } from '../../src/util/log';
import { Progress, setProgressStreams } from '../../src/util/progress';
import {
  LiveFigure,
  LiveTrainingCurves,
  loadPlotly,
  notebookProgressStream,
  showFigure,
  showProgressInNotebook,
  showTable,
  showText,
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

describe('showTable, showText', () => {
  it('draws an HTML table (not a plotly trace): escaped text, numbers right-aligned', () => {
    const host = fakeHost();
    showTable(
      ['features', 'k = 20'],
      [
        ['CARP <teacher>', '81.2%'],
        ['raw pixels', 85.5],
        ['none', null],
      ],
      {
        host,
        title: 'k-NN',
        note: 'top-1',
      },
    );
    expect(host.shown).toHaveLength(1);
    const html = host.shown[0];
    expect(html).not.toContain('newPlot');
    expect(html).toMatch(/^<table class="carp-table"/);
    expect(html).toContain('<caption');
    expect(html).toContain('CARP &#60;teacher&#62;');
    expect(html).toContain(
      'text-align:right;padding:3px 10px;border-bottom:1px solid #ddd">81.2%</td>',
    );
    expect(html).toContain(
      'text-align:left;padding:3px 10px;border-bottom:1px solid #ddd">raw pixels</td>',
    );
    expect(html.match(/<tr>/g)).toHaveLength(3);
    expect(html).toContain('>top-1</div>');
    showText('a < b', { host });
    expect(host.shown[1]).toBe('<pre style="margin:2px 0">a &#60; b</pre>');
  });
});

describe('progress in the notebook', () => {
  it('one display per progress, redrawn in place and throttled; the last step always drawn', () => {
    const host = fakeHost();
    let t = 0;
    showProgressInNotebook({ host });
    try {
      // What `Progress` writes to a TTY-like stream.
      const p = new Progress({
        total: 3,
        label: 'features x/test',
        itemsPerStep: 10,
        now: () => t / 1000,
      });
      const stream = notebookProgressStream({ host, now: () => t, throttleMs: 250 });
      stream.write('\r features 1/3\x1b[K');
      t = 100;
      stream.write('\r features 2/3\x1b[K'); // within 250 ms: skipped
      t = 150;
      stream.write('\r features 3/3\x1b[K\n'); // the last line: drawn anyway
      const [, own] = host.handles;
      expect(own).toHaveLength(2);
      expect(own[0]).toContain('<progress value="1" max="3"');
      expect(own[1]).toContain('<progress value="3" max="3"');
      expect(own[1]).toContain('features 3/3</div>');
      // A Progress created without a stream draws into its own display (handle 0).
      t = 1000;
      p.update(1);
      p.update(3);
      expect(host.handles[0]).toHaveLength(2);
      expect(host.handles[0][1]).toMatch(/features x\/test 3\/3 {2}[\d.]+ img\/s/);
      // Informational lines are drawn in the cell too, escaped.
      info('kmeans: 512 features <10 centroids>');
      expect(host.shown.at(-1)).toBe(
        '<div class="carp-info" style="font-family:monospace;font-size:12px;color:#555">kmeans: 512 features &#60;10 centroids&#62;</div>',
      );
    } finally {
      setProgressStreams(undefined);
      setInfoSink(undefined);
    }
  });
});
