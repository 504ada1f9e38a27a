/**
 * Prepared dataset folders (architecture §3.4), reading side: manifest validation, whole
 * reads into memory, on-demand sha256 verification, and a file-backed `ImageSource`
 * whose batch reads are asynchronous (they overlap a running training step).
 * Errors name the file and, for size and hash problems, the byte offset.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset } from './dataset';
import { validateDataset } from './dataset';
import type { PreparedFileEntry, PreparedManifest } from './prepared';
import { PREPARED_FORMAT, PREPARED_VERSION } from './prepared';
import type { ImageSource } from './source';

/** Reads and checks `manifest.json` of a prepared folder. */
export function readManifest(dir: string): PreparedManifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) {
    throw new Error(`${file} not found: ${dir} is not a prepared dataset folder`);
  }
  let m: PreparedManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const bad = (field: string, want: string): never => {
    throw new Error(
      `${file}: field '${field}' ${want}, got ${JSON.stringify((m as never)[field])}`,
    );
  };
  if (m === null || typeof m !== 'object') throw new Error(`${file}: expected a JSON object`);
  if (m.format !== PREPARED_FORMAT) bad('format', `must be "${PREPARED_FORMAT}"`);
  if (m.version !== PREPARED_VERSION) bad('version', `must be ${PREPARED_VERSION}`);
  if (typeof m.name !== 'string') bad('name', 'must be a string');
  if (typeof m.split !== 'string') bad('split', 'must be a string');
  if (!Number.isInteger(m.count) || m.count < 0) bad('count', 'must be a non-negative integer');
  if (
    !Array.isArray(m.shape) ||
    m.shape.length !== 3 ||
    !m.shape.every((v) => Number.isInteger(v) && v > 0)
  ) {
    bad('shape', 'must be [height, width, channels] of positive integers');
  }
  if (m.dtype !== 'uint8') bad('dtype', 'must be "uint8"');
  if (!Number.isInteger(m.labelDim) || m.labelDim < 1)
    bad('labelDim', 'must be a positive integer');
  if (!Array.isArray(m.classes) || !m.classes.every((c) => typeof c === 'string')) {
    bad('classes', 'must be an array of strings');
  }
  if (!m.files?.images || !m.files?.labels) bad('files', 'must list images and labels');
  const [h, w, c] = m.shape;
  checkEntry(dir, m.files.images, m.count * h * w * c, 'files.images');
  checkEntry(dir, m.files.labels, m.count * m.labelDim * 4, 'files.labels');
  if (m.files.names) checkEntry(dir, m.files.names, null, 'files.names');
  return m;
}

