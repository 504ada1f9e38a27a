/**
 * Where two configurations differ: the first dotted key (`optim.lrRef`) whose JSON values
 * are not equal, or null when they are (key order does not matter). Resume and run reuse
 * refuse a changed config by naming that key.
 */
export function firstConfigDifference(a: unknown, b: unknown, path = ''): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  const plain = (x: unknown): x is Record<string, unknown> =>
    !!x && typeof x === 'object' && !Array.isArray(x);
  if (plain(a) && plain(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstConfigDifference(a[k], b[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null; // the same keys and values, only in another order
  }
  return path || '(root)';
}

/** The value at a dotted key (undefined when absent). */
export function valueAt(obj: unknown, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );
}
