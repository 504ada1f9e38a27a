/**
 * Configs written before a key existed (config.json of a run, a checkpoint's metadata),
 * read as what those runs computed: a config without a `loss` section trained with
 * L = L_cons + L_reg, i.e. `loss.regWeight` 1 — the only loss there was. This is what the
 * run did, not a default guessed for it; any other missing key is still an error.
 */
export function withEarlierLoss(config: unknown): unknown {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return config;
  if ('loss' in config) return config;
  return { ...config, loss: { regWeight: 1 } };
}
