/**
 * One runner per protocol of §9, each taking the `EvalContext` and its own typed options
 * merged over its DEFAULTS (written into the result's settings).
 */
export * from './copyDetection';
export * from './fewShot';
export * from './fewShotInat';
export * from './fewShotVoc';
export * from './kmeans';
export * from './knn';
export * from './linear';
export * from './prototypes';
export * from './retrieval';
export { withDefaults } from './record';
