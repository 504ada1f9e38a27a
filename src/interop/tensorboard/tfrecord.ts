/**
 * TFRecord framing, the container of TensorBoard event files. Each record is
 *   uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes ·
 *   data[length] · uint32 masked CRC-32C of the data.
 * Reading checks both CRCs; a bad CRC or a record cut short is an `EventFileError` naming
 * the file and the byte offset of the record.
 */
import { maskedCrc32c } from './crc32c';

export type EventFileProblem = 'truncated' | 'length-crc' | 'data-crc' | 'protobuf';

/** A damaged event file: which file, where (byte offset of the record), and what. */
export class EventFileError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly problem: EventFileProblem,
    detail: string,
  ) {
    super(`${file}: record at byte ${offset}: ${detail}`);
    this.name = 'EventFileError';
  }
}

/**
 * The records of a TFRecord file's bytes, in order (views into `bytes`), up to the first
 * damaged one, which is returned as `error` (a file still being written ends in a partial
 * record; the records before it are sound).
 */
export function scanRecords(
  bytes: Uint8Array,
  file: string,
): { records: Uint8Array[]; error?: EventFileError } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let at = 0;
  const fail = (problem: EventFileProblem, detail: string) => ({
    records,
    error: new EventFileError(file, at, problem, detail),
  });
  while (at < bytes.length) {
    if (bytes.length - at < 12)
      return fail('truncated', `truncated header (${bytes.length - at} of 12 bytes)`);
    if (maskedCrc32c(bytes, at, at + 8) !== view.getUint32(at + 8, true))
      return fail('length-crc', 'length CRC mismatch');
    const length = view.getBigUint64(at, true);
    const present = Math.max(0, bytes.length - at - 12);
    if (length + 4n > BigInt(present))
      return fail(
        'truncated',
        `truncated data (${length} bytes + CRC announced, ${present} present)`,
      );
    const n = Number(length);
    const start = at + 12;
    if (maskedCrc32c(bytes, start, start + n) !== view.getUint32(start + n, true))
      return fail('data-crc', 'data CRC mismatch');
    records.push(bytes.subarray(start, start + n));
    at = start + n + 4;
  }
  return { records };
}

/** Every record of a TFRecord file's bytes; a damaged record throws `EventFileError`. */
export function readRecords(bytes: Uint8Array, file: string): Uint8Array[] {
  const { records, error } = scanRecords(bytes, file);
  if (error) throw error;
  return records;
}

/** One record framed for a TFRecord file. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 16);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out, 0, 8), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}
