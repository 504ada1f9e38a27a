/**
 * Where two configurations differ: the first dotted key (`optim.lrRef`) whose JSON values
 * are not equal, or null when they are. Resume and run reuse refuse a changed config by
 * naming that key.
 */
export function firstConfigDifference(a: unknown, b: unknown, path = ''): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b as object)])) {
      const d = firstConfigDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      );
      if (d) return d;
    }
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
