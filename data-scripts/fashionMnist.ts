/**
 * Fashion-MNIST as prepared folders fashion-mnist/{train,test} (28×28×1). Downloads the
 * four gzipped IDX files of the original release (torchvision's host; `--mirror URL`
 * for another) into downloads/, or reads them from `--source DIR` (e.g. Debian's
 * /usr/share/datasets/fashion-mnist, package dataset-fashion-mnist, which the kit reads
 * directly without this script: src/data/fashionMnist.ts).
 *
 * Verification is by the SHA-256 of each file's decompressed IDX bytes: the gzip bytes
 * differ between copies (Debian's package recompresses the release's files, so its .gz
 * md5s are not torchvision's) while the images and labels are the same, so the content
 * hash accepts every faithful copy and nothing else. The hashes were taken from Debian's
 * copy; the IDX headers and sizes are the release's (60 000 / 10 000 images).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { loadFashionMnist } from '../src/data/fashionMnist';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { downloadsDir, fetchFiles, prepareDataset, preparedDir, runMain } from './lib/common';

const BASE = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

export interface IdxFile {
  file: string;
  /** SHA-256 of the decompressed IDX bytes. */
  contentSha256: string;
  /** Bytes of the decompressed IDX file. */
  contentBytes: number;
}

export const FASHION_MNIST_FILES: IdxFile[] = [
  {
    file: 'train-images-idx3-ubyte.gz',
    contentSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    contentBytes: 47040016,
  },
  {
    file: 'train-labels-idx1-ubyte.gz',
    contentSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    contentBytes: 60008,
  },
  {
    file: 't10k-images-idx3-ubyte.gz',
    contentSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    contentBytes: 7840016,
  },
  {
    file: 't10k-labels-idx1-ubyte.gz',
    contentSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    contentBytes: 10008,
  },
];

/** Throws naming the file when its decompressed bytes are not the release's. */
export function verifyIdx(file: string, f: IdxFile): void {
  let content: Buffer;
  try {
    content = gunzipSync(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`${file}: not a complete gzip file (${(e as Error).message})`);
  }
  const got = createHash('sha256').update(content).digest('hex');
  if (content.length !== f.contentBytes || got !== f.contentSha256) {
    throw new Error(
      `${file}: decompressed ${content.length} bytes with sha256 ${got}, expected ` +
        `${f.contentBytes} bytes with sha256 ${f.contentSha256} (corrupt or wrong file)`,
    );
  }
}

export async function prepareFashionMnist(
  o: ScriptOptions,
  files: IdxFile[] = FASHION_MNIST_FILES,
): Promise<void> {
  let dir: string;
  if (o.extra.source) {
    dir = path.resolve(o.extra.source);
    for (const f of files) verifyIdx(path.join(dir, f.file), f);
  } else {
    const paths = await fetchFiles(
      o,
      files.map((f) => ({
        url: `${BASE}${f.file}`,
        file: f.file,
        howToGet: `Download ${BASE}${f.file}, or use --source DIR (e.g. /usr/share/datasets/fashion-mnist from apt-get install dataset-fashion-mnist).`,
      })),
    );
    files.forEach((f, i) => {
      try {
        verifyIdx(paths[i], f);
      } catch (e) {
        // A wrong file must not stay where the next run would take it as done.
        fs.rmSync(paths[i], { force: true });
        throw new Error(`${(e as Error).message}; removed it`);
      }
    });
    dir = downloadsDir(o);
  }
  for (const split of ['train', 'test'] as const) {
    prepareDataset(o, preparedDir(o, 'fashion-mnist', split), loadFashionMnist(split, { dir }));
  }
}

/** --help text and the script's own options. */
export const FASHION_MNIST_SPEC: ScriptSpec = {
  description:
    'Fashion-MNIST (quickstart, presets fmnist-*): fashion-mnist/{train,test} as raw 28×28×1.\n' +
    'Downloads the four IDX files (verified by the SHA-256 of their content), or --source.',
  options: {
    source: {
      value: 'DIR',
      help: 'read the four .gz IDX files from DIR instead (e.g. /usr/share/datasets/fashion-mnist)',
    },
  },
};

if (require.main === module) runMain('fashion-mnist', prepareFashionMnist, FASHION_MNIST_SPEC);
