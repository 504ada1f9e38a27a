import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCifar10, readCifar100 } from '../../src/data/cifar';
import { readCopydays } from '../../src/data/copydays';
import { materialize, resizeTo, writeFileListPrepared } from '../../src/data/fileList';
import { readGtsrb } from '../../src/data/gtsrb';
import { decodeImageFile, encodeImageFile, encodePnm, parsePnm } from '../../src/data/imageFile';
import { readImageFolder } from '../../src/data/imageFolder';
import { readPickle } from '../../src/data/pickle';
import { readPrepared } from '../../src/data/preparedRead';
import { readRevisitedGroundTruth, revisitedProtocol } from '../../src/data/revisited';
import { readStl10 } from '../../src/data/stl10';
import { VOC_CLASSES, readVoc2007 } from '../../src/data/voc2007';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-readers-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const mk = (...p: string[]) => {
  const d = path.join(tmp, ...p);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const fixtures = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'fixtures', 'pickles.json'), 'utf8'),
);

/** Pixel (c, y, x) of test image i: a distinct value per position. */
const px = (i: number, c: number, y: number, x: number) => (i * 7 + c * 50 + y * 3 + x) % 256;

describe('CIFAR binary', () => {
  it('reads CIFAR-10 records (label + R, G, B planes) as HWC', () => {
    const dir = mk('cifar-10-batches-bin');
    const rec = (i: number, y: number) => {
      const r = new Uint8Array(3073);
      r[0] = y;
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < 1024; p++) r[1 + c * 1024 + p] = px(i, c, p >> 5, p & 31);
      return r;
    };
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), Buffer.concat([rec(0, 3), rec(1, 9)]));
    fs.writeFileSync(
      path.join(dir, 'batches.meta.txt'),
      'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n',
    );
    const d = readCifar10(dir, 'test');
    expect([d.count, d.height, d.width, d.channels]).toEqual([2, 32, 32, 3]);
    expect(Array.from(d.labels)).toEqual([3, 9]);
    expect(d.classes[3]).toBe('cat');
    // image 1, row 2, col 5, channel G
    expect(d.images[3072 + (2 * 32 + 5) * 3 + 1]).toBe(px(1, 1, 2, 5));
    expect(() => readCifar10(dir, 'train')).toThrow(/data_batch_1\.bin not found/);
    fs.writeFileSync(
      path.join(dir, 'test_batch.bin'),
      Buffer.concat([rec(0, 3), rec(1, 9).subarray(0, 100)]),
    );
    expect(() => readCifar10(dir, 'test')).toThrow(
      /test_batch\.bin: truncated record at byte offset 3073/,
    );
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), rec(0, 10));
    expect(() => readCifar10(dir, 'test')).toThrow(/label 10 at byte offset 0/);
  });

  it('reads CIFAR-100 fine and coarse labels', () => {
    const dir = mk('cifar-100-binary');
    const r = new Uint8Array(2 * 3074);
    r.set([4, 77], 0);
    r.set([19, 99], 3074);
    fs.writeFileSync(path.join(dir, 'train.bin'), r);
    fs.writeFileSync(
      path.join(dir, 'fine_label_names.txt'),
      Array.from({ length: 100 }, (_, i) => `f${i}`).join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'coarse_label_names.txt'),
      Array.from({ length: 20 }, (_, i) => `c${i}`).join('\n'),
    );
    expect(Array.from(readCifar100(dir, 'train').labels)).toEqual([77, 99]);
    const coarse = readCifar100(dir, 'train', { labels: 'coarse' });
    expect(Array.from(coarse.labels)).toEqual([4, 19]);
    expect(coarse.classes.length).toBe(20);
  });
});

