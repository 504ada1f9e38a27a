/**
 * Revisited Oxford 5k / Paris 6k ground truth (Radenović et al. 2018; §9.7).
 *
 * The official files `gnd_roxford5k.pkl` / `gnd_rparis6k.pkl` hold a dict:
 *   imlist: database image names (without .jpg), qimlist: query image names,
 *   gnd: per query { bbx: [x1, y1, x2, y2], easy: [db indices], hard: [...], junk: [...] }.
 * We read the pickle directly when it holds plain lists (`readPickle`), or a JSON file of
 * the same structure, e.g. made with
 *   python3 -c "import pickle,json,sys; d=pickle.load(open(sys.argv[1],'rb'));
 *     json.dump({k:(v if k!='gnd' else [{a:list(map(float if a=='bbx' else int,g[a]))
 *     for a in g} for g in v]) for k,v in d.items()}, open(sys.argv[2],'w'))" in.pkl out.json
 * Query boxes are not used by the protocol (full query images).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError } from '../util/formatError';
import { readPickle } from './pickle';

export interface RevisitedQuery {
  easy: number[];
  hard: number[];
  junk: number[];
  bbx?: number[];
}

export interface RevisitedGroundTruth {
  imlist: string[];
  qimlist: string[];
  gnd: RevisitedQuery[];
}

function intList(v: unknown, file: string, where: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new FormatError(file, `${where} must be a list of non-negative integers`);
  }
  return v as number[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed ground-truth object, naming the offending field (`FormatError`s). */
export function validateRevisited(raw: unknown, file: string): RevisitedGroundTruth {
  if (!isObject(raw)) throw new FormatError(file, 'expected a dict with imlist, qimlist, gnd');
  const d = raw;
  for (const k of ['imlist', 'qimlist'] as const) {
    if (!Array.isArray(d[k]) || !(d[k] as unknown[]).every((s) => typeof s === 'string')) {
      throw new FormatError(file, `field '${k}' must be a list of image names`);
    }
  }
  const imlist = d.imlist as string[];
  const qimlist = d.qimlist as string[];
  if (!Array.isArray(d.gnd) || d.gnd.length !== qimlist.length) {
    throw new FormatError(file, `field 'gnd' must have one entry per query (${qimlist.length})`);
  }
  const gnd = (d.gnd as unknown[]).map((g, i) => {
    if (!isObject(g)) throw new FormatError(file, `gnd[${i}] must be a dict with easy, hard, junk`);
    const q: RevisitedQuery = {
      easy: intList(g.easy, file, `gnd[${i}].easy`),
      hard: intList(g.hard, file, `gnd[${i}].hard`),
      junk: intList(g.junk, file, `gnd[${i}].junk`),
    };
    for (const k of ['easy', 'hard', 'junk'] as const) {
      const bad = q[k].find((j) => j >= imlist.length);
      if (bad !== undefined)
        throw new FormatError(
          file,
          `gnd[${i}].${k} has index ${bad} ≥ ${imlist.length} (imlist length)`,
        );
    }
    if (Array.isArray(g.bbx)) q.bbx = (g.bbx as unknown[]).map(Number);
    return q;
  });
  return { imlist, qimlist, gnd };
}

/** Reads `gnd_*.pkl` (plain-list pickle) or its JSON conversion. */
export function readRevisitedGroundTruth(file: string): RevisitedGroundTruth {
  if (!fs.existsSync(file)) throw new Error(`${file} not found (run data-scripts/revisited.ts)`);
  const buf = fs.readFileSync(file);
  let raw: unknown;
  if (file.endsWith('.json')) {
    try {
      raw = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw new FormatError(file, `not valid JSON: ${(e as Error).message}`);
    }
  } else {
    raw = readPickle(buf, file);
  }
  return validateRevisited(raw, file);
}

/**
 * Positives and junk per query for a protocol (§9.7): Easy → easy, junk ∪ hard;
 * Medium → easy ∪ hard, junk; Hard → hard, junk ∪ easy. Feeds `revisitedMeanAP`.
 */
export function revisitedProtocol(
  gt: RevisitedGroundTruth,
  protocol: 'easy' | 'medium' | 'hard',
): { positives: number[][]; junk: number[][] } {
  const positives = gt.gnd.map((g) =>
    protocol === 'easy' ? g.easy : protocol === 'medium' ? [...g.easy, ...g.hard] : g.hard,
  );
  const junk = gt.gnd.map((g) =>
    protocol === 'easy'
      ? [...g.junk, ...g.hard]
      : protocol === 'medium'
        ? g.junk
        : [...g.junk, ...g.easy],
  );
  return { positives, junk };
}

/** Database and query image paths (`<jpgDir>/<name>.jpg`). */
export function revisitedImagePaths(
  gt: RevisitedGroundTruth,
  jpgDir: string,
): { database: string[]; queries: string[] } {
  return {
    database: gt.imlist.map((n) => path.join(jpgDir, `${n}.jpg`)),
    queries: gt.qimlist.map((n) => path.join(jpgDir, `${n}.jpg`)),
  };
}
