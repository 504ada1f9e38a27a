/**
 * Prepared dataset folders (architecture §3.4), writing side.
 *
 * A split is a folder:
 *   manifest.json   name, split, count, shape [H, W, C], classes, labelDim, sha256 per file
 *   images.u8       raw uint8 pixels, NHWC, count·H·W·C bytes (np.memmap-able)
 *   labels.i32      little-endian int32, count·labelDim values
 *   names.json      optional per-image identifiers
 * Every file also records the sha256 of each `chunkBytes` block so a corruption is
 * reported with its byte range. The folder is built under a temporary name and renamed
 * into place by `finish()`: an interrupted conversion leaves no partial output.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset } from './dataset';
import { imageBytes, validateDataset } from './dataset';
import { commitDir, tempSibling } from '../util/atomic';

export const PREPARED_FORMAT = 'carp-kit-prepared';
export const PREPARED_VERSION = 1;
/** Default hash block size (16 MiB). */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

export interface PreparedFileEntry {
  /** File name inside the folder. */
  path: string;
  bytes: number;
  /** Hex sha256 of the whole file. */
  sha256: string;
  /** Block size of `chunkSha256`. */
  chunkBytes: number;
  /** Hex sha256 of each block [k·chunkBytes, (k+1)·chunkBytes). */
  chunkSha256: string[];
}

export interface PreparedManifest {
  format: typeof PREPARED_FORMAT;
  version: number;
  name: string;
  split: string;
  count: number;
  /** [height, width, channels]. */
  shape: [number, number, number];
  dtype: 'uint8';
  labelDim: number;
  classes: string[];
  preprocessing?: string;
  files: { images: PreparedFileEntry; labels: PreparedFileEntry; names?: PreparedFileEntry };
}

export interface PreparedMeta {
  name: string;
  split: string;
  height: number;
  width: number;
  channels: number;
  classes: string[];
  labelDim?: number;
  preprocessing?: string;
}

/** Streams data into one file while hashing it whole and per block. */
class HashedFile {
  private fd: number;
  private bytes = 0;
  private whole = crypto.createHash('sha256');
  private chunk = crypto.createHash('sha256');
  private inChunk = 0;
  private chunks: string[] = [];
  constructor(
    private dir: string,
    private name: string,
    private chunkBytes: number,
  ) {
    this.fd = fs.openSync(path.join(dir, name), 'w');
  }
  write(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, this.chunkBytes - this.inChunk);
      const part = data.subarray(off, off + n);
      this.whole.update(part);
      this.chunk.update(part);
      this.inChunk += n;
      off += n;
      if (this.inChunk === this.chunkBytes) this.flushChunk();
    }
    let w = 0;
    while (w < data.length) w += fs.writeSync(this.fd, data, w, data.length - w);
    this.bytes += data.length;
  }
  private flushChunk(): void {
    this.chunks.push(this.chunk.digest('hex'));
    this.chunk = crypto.createHash('sha256');
    this.inChunk = 0;
  }
  close(): PreparedFileEntry {
    if (this.inChunk > 0 || this.bytes === 0) this.flushChunk();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    return {
      path: this.name,
      bytes: this.bytes,
      sha256: this.whole.digest('hex'),
      chunkBytes: this.chunkBytes,
      chunkSha256: this.chunks,
    };
  }
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** Little-endian bytes of an int32 array (a view on little-endian hosts). */
export function int32LE(a: Int32Array): Uint8Array {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) return b;
  const out = Buffer.alloc(a.byteLength);
  for (let i = 0; i < a.length; i++) out.writeInt32LE(a[i], 4 * i);
  return out;
}

/**
 * Incremental writer for conversions too large to hold in memory (ImageNet):
 * `append` whole images with their labels, then `finish` (or `abort` on failure).
 */
export class PreparedWriter {
  private tmp: string;
  private images: HashedFile;
  private labels: HashedFile;
  private names: string[] | undefined;
  private count = 0;
  private done = false;
  private per: number;
  private labelDim: number;