describe('STL-10 binary', () => {
  it('transposes column-major CHW to HWC and shifts labels to 0-based', () => {
    const dir = mk('stl10_binary');
    const n = 2;
    const x = new Uint8Array(n * 3 * 96 * 96);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < 3; c++)
        for (let col = 0; col < 96; col++)
          for (let row = 0; row < 96; row++)
            x[i * 27648 + c * 9216 + col * 96 + row] = px(i, c, row, col);
    fs.writeFileSync(path.join(dir, 'test_X.bin'), x);
    fs.writeFileSync(path.join(dir, 'test_y.bin'), Uint8Array.from([1, 10]));
    fs.writeFileSync(path.join(dir, 'unlabeled_X.bin'), x);
    const d = readStl10(dir, 'test');
    expect(Array.from(d.labels)).toEqual([0, 9]);
    expect(d.classes[9]).toBe('truck');
    expect(d.images[27648 + (10 * 96 + 3) * 3 + 2]).toBe(px(1, 2, 10, 3));
    const u = readStl10(dir, 'unlabeled', { limit: 1 });
    expect(u.count).toBe(1);
    expect(u.labels[0]).toBe(-1);
    fs.writeFileSync(path.join(dir, 'test_y.bin'), Uint8Array.from([0, 1]));
    expect(() => readStl10(dir, 'test')).toThrow(/test_y\.bin: label 0 at byte offset 0/);
  });
});

describe('image files', () => {
  const img = (h: number, w: number, c: number, i = 0) => ({
    data: Uint8Array.from({ length: h * w * c }, (_, k) =>
      px(i, k % c, Math.floor(k / (w * c)), Math.floor(k / c) % w),
    ),
    height: h,
    width: w,
    channels: c,
  });

  it('parses PPM/PGM (with comments) and rejects truncated data with the offset', () => {
    const a = img(3, 4, 3);
    const buf = Buffer.concat([Buffer.from('P6\n# comment\n4 3\n255\n'), Buffer.from(a.data)]);
    expect(parsePnm(buf).data).toEqual(a.data);
    expect(parsePnm(encodePnm(img(2, 2, 1))).channels).toBe(1);
    expect(() => parsePnm(buf.subarray(0, 30), 'x.ppm')).toThrow(
      /x\.ppm: invalid PPM\/PGM at byte offset 30: pixel data truncated/,
    );
  });

  it('decodes PNG losslessly and JPEG approximately through sharp, greyscale → RGB', async () => {
    const a = img(5, 6, 3);
    await encodeImageFile(path.join(tmp, 'a.png'), a);
    expect((await decodeImageFile(path.join(tmp, 'a.png'))).data).toEqual(a.data);
    const g = img(4, 4, 1);
    await encodeImageFile(path.join(tmp, 'g.png'), g);
    const rgb = await decodeImageFile(path.join(tmp, 'g.png'));
    expect(rgb.channels).toBe(3);
    expect(Array.from(rgb.data.subarray(0, 6))).toEqual([
      g.data[0],
      g.data[0],
      g.data[0],
      g.data[1],
      g.data[1],
      g.data[1],
    ]);
    await encodeImageFile(path.join(tmp, 'a.jpg'), {
      ...img(8, 8, 3),
      data: new Uint8Array(192).fill(120),
    });
    const j = await decodeImageFile(path.join(tmp, 'a.jpg'));
    expect(Math.abs(j.data[17] - 120)).toBeLessThanOrEqual(2);
    fs.writeFileSync(path.join(tmp, 'bad.png'), 'not an image');
    await expect(decodeImageFile(path.join(tmp, 'bad.png'))).rejects.toThrow(
      /bad\.png: cannot decode image/,
    );
  });

  it('lists image folders in torchvision order and materialises / prepares them', async () => {
    const root = mk('folder');
    for (const [cls, n] of [
      ['dog', 2],
      ['cat', 1],
      ['Zebra', 1],
    ] as const) {
      mk('folder', cls);
      for (let i = 0; i < n; i++)
        await encodeImageFile(path.join(root, cls, `${i}.png`), img(6 + i, 5, 3, i));
    }
    fs.writeFileSync(path.join(root, 'dog', 'notes.txt'), 'ignored');
    const list = readImageFolder(root, { name: 'toy', split: 'train' });
    expect(list.classes).toEqual(['Zebra', 'cat', 'dog']); // code-unit order, as Python's sorted()
    expect(Array.from(list.labels)).toEqual([0, 1, 2, 2]);
    const d = await materialize(list, resizeTo(4, 4));
    expect([d.count, d.height, d.width, d.channels]).toEqual([4, 4, 4, 3]);
    expect(d.preprocessing).toBe('resize-4x4-bilinear');
    const m = await writeFileListPrepared(path.join(tmp, 'toy-train'), list, resizeTo(4, 4));
    expect(m.count).toBe(4);
    expect(readPrepared(path.join(tmp, 'toy-train'), { verify: true }).images).toEqual(d.images);
    // a bad file aborts the conversion and leaves no folder
    fs.writeFileSync(path.join(root, 'cat', '9.png'), 'broken');
    await expect(
      writeFileListPrepared(path.join(tmp, 'toy-bad'), readImageFolder(root), resizeTo(4, 4)),
    ).rejects.toThrow(/9\.png/);
    expect(fs.existsSync(path.join(tmp, 'toy-bad'))).toBe(false);
  });

  it('reads GTSRB train folders with CSVs and the test CSV, with ROIs', async () => {
    const root = mk('gtsrb');
    const tr = mk('gtsrb', 'GTSRB', 'Final_Training', 'Images', '00000');
    mk('gtsrb', 'GTSRB', 'Final_Training', 'Images', '00002');
    fs.writeFileSync(path.join(tr, '00000_00000.ppm'), encodePnm(img(6, 7, 3)));
    fs.writeFileSync(
      path.join(tr, 'GT-00000.csv'),
      'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n00000_00000.ppm;7;6;1;1;5;4;0\n',
    );
    const tr2 = path.join(root, 'GTSRB', 'Final_Training', 'Images', '00002');
    fs.writeFileSync(path.join(tr2, 'a.ppm'), encodePnm(img(5, 5, 3)));
    const train = readGtsrb(root, 'train');
    expect(Array.from(train.labels)).toEqual([0, 2]);
    expect(train.rois).toEqual([[1, 1, 5, 4], null]);
    const withRoi = await materialize(train, resizeTo(3, 3), { useRoi: true });
    expect(withRoi.count).toBe(2);
    const te = mk('gtsrb', 'GTSRB', 'Final_Test', 'Images');
    fs.writeFileSync(path.join(te, '00000.ppm'), encodePnm(img(9, 8, 3)));
    fs.writeFileSync(
      path.join(root, 'GT-final_test.csv'),
      'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n00000.ppm;8;9;0;0;7;8;42\n',
    );
    const test = readGtsrb(root, 'test');
    expect(Array.from(test.labels)).toEqual([42]);
    fs.writeFileSync(
      path.join(root, 'GT-final_test.csv'),
      'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n00000.ppm;8;9;0;0;7;8\n',
    );
    expect(() => readGtsrb(root, 'test')).toThrow(/GT-final_test\.csv: line 2 has 7 fields/);
  });
});

