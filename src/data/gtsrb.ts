/**
 * GTSRB, the German Traffic Sign Recognition Benchmark (§9.9 row 9; k-NN and k-means).
 *
 * Train: one folder per class `000NN/` of PPM images, optionally with `GT-000NN.csv`
 * (the official Final_Training set; torchvision's `GTSRB/Training` has the same layout).
 * Test: `Final_Test/Images/*.ppm` with labels in `GT-final_test.csv`. The CSVs are
 * semicolon-separated: Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId.
 * Images vary from 15×15 to 250×250 px; `materialize` resizes them. ROIs are kept
 * (torchvision's loader ignores them, as does the reference: `useRoi` defaults to false).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageFileList } from './fileList';

export const GTSRB_NUM_CLASSES = 43;

/** Parses a delimited text file with a header row into records keyed by column name. */
export function parseDelimited(text: string, sep: string, file: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new Error(`${file}: empty file, expected a header row`);
  const header = lines[0].split(sep).map((s) => s.trim());
  return lines.slice(1).map((line, i) => {
    const cells = line.split(sep);
    if (cells.length !== header.length) {
      throw new Error(
        `${file}: line ${i + 2} has ${cells.length} fields, the header has ${header.length}`,
      );
    }
    return Object.fromEntries(header.map((h, k) => [h, cells[k].trim()]));
  });
}

function intField(r: Record<string, string>, key: string, file: string, line: number): number {
  const v = Number(r[key]);
  if (r[key] === undefined || !Number.isInteger(v)) {
    throw new Error(
      `${file}: line ${line}: field '${key}' must be an integer, got ${JSON.stringify(r[key])}`,
    );
  }
  return v;
}

function roiOf(
  r: Record<string, string>,
  file: string,
  line: number,
): [number, number, number, number] | null {
  if (r['Roi.X1'] === undefined) return null;
  return [
    intField(r, 'Roi.X1', file, line),
    intField(r, 'Roi.Y1', file, line),
    intField(r, 'Roi.X2', file, line),
    intField(r, 'Roi.Y2', file, line),
  ];
}

function firstExisting(cands: string[], what: string): string {
  const hit = cands.find((c) => fs.existsSync(c));
  if (!hit) throw new Error(`GTSRB: ${what} not found; looked at ${cands.join(', ')}`);
  return hit;
}

/** Finds the split's folder under `root` (official and torchvision layouts). */
function locate(root: string, split: 'train' | 'test'): { images: string; csv?: string } {
  if (split === 'train') {
    const sub = [
      'GTSRB/Training',
      'GTSRB/Final_Training/Images',
      'Training',
      'Final_Training/Images',
      '.',
    ];
    const images = firstExisting(
      sub.map((s) => path.join(root, s)).filter((d) => fs.existsSync(path.join(d, '00000'))),
      `the training class folders (00000/ …) under ${root}`,
    );
    return { images };
  }
  const images = firstExisting(
    ['GTSRB/Final_Test/Images', 'Final_Test/Images', 'Images', '.'].map((s) => path.join(root, s)),
    `the test images under ${root}`,
  );
  const csv = firstExisting(
    [
      path.join(root, 'GT-final_test.csv'),
      path.join(root, 'GTSRB', 'GT-final_test.csv'),
      path.join(images, 'GT-final_test.csv'),
      path.join(images, '..', 'GT-final_test.csv'),
    ],
    'GT-final_test.csv (from GTSRB_Final_Test_GT.zip)',
  );
  return { images, csv };
}

/** Lists a GTSRB split. `root`: the extraction folder (see data-scripts/gtsrb.ts). */
export function readGtsrb(root: string, split: 'train' | 'test'): ImageFileList {
  const loc = locate(root, split);
  const files: string[] = [];
  const labels: number[] = [];
  const rois: ([number, number, number, number] | null)[] = [];
  if (split === 'train') {
    const dirs = fs
      .readdirSync(loc.images)
      .filter((d) => /^\d{5}$/.test(d))
      .sort();
    for (const d of dirs) {
      const y = Number(d);
      if (y >= GTSRB_NUM_CLASSES)
        throw new Error(
          `${path.join(loc.images, d)}: class folder beyond ${GTSRB_NUM_CLASSES - 1}`,
        );
      const dir = path.join(loc.images, d);
      const csv = path.join(dir, `GT-${d}.csv`);
      if (fs.existsSync(csv)) {
        parseDelimited(fs.readFileSync(csv, 'utf8'), ';', csv).forEach((r, i) => {
          files.push(path.join(dir, r.Filename));
          labels.push(y);
          rois.push(roiOf(r, csv, i + 2));
        });
      } else {
        for (const f of fs
          .readdirSync(dir)
          .filter((f) => f.toLowerCase().endsWith('.ppm'))
          .sort()) {
          files.push(path.join(dir, f));
          labels.push(y);
          rois.push(null);
        }
      }
    }
  } else {
    const csv = loc.csv!;
    parseDelimited(fs.readFileSync(csv, 'utf8'), ';', csv).forEach((r, i) => {
      const y = intField(r, 'ClassId', csv, i + 2);
      if (y < 0 || y >= GTSRB_NUM_CLASSES)
        throw new Error(`${csv}: line ${i + 2}: ClassId ${y} outside 0…42`);
      files.push(path.join(loc.images, r.Filename));
      labels.push(y);
      rois.push(roiOf(r, csv, i + 2));
    });
  }
  if (files.length === 0) throw new Error(`GTSRB ${split}: no images found under ${loc.images}`);
  for (const f of files)
    if (!fs.existsSync(f)) throw new Error(`GTSRB ${split}: ${f} is listed but missing`);
  return {
    name: 'gtsrb',
    split,
    files,
    labels: Int32Array.from(labels),
    labelDim: 1,
    classes: Array.from({ length: GTSRB_NUM_CLASSES }, (_, i) => String(i)),
    rois,
  };
}
