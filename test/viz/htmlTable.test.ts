import { describe, expect, it } from 'vitest';
import { tableHtml } from '../../src/viz/htmlTable';

describe('tableHtml', () => {
  it('header, rows, caption and note; empty cells for null; numbers right, text left', () => {
    const html = tableHtml(
      ['k', 'top-1', 'note'],
      [
        [20, '81.2%', null],
        ['all', '−3.5', 'a&b'],
      ],
      {
        title: 'k-NN',
        note: 'standard protocol',
      },
    );
    const td = (align: string, text: string) =>
      `<td style="text-align:${align};padding:3px 10px;border-bottom:1px solid #ddd">${text}</td>`;
    expect(html).toBe(
      '<table class="carp-table" style="border-collapse:collapse;margin:6px 0;font-size:13px">' +
        '<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">k-NN</caption>' +
        '<thead><tr style="background:#e8eef7">' +
        ['k', 'top-1', 'note']
          .map(
            (h) =>
              `<th style="text-align:left;padding:3px 10px;border-bottom:1px solid #ddd">${h}</th>`,
          )
          .join('') +
        '</tr></thead><tbody>' +
        `<tr>${td('right', '20')}${td('right', '81.2%')}${td('left', '')}</tr>` +
        `<tr>${td('left', 'all')}${td('right', '−3.5')}${td('left', 'a&#38;b')}</tr>` +
        '</tbody></table><div style="font-size:90%;color:#555;padding:2px 0">standard protocol</div>',
    );
  });

  it('no caption or note when not given; short rows padded with empty cells', () => {
    const html = tableHtml(['a', 'b'], [['x']]);
    expect(html).not.toContain('<caption');
    expect(html).not.toContain('<div');
    expect(html.match(/<td /g)).toHaveLength(2);
  });
});
