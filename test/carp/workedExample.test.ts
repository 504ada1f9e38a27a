import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKED_EXAMPLE } from '../../src/carp/workedExample';

/** The text of docs/method.md §4.5, where the worked example's numbers are published. */
function section45(): string {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'method.md'), 'utf8');
  const start = doc.indexOf('### 4.5 Worked example');
  const end = doc.indexOf('\n## 5.', start);
  expect(start).toBeGreaterThan(0);
  return doc.slice(start, end).replace(/−/g, '-');
}

/** Every decimal number of `text`, in order (integers in table rows count too). */
const numbers = (text: string) => (text.match(/-?\d+\.\d+/g) ?? []).map(Number);

describe('WORKED_EXAMPLE is docs/method.md §4.5, digit for digit', () => {
  const doc = section45();

  it('the logits, row by row, as in the two tables', () => {
    const rows = [...doc.matchAll(/^\| ([vu]\d), (n\d) \|(.*)\|$/gm)]
      .filter((m) => !m[3].includes('.0'))
      .slice(0, 10)
      .map((m) => m[3].split('|').map((c) => Number(c.trim())));
    expect(rows).toEqual([
      ...WORKED_EXAMPLE.studentLogits.flat(),
      ...WORKED_EXAMPLE.teacherLogits.flat(),
    ]);
    expect(doc).toContain(`\\pi = (${WORKED_EXAMPLE.partition.join(', ')})`);
  });

  it('the intermediate values, the terms and the total', () => {
    const values = [
      ...WORKED_EXAMPLE.studentView0.flat(2),
      ...WORKED_EXAMPLE.teacherView1.flat(2),
      ...WORKED_EXAMPLE.pairs.flatMap((p) => [...p.s.flat(), p.loss]),
      WORKED_EXAMPLE.consistency,
      ...WORKED_EXAMPLE.marginals.flat(),
      WORKED_EXAMPLE.regularizer,
      WORKED_EXAMPLE.total,
    ];
    // From "Intermediate values" to the gradient table, in the doc's order.
    const from = doc.indexOf('Intermediate values');
    expect(numbers(doc.slice(from)).slice(0, values.length)).toEqual(values);
  });
});
