import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  figureDivHtml,
  plotlyBundle,
  plotlyScriptTag,
  scriptJson,
} from '../../src/viz/html';

describe('scriptJson', () => {
  it('cannot close a <script> element and keeps the value', () => {
    const v = { t: '</script><b>&', u: '\u2028', a: new Float32Array([1.5, 2]), n: NaN };
    const s = scriptJson(v);
    expect(s).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(s)).toEqual({ t: '</script><b>&', u: '\u2028', a: [1.5, 2], n: null });
  });
});

describe('escapeHtml', () => {
  it('escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;',
    );
  });
});

describe('plotly bundle', () => {
  it('is the installed plotly.js-dist bundle, inlined (no CDN)', () => {
    expect(plotlyBundle().length).toBeGreaterThan(1_000_000);
    expect(plotlyBundle()).toContain('window.Plotly = Plotly');
    const tag = plotlyScriptTag();
    expect(tag.startsWith('<script')).toBe(true);
    expect(tag.match(/<\/script/gi)).toHaveLength(2); // the bundle, then the pending-figure drain
    expect(tag).not.toMatch(/<script[^>]*\ssrc=/); // inline, not loaded from a URL
  });
});

describe('figureDivHtml', () => {
  it('a div and a newPlot call on it, with the hook for the report', () => {
    const html = figureDivHtml(
      { data: [{ type: 'bar', x: [1], y: [2] }], layout: { height: 300 } },
      'f-1',
      'hook(p)',
    );
    expect(html).toContain('<div id="f-1" class="carp-figure" style="min-height:300px">');
    expect(html).toContain(
      'window.Plotly.newPlot(el, [{"type":"bar","x":[1],"y":[2]}], {"height":300}',
    );
    expect(html).toContain('"displaylogo":false');
    expect(html).toContain('hook(p);');
    expect(() => figureDivHtml({ data: [], layout: {} }, 'a"b')).toThrow(/bad div id/);
  });
});