function checkEntry(dir: string, e: PreparedFileEntry, want: number | null, field: string): void {
  const mf = path.join(dir, 'manifest.json');
  if (typeof e.path !== 'string' || e.path.includes('/') || e.path.includes('\\')) {
    throw new Error(`${mf}: field '${field}.path' must be a file name inside the folder`);
  }
  if (want !== null && e.bytes !== want) {
    throw new Error(
      `${mf}: field '${field}.bytes' is ${e.bytes}, expected ${want} from count and shape`,
    );
  }
  const file = path.join(dir, e.path);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing (listed in ${mf})`);
  const size = fs.statSync(file).size;
  if (size !== e.bytes) {
    throw new Error(
      size < e.bytes
        ? `${file}: truncated at byte offset ${size}, manifest says ${e.bytes} bytes`
        : `${file}: has ${size} bytes, manifest says ${e.bytes} (trailing data from byte offset ${e.bytes})`,
    );
  }
}

/**
 * Re-hashes every file block by block; throws naming the first corrupt file and byte
 * range. Returns the manifest.
 */
export function verifyPrepared(dir: string): PreparedManifest {
  const m = readManifest(dir);
  for (const e of [m.files.images, m.files.labels, m.files.names]) {
    if (e) verifyFile(path.join(dir, e.path), e);
  }
  return m;
}

function verifyFile(file: string, e: PreparedFileEntry): void {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(e.chunkBytes, Math.max(e.bytes, 1)));
    const whole = crypto.createHash('sha256');
    const chunks = Math.max(1, Math.ceil(e.bytes / e.chunkBytes));
    if (e.chunkSha256.length !== chunks) {
      throw new Error(
        `${file}: manifest lists ${e.chunkSha256.length} block hashes, expected ${chunks}`,
      );
    }
    for (let k = 0; k < chunks; k++) {
      const start = k * e.chunkBytes;
      const n = Math.min(e.chunkBytes, e.bytes - start);
      let got = 0;
      while (got < n) {
        const r = fs.readSync(fd, buf, got, n - got, start + got);
        if (r === 0) throw new Error(`${file}: truncated at byte offset ${start + got}`);
        got += r;
      }
      const part = buf.subarray(0, n);
      whole.update(part);
      const h = crypto.createHash('sha256').update(part).digest('hex');
      if (h !== e.chunkSha256[k]) {
        throw new Error(
          `${file}: sha256 mismatch in bytes [${start}, ${start + n}) (block ${k}): data is corrupt`,
        );
      }
    }
    if (whole.digest('hex') !== e.sha256)
      throw new Error(`${file}: sha256 of the whole file does not match the manifest`);
  } finally {
    fs.closeSync(fd);
  }
}

function readLabels(file: string, bytes: number): Int32Array {
  const b = fs.readFileSync(file);
  if (b.length !== bytes)
    throw new Error(`${file}: truncated at byte offset ${b.length}, expected ${bytes} bytes`);
  const out = new Int32Array(bytes / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readInt32LE(4 * i);
  return out;
}

function toDatasetFields(dir: string, m: PreparedManifest) {
  const [height, width, channels] = m.shape;
  const names = m.files.names
    ? (JSON.parse(fs.readFileSync(path.join(dir, m.files.names.path), 'utf8')) as string[])
    : undefined;
  return {
    name: m.name,
    split: m.split,
    count: m.count,
    height,
    width,
    channels,
    classes: m.classes,
    labelDim: m.labelDim,
    labels: readLabels(path.join(dir, m.files.labels.path), m.files.labels.bytes),
    ...(names ? { names } : {}),
    ...(m.preprocessing !== undefined ? { preprocessing: m.preprocessing } : {}),
  };
}

/** Loads a prepared folder into memory; `verify` re-hashes it first. */
export function readPrepared(dir: string, opts: { verify?: boolean } = {}): ImageDataset {
  const m = opts.verify ? verifyPrepared(dir) : readManifest(dir);
  const file = path.join(dir, m.files.images.path);
  const images = new Uint8Array(m.files.images.bytes);
  const fd = fs.openSync(file, 'r');
  try {
    let got = 0;
    while (got < images.length) {
      // Reads in ≤1 GiB pieces: single reads above 2 GiB fail in Node.
      const r = fs.readSync(fd, images, got, Math.min(images.length - got, 1 << 30), got);
      if (r === 0) throw new Error(`${file}: truncated at byte offset ${got}`);
      got += r;
    }
  } finally {
    fs.closeSync(fd);
  }
  return validateDataset({ ...toDatasetFields(dir, m), images }, dir);
}

/**
 * Opens a prepared folder as a file-backed `ImageSource`: labels in memory, images read
 * on demand with positioned asynchronous reads (libuv's thread pool does the I/O while
 * the main thread runs the training step).
 */
export async function openPrepared(dir: string): Promise<ImageSource> {
  const m = readManifest(dir);
  const f = toDatasetFields(dir, m);
  const file = path.join(dir, m.files.images.path);
  const handle = await fs.promises.open(file, 'r');
  const per = f.height * f.width * f.channels;
  return {
    ...f,
    async readImages(indices, out) {
      const jobs: Promise<unknown>[] = [];
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k];
        if (!(i >= 0 && i < f.count))
          throw new Error(`${file}: image index ${i} outside [0, ${f.count})`);
        jobs.push(
          handle.read(out, k * per, per, i * per).then(({ bytesRead }) => {
            if (bytesRead !== per)
              throw new Error(`${file}: truncated at byte offset ${i * per + bytesRead}`);
          }),
        );
      }
      await Promise.all(jobs);
    },
    close: () => handle.close(),
  };
}
