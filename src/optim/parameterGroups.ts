/**
 * Parameter groups (§5.1): which student parameters get weight decay.
 *
 * Regularised: name not ending in `.bias` and more than one dimension (conv and linear
 * weights, the prototype directions). Unregularised: biases and every 1-D parameter
 * (BN γ, β), weight decay forced to 0. Frozen parameters (the weight-norm gains g) are
 * in neither group: they are not trainable and receive no gradient.
 *
 * Judgement call (§11.31): tfjs layers name biases `…/bias`, the reference `….bias`; both
 * separators count as a bias suffix here.
 */

const BIAS_SUFFIX = /[./]bias$/;

/** Whether a parameter of this name and rank belongs to the weight-decayed group. */
export function isRegularised(name: string, rank: number): boolean {
  return rank > 1 && !BIAS_SUFFIX.test(name);
}

export interface ParameterGroups {
  /** Names of parameters that get the scheduled weight decay. */
  regularised: string[];
  /** Names of parameters with weight decay 0. */
  unregularised: string[];
}

/**
 * Splits trainable parameters into the two groups of §5.1, keeping input order.
 * Parameters with `trainable === false` (frozen gains) are left out of both groups.
 */
export function parameterGroups(
  params: { name: string; shape: readonly number[]; trainable?: boolean }[],
): ParameterGroups {
  const groups: ParameterGroups = { regularised: [], unregularised: [] };
  for (const p of params) {
    if (p.trainable === false) continue;
    (isRegularised(p.name, p.shape.length) ? groups.regularised : groups.unregularised).push(
      p.name,
    );
  }
  return groups;
}
