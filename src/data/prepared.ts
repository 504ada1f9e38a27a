/**
 * Prepared dataset folders, writing side.
 *
 * A split is a folder:
 *   manifest.json   name, split, count, shape [H, W, C], classes, labelDim, sha256 per file
 *   images.u8       raw uint8 pixels, NHWC, count·H·W·C bytes (np.memmap-able)
 *   labels.i32      little-endian int32, count·labelDim values
 *   names.json      optional per-image identifiers
 * Every file also records the sha256 of each `chunkBytes` block so a corruption is
 * reported with its byte range. The folder is built under a temporary name and renamed
 * into place by `finish()`: an interrupted conversion leaves no partial output.
 *
 * A resumable writer (`resume`, used by the data scripts) builds in `.<name>.partial`
 * beside the target and records its progress there (`progress.json`: the source's key,
 * the image count, each file's length and the sha256 of that prefix) every
 * `checkpointSeconds`. A later writer with the same key truncates the files to the
 * recorded lengths, re-hashes them against the record and continues from there; the
 * finished folder is byte-identical to one written in a single run. Another key, or a
 * prefix that no longer hashes as recorded, starts over (with a line saying why).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset } from './dataset';
import { imageBytes, validateDataset } from './dataset';
import { commitDir, tempSibling, writeJsonAtomic } from '../util/atomic';

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
  /**
   * @param resumeBytes continue an existing file: keep (and re-hash) its first
   *   `resumeBytes` bytes, drop the rest.
   */
  constructor(
    private dir: string,
    private name: string,
    private chunkBytes: number,
    resumeBytes?: number,
  ) {
    const file = path.join(dir, name);
    if (resumeBytes === undefined) {
      this.fd = fs.openSync(file, 'w');
      return;
    }
    this.fd = fs.openSync(file, 'r+');
    try {
      const size = fs.fstatSync(this.fd).size;
      if (size < resumeBytes)
        throw new Error(`${file} has ${size} bytes, the progress record ${resumeBytes}`);
      fs.ftruncateSync(this.fd, resumeBytes);
      const buf = Buffer.allocUnsafe(Math.min(DEFAULT_CHUNK_BYTES, Math.max(resumeBytes, 1)));
      while (this.bytes < resumeBytes) {
        const n = fs.readSync(
          this.fd,
          buf,
          0,
          Math.min(buf.length, resumeBytes - this.bytes),
          this.bytes,
        );
        if (n === 0) throw new Error(`${file}: unexpected end at byte ${this.bytes}`);
        this.hash(buf.subarray(0, n));
        this.bytes += n;
      }
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
  }
  /** Bytes written so far. */
  get length(): number {
    return this.bytes;
  }
  /** Hex sha256 of the bytes written so far. */
  prefixSha256(): string {
    return this.whole.copy().digest('hex');
  }
  private hash(data: Uint8Array): void {
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
  }
  write(data: Uint8Array): void {
    this.hash(data);
    let w = 0;
    while (w < data.length) w += fs.writeSync(this.fd, data, w, data.length - w, this.bytes + w);
    this.bytes += data.length;
  }
  /** Forces the written bytes to disk (before a progress record names them). */
  sync(): void {
    fs.fdatasyncSync(this.fd);
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

/** Options of a resumable `PreparedWriter` (see the header). */
export interface ResumeOptions {
  /** Identity of the source and transform; a partial folder with another key starts over. */
  key: string;
  /** Seconds between progress records (default 10; 0: after every append). */
  checkpointSeconds?: number;
  /** Where "resuming at image N" / "starting over: why" lines go. */
  log?: (message: string) => void;
}

export interface PreparedWriterOptions {
  overwrite?: boolean;
  chunkBytes?: number;
  resume?: ResumeOptions;
}

/** The folder a resumable conversion of `dir` builds in. */
export function partialDir(dir: string): string {
  const abs = path.resolve(dir);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.partial`);
}

const PROGRESS_FORMAT = 'carp-kit-prepared-progress';
const PROGRESS_FILE = 'progress.json';
const DATA_FILES = ['images.u8', 'labels.i32', 'names.json'] as const;

/** The progress record of a resumable conversion: what the files' prefixes hold. */
interface ProgressRecord {
  format: typeof PROGRESS_FORMAT;
  key: string;
  meta: PreparedMeta;
  chunkBytes: number;
  count: number;
  /** Per data file: the recorded length and the sha256 of that prefix. */
  files: Partial<Record<(typeof DATA_FILES)[number], { bytes: number; sha256: string }>>;
}

/** The fields of `m` a progress record keeps (a dataset passed as meta has more). */
function recordedMeta(m: PreparedMeta): PreparedMeta {
  const { name, split, height, width, channels, classes, labelDim, preprocessing } = m;
  return { name, split, height, width, channels, classes, labelDim, preprocessing };
}

/**
 * Incremental writer for conversions too large to hold in memory (ImageNet):
 * `append` whole images with their labels, then `finish` (or `abort` on failure).
 * Names are streamed into names.json as they come (the same bytes as one
 * `JSON.stringify` of all of them).
 */
export class PreparedWriter {
  private tmp: string;
  private images!: HashedFile;
  private labels!: HashedFile;
  private names: HashedFile | undefined;
  private written = 0;
  private done = false;
  private per: number;
  private labelDim: number;
  private chunkBytes: number;
  private lastCheckpoint = Date.now();
  private broken = false;

  constructor(
    readonly dir: string,
    private meta: PreparedMeta,
    private opts: PreparedWriterOptions = {},
  ) {
    if (fs.existsSync(dir) && !opts.overwrite) {
      throw new Error(`${dir} already exists (pass overwrite to replace it)`);
    }
    this.per = imageBytes(meta);
    this.labelDim = meta.labelDim ?? 1;
    if (!(this.per > 0)) throw new Error(`PreparedWriter(${dir}): image shape must be positive`);
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (opts.resume) {
      this.tmp = partialDir(dir);
      if (this.resume(opts.resume)) return;
      fs.rmSync(this.tmp, { recursive: true, force: true });
    } else this.tmp = tempSibling(dir);
    fs.mkdirSync(this.tmp, { recursive: true });
    this.images = new HashedFile(this.tmp, 'images.u8', this.chunkBytes);
    this.labels = new HashedFile(this.tmp, 'labels.i32', this.chunkBytes);
  }

  /** Images appended so far (after a resume: those already in the partial folder included). */
  get count(): number {
    return this.written;
  }

  /** Continues from the partial folder's progress record; false (with a reason) to start over. */
  private resume(r: ResumeOptions): boolean {
    const record = path.join(this.tmp, PROGRESS_FILE);
    if (!fs.existsSync(record)) return false;
    const log = r.log ?? (() => {});
    const over = (why: string) => {
      log(`${this.dir}: starting over (${why})`);
      return false;
    };
    let p: ProgressRecord;
    try {
      p = JSON.parse(fs.readFileSync(record, 'utf8'));
    } catch (e) {
      return over(`${record} is not valid JSON: ${(e as Error).message}`);
    }
    if (p?.format !== PROGRESS_FORMAT || p.key !== r.key)
      return over('the partial conversion was of another source or transform');
    if (
      JSON.stringify(p.meta) !== JSON.stringify(recordedMeta(this.meta)) ||
      p.chunkBytes !== this.chunkBytes
    )
      return over('the partial conversion has another shape, classes or block size');
    const opened: HashedFile[] = [];
    try {
      const open = (name: (typeof DATA_FILES)[number]) => {
        const e = p.files[name]!;
        const f = new HashedFile(this.tmp, name, this.chunkBytes, e.bytes);
        opened.push(f);
        if (f.prefixSha256() !== e.sha256)
          throw new Error(`${path.join(this.tmp, name)}: the first ${e.bytes} bytes changed`);
        return f;
      };
      if (
        !Number.isSafeInteger(p.count) ||
        p.files['images.u8']?.bytes !== p.count * this.per ||
        p.files['labels.i32']?.bytes !== p.count * this.labelDim * 4
      )
        throw new Error(`${record}: file lengths disagree with count ${p.count}`);
      this.images = open('images.u8');
      this.labels = open('labels.i32');
      if (p.files['names.json']) this.names = open('names.json');
      else fs.rmSync(path.join(this.tmp, 'names.json'), { force: true });
    } catch (e) {
      for (const f of opened) f.abort();
      return over((e as Error).message);
    }
    this.written = p.count;
    log(`${this.dir}: resuming at image ${p.count} (progress record verified)`);
    return true;
  }

  /** Syncs the files and records how far they are valid (resumable writers). */
  private checkpoint(): void {
    const files: ProgressRecord['files'] = {};
    for (const [name, f] of [
      ['images.u8', this.images],
      ['labels.i32', this.labels],
      ['names.json', this.names],
    ] as const) {
      if (!f) continue;
      f.sync();
      files[name] = { bytes: f.length, sha256: f.prefixSha256() };
    }
    const record: ProgressRecord = {
      format: PROGRESS_FORMAT,
      key: this.opts.resume!.key,
      meta: recordedMeta(this.meta),
      chunkBytes: this.chunkBytes,
      count: this.written,
      files,
    };
    writeJsonAtomic(path.join(this.tmp, PROGRESS_FILE), record);
    this.lastCheckpoint = Date.now();
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
      if (this.names === undefined && this.written > 0) {
        throw new Error(`PreparedWriter(${this.dir}): names given for some appends but not all`);
      }
    } else if (this.names !== undefined) {
      throw new Error(`PreparedWriter(${this.dir}): names given for some appends but not all`);
    }
    try {
      this.images.write(images);
      this.labels.write(int32LE(labels));
      if (names !== undefined) {
        const first = this.names === undefined;
        this.names ??= new HashedFile(this.tmp, 'names.json', this.chunkBytes);
        const text = names.map((v) => JSON.stringify(v)).join(',');
        const sep = first ? '[' : names.length > 0 ? ',' : '';
        this.names.write(Buffer.from(sep + text));
      }
    } catch (e) {
      this.broken = true; // the files may disagree now: the last record stays the valid one
      throw e;
    }
    this.written += n;
    const r = this.opts.resume;
    if (r && Date.now() - this.lastCheckpoint >= 1000 * (r.checkpointSeconds ?? 10))
      this.checkpoint();
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
        this.names.write(Buffer.from(']'));
        files.names = this.names.close();
      }
      // A resumable folder also holds its progress record (and perhaps the temporary file
      // of an interrupted record write): the finished folder has the data files only.
      for (const e of fs.readdirSync(this.tmp))
        if (!(DATA_FILES as readonly string[]).includes(e))
          fs.rmSync(path.join(this.tmp, e), { recursive: true, force: true });
      const m = this.meta;
      const manifest: PreparedManifest = {
        format: PREPARED_FORMAT,
        version: PREPARED_VERSION,
        name: m.name,
        split: m.split,
        count: this.written,
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

  /**
   * Stops writing. A plain writer discards everything; a resumable one records its
   * progress first and keeps the partial folder for the next run.
   */
  abort(): void {
    if (this.done) return;
    if (this.opts.resume && !this.broken) {
      try {
        this.checkpoint();
      } catch {
        /* the last record stays valid */
      }
    }
    this.done = true;
    this.images.abort();
    this.labels.abort();
    this.names?.abort();
    if (!this.opts.resume) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Writes an in-memory dataset as a prepared folder (atomically). */
export function writePrepared(
  dir: string,
  d: ImageDataset,
  opts: Omit<PreparedWriterOptions, 'resume'> = {},
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
