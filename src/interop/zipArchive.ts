/**
 * Random-access reading of the zip container that `torch.save` writes (§8): one
 * folder `<prefix>/` holding `data.pkl`, `data/<key>` (raw storages), `version` and
 * sometimes `byteorder`.
 *
 * Why not `fflate.unzipSync` on the whole file: an official CARP checkpoint holds
 * student, teacher and optimiser state (hundreds of MB) while evaluation needs only the
 * teacher, and Node cannot read a file over 2 GiB into one buffer. So we read the
 * central directory (with its ZIP64 extensions, which PyTorch's writer emits for large
 * archives) and then fetch single entries by file position. PyTorch stores entries
 * uncompressed (method 0); a deflated entry (a re-zipped file) is inflated with zlib,
 * bounded by its declared size. Every entry read is checked against its CRC-32.
 * Format reference: PKWARE APPNOTE.TXT §4.3.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { crc32 } from '../util/crc32';
import { FormatError, IntegrityError } from '../util/formatError';

/** Where the bytes come from: a file descriptor (lazy) or a buffer already in memory. */
export interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Uint8Array;
  close(): void;
}

export function bufferSource(buf: Uint8Array, label = 'buffer'): ByteSource {
  return {
    size: buf.length,
    read: (position, length) => {
      if (position < 0 || length < 0 || position + length > buf.length) {
        throw new FormatError(
          label,
          `read of ${length} bytes at byte ${position} runs past the end (${buf.length} bytes)`,
          { offset: position },
        );
      }
      return buf.subarray(position, position + length);
    },
    close: () => {},
  };
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return {
    size,
    read(position, length) {
      if (position < 0 || length < 0 || position + length > size) {
        throw new FormatError(
          path,
          `read of ${length} bytes at byte ${position} runs past the end (${size} bytes)`,
          { offset: position },
        );
      }
      // A fresh ArrayBuffer per read: typed views over it are always aligned.
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, position + done);
        if (n === 0) {
          throw new FormatError(path, `unexpected end of file at byte ${position + done}`, {
            offset: position + done,
          });
        }
        done += n;
      }
      return out;
    },
    close: () => closeSync(fd),
  };
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** CRC-32 of the uncompressed bytes (central directory), checked by every `read`. */
  crc32: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  /** @param label names the archive in error messages (usually its path). */
  constructor(
    private readonly src: ByteSource,
    readonly label: string,
  ) {
    this.readCentralDirectory();
  }

  static open(path: string, label = path): ZipArchive {
    const src = fileSource(path);
    try {
      return new ZipArchive(src, label);
    } catch (e) {
      src.close();
      throw e;
    }
  }

  close(): void {
    this.src.close();
  }

  /**
   * The uncompressed bytes of one entry, checked against the CRC-32 of the central
   * directory (an `IntegrityError` on a mismatch). A deflated entry that inflates to more
   * (or fewer) bytes than its header declares is a `FormatError`, not a truncation.
   */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new FormatError(this.label, `zip has no entry '${name}'`);
    const fail = (msg: string, offset?: number): never => {
      throw new FormatError(this.label, `zip entry '${name}': ${msg}`, { offset });
    };
    if (e.localHeaderOffset + 30 > this.src.size) {
      fail(`local header at byte ${e.localHeaderOffset} lies past the end of the file`);
    }
    const local = this.view(e.localHeaderOffset, 30);
    if (local.getUint32(0, true) !== SIG_LOCAL) {
      fail(`bad local header at byte ${e.localHeaderOffset} (expected signature PK\\3\\4)`);
    }
    // The local extra field differs from the central one (PyTorch pads it to align data).
    const dataStart =
      e.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    if (dataStart + e.compressedSize > this.src.size) {
      fail(
        `${e.compressedSize} bytes from byte ${dataStart} run past the end of the file (${this.src.size} bytes)`,
        dataStart,
      );
    }
    const raw = this.src.read(dataStart, e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) {
        fail(`stored entry has ${e.compressedSize} bytes but declares ${e.size}`, dataStart);
      }
      out = raw;
    } else if (e.method === 8) {
      // The declared size bounds the output: a deflate stream that would exceed it is
      // refused before anything beyond size + 1 bytes is allocated.
      try {
        out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size + 1) });
      } catch (err) {
        const tooLong = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
        return fail(
          tooLong
            ? `deflated data inflates to more than the ${e.size} bytes its header declares`
            : `deflated data is corrupt (${(err as Error).message})`,
          dataStart,
        );
      }
      if (out.length !== e.size) {
        fail(
          `deflated data inflates to ${out.length} bytes, ${out.length > e.size ? 'more' : 'fewer'} than the ${e.size} its header declares`,
          dataStart,
        );
      }
    } else {
      return fail(`uses compression method ${e.method} (expected 0 stored or 8 deflated)`);
    }
    const crc = crc32(out);
    if (crc !== e.crc32) {
      throw new IntegrityError(
        this.label,
        `zip entry '${name}': CRC-32 ${hex32(crc)} of its ${out.length} bytes does not match ` +
          `the ${hex32(e.crc32)} recorded in the zip: the data is corrupt`,
        { offset: dataStart },
      );
    }
    return out;
  }

  private view(position: number, length: number): DataView {
    if (position < 0 || position + length > this.src.size) {
      throw new FormatError(
        this.label,
        `zip structure at byte ${position} (+${length}) lies outside the file (${this.src.size} bytes)`,
        { offset: position },
      );
    }
    const b = this.src.read(position, length);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private readCentralDirectory(): void {
    const size = this.src.size;
    // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
    const tailLen = Math.min(size, 22 + 0xffff + 20);
    const tailStart = size - tailLen;
    const tail = this.src.read(tailStart, tailLen);
    const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    const fail = (msg: string, offset?: number): never => {
      throw new FormatError(this.label, msg, { offset });
    };
    if (eocd < 0) fail('not a zip file (expected an end-of-central-directory record)');
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    if (eocd >= 20 && tv.getUint32(eocd - 20, true) === SIG_EOCD64_LOCATOR) {
      const at = Number(tv.getBigUint64(eocd - 20 + 8, true));
      const z = this.view(at, 56);
      if (z.getUint32(0, true) !== SIG_EOCD64) fail(`bad ZIP64 end record at byte ${at}`, at);
      count = Number(z.getBigUint64(32, true));
      cdSize = Number(z.getBigUint64(40, true));
      cdOffset = Number(z.getBigUint64(48, true));
    }
    if (!Number.isSafeInteger(cdOffset + cdSize) || cdOffset + cdSize > size) {
      fail(`central directory [${cdOffset}, +${cdSize}) lies outside the file (${size} bytes)`);
    }
    // Each entry takes at least 46 bytes: a count beyond that is a corrupt record.
    if (count > cdSize / 46)
      fail(`${count} entries cannot fit a central directory of ${cdSize} bytes`);
    const cd = this.src.read(cdOffset, cdSize);
    const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || v.getUint32(p, true) !== SIG_CENTRAL) {
        fail(`bad central directory entry ${i} at byte ${cdOffset + p}`, cdOffset + p);
      }
      const nameLen = v.getUint16(p + 28, true);
      const extraLen = v.getUint16(p + 30, true);
      const commentLen = v.getUint16(p + 32, true);
      if (p + 46 + nameLen + extraLen + commentLen > cdSize) {
        fail(`central directory entry ${i} at byte ${cdOffset + p} runs past the directory`);
      }
      const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
      const e: ZipEntry = {
        crc32: v.getUint32(p + 16, true),
        name,
        method: v.getUint16(p + 10, true),
        compressedSize: v.getUint32(p + 20, true),
        size: v.getUint32(p + 24, true),
        localHeaderOffset: v.getUint32(p + 42, true),
      };
      readZip64Extra(v, p + 46 + nameLen, extraLen, e);
      this.entries.set(name, e);
      p += 46 + nameLen + extraLen + commentLen;
    }
  }
}

/** Replaces 0xFFFFFFFF placeholders with the values of the ZIP64 extra field (id 0x0001). */
function readZip64Extra(v: DataView, start: number, len: number, e: ZipEntry): void {
  // (A field that the extra block is too short to hold stays 0xFFFFFFFF: out of range later.)
  let q = start;
  while (q + 4 <= start + len) {
    const id = v.getUint16(q, true);
    const sz = v.getUint16(q + 2, true);
    if (id === 0x0001) {
      let r = q + 4;
      const next = (): number => {
        if (r + 8 > q + 4 + sz || r + 8 > v.byteLength) return 0xffffffff;
        const x = Number(v.getBigUint64(r, true));
        r += 8;
        return x;
      };
      // Only the fields whose 32-bit value overflowed are present, in this order.
      if (e.size === 0xffffffff) e.size = next();
      if (e.compressedSize === 0xffffffff) e.compressedSize = next();
      if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = next();
    }
    q += 4 + sz;
  }
}

function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
