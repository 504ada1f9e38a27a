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
 * uncompressed (method 0); a deflated entry (a re-zipped file) is inflated with fflate.
 * Format reference: PKWARE APPNOTE.TXT section 4.3.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'fflate';

/** Where the bytes come from: a file descriptor (lazy) or a buffer already in memory. */
export interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Uint8Array;
  close(): void;
}

export function bufferSource(buf: Uint8Array): ByteSource {
  return {
    size: buf.length,
    read: (position, length) => buf.subarray(position, position + length),
    close: () => {},
  };
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return {
    size,
    read(position, length) {
      // A fresh ArrayBuffer per read: typed views over it are always aligned.
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, position + done);
        if (n === 0) throw new Error(`${path}: unexpected end of file at byte ${position + done}`);
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

  static open(path: string): ZipArchive {
    const src = fileSource(path);
    try {
      return new ZipArchive(src, path);
    } catch (e) {
      src.close();
      throw e;
    }
  }

  close(): void {
    this.src.close();
  }

  /** The uncompressed bytes of one entry. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.label}: zip has no entry '${name}'`);
    const local = this.view(e.localHeaderOffset, 30);
    if (local.getUint32(0, true) !== SIG_LOCAL) {
      throw new Error(
        `${this.label}: bad local header for '${name}' at byte ${e.localHeaderOffset}`,
      );
    }
    // The local extra field differs from the central one (PyTorch pads it to align data).
    const dataStart =
      e.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    if (dataStart + e.compressedSize > this.src.size) {
      throw new Error(`${this.label}: entry '${name}' runs past the end of the file`);
    }
    const raw = this.src.read(dataStart, e.compressedSize);
    if (e.method === 0) return raw;
    if (e.method === 8) {
      const out = inflateSync(raw, { out: new Uint8Array(e.size) });
      if (out.length !== e.size)
        throw new Error(`${this.label}: '${name}' inflated to a wrong size`);
      return out;
    }
    throw new Error(
      `${this.label}: entry '${name}' uses compression method ${e.method} (only 0 and 8)`,
    );
  }

  private view(position: number, length: number): DataView {
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
    if (eocd < 0)
      throw new Error(`${this.label}: not a zip file (no end-of-central-directory record)`);
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    if (eocd >= 20 && tv.getUint32(eocd - 20, true) === SIG_EOCD64_LOCATOR) {
      const at = Number(tv.getBigUint64(eocd - 20 + 8, true));
      const z = this.view(at, 56);
      if (z.getUint32(0, true) !== SIG_EOCD64)
        throw new Error(`${this.label}: bad ZIP64 end record`);
      count = Number(z.getBigUint64(32, true));
      cdSize = Number(z.getBigUint64(40, true));
      cdOffset = Number(z.getBigUint64(48, true));
    }
    if (cdOffset + cdSize > size) throw new Error(`${this.label}: central directory out of range`);
    const cd = this.src.read(cdOffset, cdSize);
    const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || v.getUint32(p, true) !== SIG_CENTRAL) {
        throw new Error(`${this.label}: bad central directory entry ${i} at byte ${cdOffset + p}`);
      }
      const nameLen = v.getUint16(p + 28, true);
      const extraLen = v.getUint16(p + 30, true);
      const commentLen = v.getUint16(p + 32, true);
      const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
      const e: ZipEntry = {
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
  let q = start;
  while (q + 4 <= start + len) {
    const id = v.getUint16(q, true);
    const sz = v.getUint16(q + 2, true);
    if (id === 0x0001) {
      let r = q + 4;
      const next = (): number => {
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
