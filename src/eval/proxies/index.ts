/**
 * Offline proxy benchmarks (issue: Fashion-MNIST-derived stand-ins for the paper's data,
 * keeping each protocol's rules; every result says "proxy" in its name and carries
 * `proxy: true`, see `eval/results.ts`).
 */
export * from './extractor';
export * from './fewShotProxy';
export * from './retrievalProxy';
export * from './copyEdits';
export * from './copyDetectionProxy';