describe('VOC 2007', () => {
  it('builds the [N, 20] label matrix from per-class files, difficult → −1 by default', () => {
    const voc = mk('voc', 'VOCdevkit', 'VOC2007');
    const main = mk('voc', 'VOCdevkit', 'VOC2007', 'ImageSets', 'Main');
    fs.writeFileSync(path.join(main, 'test.txt'), '000001\n000002\n');
    for (const c of VOC_CLASSES) {
      const v = c === 'dog' ? ['1', ' 0'] : c === 'person' ? ['-1', ' 1'] : ['-1', '-1'];
      fs.writeFileSync(path.join(main, `${c}_test.txt`), `000001 ${v[0]}\n000002 ${v[1]}\n`);
    }
    const l = readVoc2007(path.join(tmp, 'voc'), 'test');
    expect(l.labelDim).toBe(20);
    expect(l.files[1]).toBe(path.join(voc, 'JPEGImages', '000002.jpg'));
    const dog = VOC_CLASSES.indexOf('dog');
    const person = VOC_CLASSES.indexOf('person');
    expect([l.labels[dog], l.labels[20 + dog], l.labels[20 + person]]).toEqual([1, -1, 1]);
    const keep = readVoc2007(voc, 'test', { difficult: 'keep' });
    expect(keep.labels[20 + dog]).toBe(0);
    // without per-class files, the annotations give the same matrix
    for (const c of VOC_CLASSES) fs.rmSync(path.join(main, `${c}_test.txt`));
    const ann = mk('voc', 'VOCdevkit', 'VOC2007', 'Annotations');
    fs.writeFileSync(
      path.join(ann, '000001.xml'),
      '<annotation><object><name>dog</name><difficult>0</difficult></object></annotation>',
    );
    fs.writeFileSync(
      path.join(ann, '000002.xml'),
      '<annotation><object><name>dog</name><difficult>1</difficult></object><object><name>person</name><difficult>0</difficult></object></annotation>',
    );
    expect(Array.from(readVoc2007(voc, 'test', { difficult: 'keep' }).labels)).toEqual(
      Array.from(keep.labels),
    );
  });
});

