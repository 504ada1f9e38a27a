import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWorkedExample, WORKED_EXAMPLE } from '../../src/carp/workedExample';

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

describe('checkWorkedExample', () => {
  const W = WORKED_EXAMPLE;
  const exact = {
    student: [W.studentView0.map((b) => b.map((r) => [...r]))],
    teacher: [[], W.teacherView1.map((b) => b.map((r) => [...r]))],
    pairs: W.pairs.map((p) => ({ s: p.s.map((r) => [...r]), loss: p.loss })),
    consistency: W.consistency,
    marginals: W.marginals.map((m) => [...m]),
    regularizer: W.regularizer,
    total: W.total,
  };

  it('one group per quantity, in the order of §4.5; zero difference for the reference itself', () => {
    const groups = checkWorkedExample(exact);
    expect(groups.map((g) => g.quantity)).toEqual([
      'student view 0, per-block softmax',
      'teacher view 1, per-block softmax',
      'pair (v 0, u 1): s and pair loss',
      'pair (v 1, u 0): s and pair loss',
      'pair (v 2, u 0): s and pair loss',
      'pair (v 2, u 1): s and pair loss',
      'L_cons',
      'block marginals m_b',
      'L_reg',
      'L = L_cons + L_reg',
    ]);
    expect(groups.map((g) => g.maxAbsDiff)).toEqual(new Array(10).fill(0));
    expect(groups[0].kit).toHaveLength(12);
  });

  it('reports the largest difference of a group, and refuses a group of the wrong size', () => {
    const off = checkWorkedExample({
      ...exact,
      marginals: [[0.3, 0.42516568, 0.25183454], [...W.marginals[1]]],
    });
    expect(off[7].maxAbsDiff).toBeCloseTo(0.02299978, 8);
    expect(() => checkWorkedExample({ ...exact, marginals: [[0.3]] })).toThrow(
      /block marginals m_b: 1 values, the reference has 6/,
    );
  });
});
