/**
 * The protocols' barrel: it exports each protocol module's runtime names — the runner, its
 * DEFAULTS and its helpers — and nothing else, as the very objects of those modules.
 */
import { describe, expect, it } from 'vitest';
import * as protocols from '../../../src/eval/protocols';
import * as copyDetection from '../../../src/eval/protocols/copyDetection';
import * as fewShot from '../../../src/eval/protocols/fewShot';
import * as fewShotInat from '../../../src/eval/protocols/fewShotInat';
import * as fewShotVoc from '../../../src/eval/protocols/fewShotVoc';
import * as kmeans from '../../../src/eval/protocols/kmeans';
import * as knn from '../../../src/eval/protocols/knn';
import * as linear from '../../../src/eval/protocols/linear';
import * as prototypes from '../../../src/eval/protocols/prototypes';
import * as record from '../../../src/eval/protocols/record';
import * as retrieval from '../../../src/eval/protocols/retrieval';

const FROM: [Record<string, unknown>, string[]][] = [
  [
    copyDetection,
    [
      'COPYDETECTION_DEFAULTS',
      'copydaysPositives',
      'copyDetectionProxyEvaluation',
      'runCopyDetection',
    ],
  ],
  [fewShot, ['BENCHMARK_DATASETS', 'benchmarkOf', 'runFewShot']],
  [fewShotInat, ['INAT_FEWSHOT_DEFAULTS', 'inatLrSchedule', 'inatLinear', 'runInatFewShot']],
  [
    fewShotVoc,
    ['VOC_FEWSHOT_DEFAULTS', 'vocFewShotMetrics', 'fewShotProxyEvaluation', 'runVocFewShot'],
  ],
  [kmeans, ['KMEANS_DEFAULTS', 'defaultFitSplit', 'runKmeans']],
  [knn, ['KNN_DEFAULTS', 'runKnn', 'runPixelKnn']],
  [linear, ['LINEAR_DEFAULTS', 'linearLrs', 'linearProbe', 'runLinear']],
  [
    prototypes,
    ['PROTOTYPES_DEFAULTS', 'assignPrototypes', 'prototypeClusterEvaluation', 'runPrototypes'],
  ],
  [
    retrieval,
    [
      'REVISITED_DATASETS',
      'RETRIEVAL_DEFAULTS',
      'multiScaleDescriptor',
      'filesIdentity',
      'retrievalProxyEvaluation',
      'runRetrieval',
    ],
  ],
  [record, ['withDefaults']],
];

describe('src/eval/protocols/index.ts', () => {
  it('exports exactly the protocols’ names, each the module’s own object', () => {
    const barrel = protocols as Record<string, unknown>;
    expect(Object.keys(barrel).sort()).toEqual(FROM.flatMap(([, names]) => names).sort());
    for (const [module, names] of FROM) {
      for (const n of names) expect(barrel[n], n).toBe(module[n]);
    }
  });

  it('does not re-export the result recorder (one way to write a result: the runners)', () => {
    expect('recordResult' in protocols).toBe(false);
    expect('checkpointTag' in protocols).toBe(false);
  });
});