describe('revisited Oxford / Paris ground truth', () => {
  it('reads the plain-list pickle (protocols 2–5) and its JSON conversion', () => {
    for (const [p, b64] of Object.entries(fixtures.gndPickles as Record<string, string>)) {
      const f = path.join(tmp, `gnd_${p}.pkl`);
      fs.writeFileSync(f, Buffer.from(b64, 'base64'));
      const gt = readRevisitedGroundTruth(f);
      expect(gt.imlist).toEqual(fixtures.gnd.imlist);
      expect(gt.gnd[0]).toEqual(fixtures.gnd.gnd[0]);
    }
    const j = path.join(tmp, 'gnd.json');
    fs.writeFileSync(j, JSON.stringify(fixtures.gnd));
    const gt = readRevisitedGroundTruth(j);
    expect(revisitedProtocol(gt, 'medium')).toEqual({
      positives: [[0, 2, 1], [2]],
      junk: [[], [0, 1]],
    });
    expect(revisitedProtocol(gt, 'hard')).toEqual({
      positives: [[1], [2]],
      junk: [
        [0, 2],
        [0, 1],
      ],
    });
    fs.writeFileSync(
      j,
      JSON.stringify({
        ...fixtures.gnd,
        gnd: [{ easy: [7], hard: [], junk: [] }, fixtures.gnd.gnd[1]],
      }),
    );
    expect(() => readRevisitedGroundTruth(j)).toThrow(/gnd\[0\]\.easy has index 7 ≥ 3/);
  });

  it('decodes plain pickle values and refuses numpy objects', () => {
    const v = readPickle(Buffer.from(fixtures.misc, 'base64')) as { a: unknown[] };
    expect(v.a.slice(0, 8)).toEqual([2 ** 40, -3, -300, 70000, 3.5, null, true, [1, 2]]);
    expect(Array.from(v.a[8] as Uint8Array)).toEqual([104, 105]);
    expect(v.a[9]).toBe('é'.repeat(300));
    expect(v.a[10]).toBe(2n ** 70n);
    expect(() => readPickle(Buffer.from(fixtures.numpy, 'base64'), 'n.pkl')).toThrow(
      /n\.pkl: the pickle reconstructs Python objects \(numpy\.[\w.]+, .*convert it to JSON/,
    );
    expect(() => readPickle(Buffer.from(fixtures.misc, 'base64').subarray(0, 40), 't.pkl')).toThrow(
      /t\.pkl: truncated: .*\(opcode at byte \d+\)/,
    );
  });
});

describe('Copydays', () => {
  it('lists blocks in name order with the strong-block prefix rule', () => {
    const root = mk('copydays');
    mk('copydays', 'original');
    mk('copydays', 'strong');
    mk('copydays', 'jpegqual', '3');
    for (const n of ['200100.jpg', '200000.jpg'])
      fs.writeFileSync(path.join(root, 'original', n), '');
    for (const n of ['200001.jpg', '200101.jpg', '200102.jpg'])
      fs.writeFileSync(path.join(root, 'strong', n), '');
    for (const n of ['200000.jpg', '200100.jpg', 'x.txt'])
      fs.writeFileSync(path.join(root, 'jpegqual', '3', n), '');
    const c = readCopydays(root, ['original', 'strong', 'jpegqual/3']);
    expect(c.database.map((f) => path.basename(f))).toEqual(['200000.jpg', '200100.jpg']);
    expect(c.blocks[1].positives).toEqual([[0], [1], [1]]);
    expect(c.blocks[2].positives).toEqual([[0], [1]]);
    expect(() => readCopydays(root, ['crops/10'])).toThrow(/crops\/10 not found/);
  });
});
