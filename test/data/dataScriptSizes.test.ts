/**
 * Downloads without a published checksum are size-checked: a file holding another number
 * of images than its release is refused with a `SizeMismatchError` naming the file, the
 * expected and the found count, before anything is converted. Run on small archives in the
 * release layouts, placed in downloads/ as a user would (`--skip-download`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COPYDAYS_SPEC, prepareCopydays } from '../../data-scripts/copydays';
import { FGVC_AIRCRAFT_SPEC, prepareAircraft } from '../../data-scripts/fgvcAircraft';
import { parseArgs } from '../../data-scripts/lib/common';
import { checkCount, SizeMismatchError } from '../../data-scripts/lib/sizes';
import { FormatError } from '../../src/util/formatError';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-ds-sizes-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes `files` (path → content) under a folder and packs it as `archive` (tar.gz). */
function tarGz(archive: string, files: Record<string, string>): void {
  const src = fs.mkdtempSync(path.join(tmp, 'src-'));
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
    fs.writeFileSync(path.join(src, f), content);
  }
  fs.mkdirSync(path.dirname(archive), { recursive: true });
  const r = spawnSync('tar', ['-czf', archive, '-C', src, '.']);
  expect(r.status).toBe(0);
}

describe('size checks', () => {
  it('checkCount: a typed error with the file, the expected and the found count', () => {
    expect(() => checkCount('/d/a.txt', 'images', 3, 3)).not.toThrow();
    let err: unknown;
    try {
      checkCount('/d/a.txt', 'images', 6667, 6660);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SizeMismatchError);
    expect(err).toBeInstanceOf(FormatError);
    const e = err as SizeMismatchError;
    expect([e.file, e.what, e.expected, e.found]).toEqual(['/d/a.txt', 'images', 6667, 6660]);
    expect(e.message).toBe(
      '/d/a.txt: expected 6667 images, found 6660 (a truncated download or another release)',
    );
  });

  it('fgvc-aircraft: a split list with too few images is refused by name', async () => {
    const dataDir = path.join(tmp, 'aircraft');
    const data = 'fgvc-aircraft-2013b/data';
    tarGz(path.join(dataDir, 'downloads', 'fgvc-aircraft-2013b.tar.gz'), {
      [`${data}/variants.txt`]: '707-320\nA300B4\n',
      [`${data}/images_variant_trainval.txt`]: '0034309 707-320\n0034958 A300B4\n',
      [`${data}/images_variant_test.txt`]: '0056978 A300B4\n',
    });
    const o = parseArgs(['--data-dir', dataDir, '--skip-download'], FGVC_AIRCRAFT_SPEC, () => {});
    const list = path.join(dataDir, 'raw', 'fgvc-aircraft', data, 'images_variant_trainval.txt');
    await expect(prepareAircraft(o)).rejects.toThrow(
      new SizeMismatchError(list, 'images', 6667, 2),
    );
    expect(fs.existsSync(path.join(dataDir, 'fgvc-aircraft'))).toBe(false);
  });

  it('copydays: an original archive with too few images is refused by name', async () => {
    const dataDir = path.join(tmp, 'copydays');
    const dl = path.join(dataDir, 'downloads');
    const jpgs = (dir: string, n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${dir}/${200000 + i}.jpg`, 'x']));
    tarGz(path.join(dl, 'copydays_original.tar.gz'), jpgs('original', 3));
    tarGz(path.join(dl, 'copydays_strong.tar.gz'), jpgs('strong', 229));
    tarGz(path.join(dl, 'copydays_jpeg.tar.gz'), jpgs('jpegqual/3', 3));
    tarGz(path.join(dl, 'copydays_crop.tar.gz'), jpgs('crops/10', 3));
    const o = parseArgs(['--data-dir', dataDir, '--skip-download'], COPYDAYS_SPEC, () => {});
    await expect(prepareCopydays(o)).rejects.toThrow(
      new SizeMismatchError(
        path.join(dl, 'copydays_original.tar.gz'),
        'images (original/)',
        157,
        3,
      ),
    );
  });
});
