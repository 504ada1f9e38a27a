/**
 * TensorBoard event files (`events.out.tfevents.*`): reading their scalars — one file,
 * or every file under a folder grouped by the folder they lie in (a TensorBoard "run") —
 * and writing scalars as a new event file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../../util/atomic';
import { decodeEvent, encodeEvent, type ScalarValue } from './eventProto';
import { ProtoError } from './protoWire';
import { EventFileError, frameRecord, scanRecords } from './tfrecord';

/** One point of a scalar series. */
export interface ScalarPoint {
  step: number;
  wallTime: number;
  value: number;
}

/** A file's scalars by tag, in file order. */
export interface EventFileScalars {
  file: string;
  fileVersion?: string;
  scalars: Map<string, ScalarPoint[]>;
}

/** File names TensorBoard reads. */
export const EVENT_FILE = /^events\.out\.tfevents\./;
/** The suffix of the event files the kit writes (so a report does not read its own copy). */
export const KIT_EVENT_SUFFIX = '.carp-kit';

/**
 * The scalars of one event file's bytes. `partial`: keep what precedes a damaged record
 * and return the damage as `error`; otherwise the damage throws.
 */
export function parseEventFile(
  bytes: Uint8Array,
  file: string,
  partial = false,
): { scalars: EventFileScalars; error?: EventFileError } {
  const scan = scanRecords(bytes, file);
  const out: EventFileScalars = { file, scalars: new Map() };
  let error = scan.error;
  for (const record of scan.records) {
    let e;
    try {
      e = decodeEvent(record);
    } catch (err) {
      if (!(err instanceof ProtoError)) throw err;
      // The record's framing starts 12 bytes before its data.
      const offset = record.byteOffset - bytes.byteOffset - 12;
      error = new EventFileError(file, offset, 'protobuf', `bad Event protobuf: ${err.message}`);
      break;
    }
    if (e.fileVersion !== undefined) out.fileVersion = e.fileVersion;
    for (const s of e.scalars) {
      const list = out.scalars.get(s.tag) ?? [];
      list.push({ step: e.step, wallTime: e.wallTime, value: s.value });
      out.scalars.set(s.tag, list);
    }
  }
  if (error && !partial) throw error;
  return { scalars: out, error };
}

/** Reads one event file; a CRC mismatch, a truncated record or bad protobuf throws EventFileError. */
export function readEventFile(path: string): EventFileScalars {
  return parseEventFile(readFileSync(path), path).scalars;
}

/** A TensorBoard run: the event files of one folder, their scalars merged in file-name order. */
export interface TensorBoardRun {
  /** The folder, relative to the searched root ('.' for the root itself). */
  name: string;
  dir: string;
  files: string[];
  scalars: Map<string, ScalarPoint[]>;
  /** Damaged files (their sound records before the damage are kept). */
  problems: EventFileError[];
}

/** Event files under `root` (depth ≤ maxDepth), sorted; `skipKit` leaves out the kit's own. */
export function findEventFiles(root: string, o: { maxDepth?: number; skipKit?: boolean } = {}) {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory() && depth < (o.maxDepth ?? 3)) walk(p, depth + 1);
      else if (e.isFile() && EVENT_FILE.test(e.name)) {
        if (!(o.skipKit && e.name.endsWith(KIT_EVENT_SUFFIX))) found.push(p);
      }
    }
  };
  walk(root, 0);
  return found.sort();
}

/** Reads every event file under `root`, one TensorBoardRun per folder holding any. */
export function readTensorBoardRuns(
  root: string,
  o: { maxDepth?: number; skipKit?: boolean } = {},
): TensorBoardRun[] {
  const runs = new Map<string, TensorBoardRun>();
  for (const file of findEventFiles(root, o)) {
    const dir = dirname(file);
    const run = runs.get(dir) ?? {
      name: relative(root, dir) || '.',
      dir,
      files: [],
      scalars: new Map<string, ScalarPoint[]>(),
      problems: [],
    };
    runs.set(dir, run);
    run.files.push(file);
    const { scalars, error } = parseEventFile(readFileSync(file), file, true);
    if (error) run.problems.push(error);
    for (const [tag, points] of scalars.scalars)
      run.scalars.set(tag, [...(run.scalars.get(tag) ?? []), ...points]);
  }
  return [...runs.values()];
}

/** One logged step to write: its scalars by tag. */
export interface ScalarRow {
  step: number;
  /** Seconds since the Unix epoch. */
  wallTime: number;
  scalars: Record<string, number>;
}

/**
 * Writes `rows` as a new event file in `dir` (created): the file-version event, then one
 * event per row with a simple_value per tag. Written atomically (temp file + rename).
 * Returns the file's path: events.out.tfevents.<seconds>.<host>.carp-kit.
 */
export function writeEventFile(dir: string, rows: readonly ScalarRow[], now = Date.now()): string {
  const first = rows.length > 0 ? rows[0].wallTime : now / 1000;
  const chunks = [
    frameRecord(
      encodeEvent({ wallTime: first, step: 0, fileVersion: 'brain.Event:2', scalars: [] }),
    ),
  ];
  for (const r of rows) {
    const scalars: ScalarValue[] = Object.entries(r.scalars).map(([tag, value]) => ({
      tag,
      value,
    }));
    chunks.push(frameRecord(encodeEvent({ wallTime: r.wallTime, step: r.step, scalars })));
  }
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
  const path = join(
    dir,
    `events.out.tfevents.${Math.floor(now / 1000)}.${host}${KIT_EVENT_SUFFIX}`,
  );
  writeFileAtomic(path, Buffer.concat(chunks));
  return path;
}
