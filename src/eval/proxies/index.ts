/**
 * Offline proxy benchmarks (issue: Fashion-MNIST-derived stand-ins for the paper's data,
 * keeping each protocol's rules; every result says "proxy" in its name and carries
 * `proxy: true`, see `eval/results.ts`).
 */
export * from '../extractors';
export * from '../../data/proxies/fewShotProxy';
export * from '../../data/proxies/retrievalProxy';
export * from '../../data/proxies/copyEdits';
export * from '../../data/proxies/copyDetectionProxy';
