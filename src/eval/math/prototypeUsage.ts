/**
 * How a set of images spreads over the K prototypes (§9.4): counts, how many prototypes
 * are used, and the entropy of their usage — the numbers that reveal a collapse (every
 * image on a handful of prototypes) long before the loss does.
 */

export interface PrototypeUsage {
  /** Images assigned to each prototype, length K. */
  counts: Int32Array;
  /** Prototypes that received at least one image. */
  used: number;
  unused: number;
  /** Entropy (nats) of the usage distribution; ln K at perfectly uniform use. */
  entropy: number;
  /** entropy / ln K (1 = uniform; 0 = everything on one prototype). */
  normalizedEntropy: number;
}

/** Usage statistics of cluster assignments over K prototypes. */
export function prototypeUsage(
  assignments: ArrayLike<number>,
  numPrototypes: number,
): PrototypeUsage {
  const counts = new Int32Array(numPrototypes);
  for (let i = 0; i < assignments.length; i++) {
    const a = assignments[i];
    if (!(Number.isInteger(a) && a >= 0 && a < numPrototypes)) {
      throw new Error(`prototypeUsage: assignment ${a} at ${i} outside [0, ${numPrototypes})`);
    }
    counts[a]++;
  }
  let used = 0;
  let entropy = 0;
  const n = assignments.length;
  for (const c of counts) {
    if (c > 0) {
      used++;
      entropy -= (c / n) * Math.log(c / n);
    }
  }
  return {
    counts,
    used,
    unused: numPrototypes - used,
    entropy,
    normalizedEntropy: numPrototypes > 1 ? entropy / Math.log(numPrototypes) : 1,
  };
}
