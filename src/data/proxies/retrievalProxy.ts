/**
 * Offline proxy of the revisited Oxford/Paris retrieval protocol (spec §9.7):
 * `fmnist-retrieval-proxy`, class-level retrieval on the Fashion-MNIST TEST split only.
 *
 * Benchmark (deterministic, independent of any model):
 * - queries: 7 per class (70, as rOxford5k / rParis6k), drawn per class with a seeded
 *   shuffle, in class order; database: every other test image (or a seeded subset of
 *   `databaseCount`), in ascending test index order;
 * - positives of a query: database images of its class. [JUDGEMENT] Easy vs hard by a
 *   model-free criterion: the cosine similarity of raw pixels to the query; positives are
 *   sorted by (similarity descending, index ascending), the first ⌊n/2⌋ are `easy`, the
 *   rest `hard` (so a lone positive is hard, and the Hard protocol keeps every query that
 *   has positives). "Hard" thus means: far from the query in pixel space;
 * - junk: [JUDGEMENT] the database images of the query class's designated confusable
 *   sibling — T-shirt/top ↔ Shirt, Pullover ↔ Coat, Sneaker ↔ Ankle boot, the three
 *   pairs most confused in Fashion-MNIST (Zalando's benchmark confusion matrices).
 *   Like revisited junk (ambiguous views of the landmark) they are neither rewarded nor
 *   penalised: removed from the ranking. Trouser, Dress, Sandal and Bag have none.
 * Evaluation: `retrievalEvaluation` (cosine ranking, Medium/Hard mAP and precision@k).
 * The multi-scale descriptor is the extractor's business (28 px images are already tiny).
 */
import type { ImageDataset } from '../dataset';
import { subsetDataset } from '../dataset';
import { createRng } from '../../random';
import { sampleKPerClass } from '../classSampling';
import type { RevisitedQuery } from '../revisited';

export const FMNIST_RETRIEVAL_PROXY = 'fmnist-retrieval-proxy';

/** Confusable sibling classes used as junk (Fashion-MNIST label indices). */
export const FMNIST_JUNK_PAIRS: [number, number][] = [
  [0, 6], // T-shirt/top ↔ Shirt
  [2, 4], // Pullover ↔ Coat
  [7, 9], // Sneaker ↔ Ankle boot
];

export interface RetrievalProxyOptions {
  /** Queries per class (default 7). */
  queriesPerClass?: number;
  /** Database size (default: every non-query test image); fewer → a seeded subset. */
  databaseCount?: number;
  /** Junk sibling pairs (default `FMNIST_JUNK_PAIRS`; [] for none). */
  junkPairs?: [number, number][];
  seed?: number;
}

export interface RetrievalProxy {
  queries: ImageDataset;
  database: ImageDataset;
  /** Test-split indices of the queries and of the database images. */
  queryIndices: Int32Array;
  databaseIndices: Int32Array;
  /** Per query: database positions of easy, hard and junk images. */
  groundTruth: RevisitedQuery[];
}

/** Cosine similarity of two uint8 pixel vectors (0 when either is blank). */
function pixelCosine(a: Uint8Array, b: Uint8Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Builds queries, database and easy/hard/junk ground truth from a test split. */
export function buildRetrievalProxy(
  test: ImageDataset,
  o: RetrievalProxyOptions = {},
): RetrievalProxy {
  if ((test.labelDim ?? 1) !== 1) throw new Error('buildRetrievalProxy: test must be single-label');
  const numClasses = test.classes.length;
  const sibling = new Int32Array(numClasses).fill(-1);
  for (const [a, b] of o.junkPairs ?? FMNIST_JUNK_PAIRS) {
    if (!(a >= 0 && a < numClasses && b >= 0 && b < numClasses && a !== b)) {
      throw new Error(`buildRetrievalProxy: junk pair [${a}, ${b}] is not two distinct classes`);
    }
    sibling[a] = b;
    sibling[b] = a;
  }
  const rng = createRng(o.seed ?? 0);
  const perClass = o.queriesPerClass ?? 7;
  const queryIndices = sampleKPerClass(test.labels, numClasses, perClass, rng);
  const isQuery = new Uint8Array(test.count);
  for (const i of queryIndices) isQuery[i] = 1;
  let rest = Int32Array.from({ length: test.count }, (_, i) => i).filter((i) => !isQuery[i]);
  const dbCount = o.databaseCount ?? rest.length;
  if (!Number.isInteger(dbCount) || dbCount < 1 || dbCount > rest.length) {
    throw new Error(
      `buildRetrievalProxy: databaseCount must be in [1, ${rest.length}], got ${dbCount}`,
    );
  }
  if (dbCount < rest.length) rest = rng.shuffle(rest).slice(0, dbCount).sort();
  const databaseIndices = rest;

  const per = test.height * test.width * test.channels;
  const pixels = (i: number) => test.images.subarray(i * per, (i + 1) * per);
  const groundTruth = Array.from(queryIndices, (q): RevisitedQuery => {
    const c = test.labels[q];
    const positives: { pos: number; sim: number }[] = [];
    const junk: number[] = [];
    databaseIndices.forEach((i, pos) => {
      const y = test.labels[i];
      if (y === c) positives.push({ pos, sim: pixelCosine(pixels(q), pixels(i)) });
      else if (y === sibling[c]) junk.push(pos);
    });
    positives.sort((a, b) => b.sim - a.sim || a.pos - b.pos);
    const nEasy = Math.floor(positives.length / 2);
    const ascending = (a: number, b: number) => a - b;
    return {
      easy: positives
        .slice(0, nEasy)
        .map((p) => p.pos)
        .sort(ascending),
      hard: positives
        .slice(nEasy)
        .map((p) => p.pos)
        .sort(ascending),
      junk,
    };
  });
  const name = FMNIST_RETRIEVAL_PROXY;
  return {
    queries: subsetDataset(test, queryIndices, { name, split: 'queries' }),
    database: subsetDataset(test, databaseIndices, { name, split: 'database' }),
    queryIndices,
    databaseIndices,
    groundTruth,
  };
}
