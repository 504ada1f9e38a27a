/**
 * Result tables as HTML `<table>`s (not plotly table traces): they size to their content,
 * copy and paste as text, and render in any HTML export of a notebook without scripts.
 */
import { escapeHtml } from './html';

export type TableCell = string | number | null | undefined;

export interface TableOptions {
  /** Caption above the table. */
  title?: string;
  /** Text under the table (units, sources). */
  note?: string;
}

/** Numbers (and numeric strings like `81.2%`) align right, text left. */
function isNumeric(cell: TableCell): boolean {
  if (typeof cell === 'number') return true;
  return typeof cell === 'string' && /^[-+−]?\d[\d ,.]*(%| ± [\d.]+)?$/.test(cell.trim());
}

/** A self-contained HTML table (inline styles only). `null`/`undefined` cells are empty. */
export function tableHtml(
  header: readonly string[],
  rows: readonly (readonly TableCell[])[],
  o: TableOptions = {},
): string {
  const cell = (c: TableCell, tag: 'td' | 'th') => {
    const align = tag === 'td' && isNumeric(c) ? 'right' : 'left';
    const text = c === null || c === undefined ? '' : String(c);
    return `<${tag} style="text-align:${align};padding:3px 10px;border-bottom:1px solid #ddd">${escapeHtml(text)}</${tag}>`;
  };
  const caption = o.title
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(o.title)}</caption>`
    : '';
  const head = `<tr style="background:#e8eef7">${header.map((h) => cell(h, 'th')).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${header.map((_, j) => cell(r[j], 'td')).join('')}</tr>`);
  const note = o.note
    ? `<div style="font-size:90%;color:#555;padding:2px 0">${escapeHtml(o.note)}</div>`
    : '';
  return (
    `<table class="carp-table" style="border-collapse:collapse;margin:6px 0;font-size:13px">` +
    `${caption}<thead>${head}</thead><tbody>${body.join('')}</tbody></table>${note}`
  );
}