  constructor(
    readonly dir: string,
    private meta: PreparedMeta,
    private opts: { overwrite?: boolean; chunkBytes?: number } = {},
  ) {
    if (fs.existsSync(dir) && !opts.overwrite) {
      throw new Error(`${dir} already exists (pass overwrite to replace it)`);
    }
    this.per = imageBytes(meta);
    this.labelDim = meta.labelDim ?? 1;
    if (!(this.per > 0)) throw new Error(`PreparedWriter(${dir}): image shape must be positive`);
    this.tmp = tempSibling(dir);
    fs.mkdirSync(this.tmp, { recursive: true });
    const cb = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.images = new HashedFile(this.tmp, 'images.u8', cb);
    this.labels = new HashedFile(this.tmp, 'labels.i32', cb);
  }

  /** Appends `n` images ([n, H, W, C] uint8) with labels ([n, labelDim]) and optional names. */
  append(images: Uint8Array, labels: Int32Array, names?: string[]): void {
    if (this.done) throw new Error(`PreparedWriter(${this.dir}): already finished`);
    const n = labels.length / this.labelDim;
    if (!Number.isInteger(n) || images.length !== n * this.per) {
      throw new Error(
        `PreparedWriter(${this.dir}): append got ${images.length} image bytes and ${labels.length} labels; ` +
          `expected n·${this.per} bytes and n·${this.labelDim} labels`,
      );
    }
    if (names !== undefined) {
      if (names.length !== n)
        throw new Error(`PreparedWriter(${this.dir}): ${names.length} names for ${n} images`);
      if (this.names === undefined && this.count > 0) {
        throw new Error(`PreparedWriter(${this.dir}): names given for some appends but not all`);
      }
      (this.names ??= []).push(...names);
    } else if (this.names !== undefined) {
      throw new Error(`PreparedWriter(${this.dir}): names given for some appends but not all`);
    }
    this.images.write(images);
    this.labels.write(int32LE(labels));
    this.count += n;
  }

  /** Writes the manifest and moves the folder into place. */
  finish(): PreparedManifest {
    if (this.done) throw new Error(`PreparedWriter(${this.dir}): already finished`);
    this.done = true;
    try {
      const files: PreparedManifest['files'] = {
        images: this.images.close(),
        labels: this.labels.close(),
      };
      if (this.names !== undefined) {
        const nf = new HashedFile(
          this.tmp,
          'names.json',
          this.opts.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        );
        nf.write(Buffer.from(JSON.stringify(this.names)));
        files.names = nf.close();
      }
      const m = this.meta;
      const manifest: PreparedManifest = {
        format: PREPARED_FORMAT,
        version: PREPARED_VERSION,
        name: m.name,
        split: m.split,
        count: this.count,
        shape: [m.height, m.width, m.channels],
        dtype: 'uint8',
        labelDim: this.labelDim,
        classes: m.classes,
        ...(m.preprocessing !== undefined ? { preprocessing: m.preprocessing } : {}),
        files,
      };
      fs.writeFileSync(
        path.join(this.tmp, 'manifest.json'),
        JSON.stringify(manifest, null, 2) + '\n',
      );
      commitDir(this.tmp, this.dir, this.opts.overwrite ?? false);
      return manifest;
    } catch (e) {
      fs.rmSync(this.tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Discards everything written so far. */
  abort(): void {
    this.done = true;
    this.images.abort();
    this.labels.abort();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Writes an in-memory dataset as a prepared folder (atomically). */
export function writePrepared(
  dir: string,
  d: ImageDataset,
  opts: { overwrite?: boolean; chunkBytes?: number } = {},
): PreparedManifest {
  validateDataset(d);
  const w = new PreparedWriter(dir, d, opts);
  try {
    w.append(d.images, d.labels, d.names);
  } catch (e) {
    w.abort();
    throw e;
  }
  return w.finish();
}
