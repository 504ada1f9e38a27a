/**
 * Shared pieces of the reader fuzz tests: bounded fast-check runs with a fixed default
 * seed (CARP_FUZZ_SEED / CARP_FUZZ_RUNS vary them), mutations of valid inputs (byte
 * flips, truncation, insertion, extreme length fields, zeroed ranges), and the property
 * every reader must keep: it returns, or throws a `FormatError` (or a subclass) whose
 * message names the file — never a bare RangeError/TypeError.
 */
import fc from 'fast-check';
import { FormatError } from '../../src/util/formatError';

export const RUNS = Number(process.env.CARP_FUZZ_RUNS ?? 250);
export const SEED = Number(process.env.CARP_FUZZ_SEED ?? 20261203);

type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'fill'; at: number; width: number; value: number };

const position = fc.oneof(fc.nat({ max: 64 }), fc.nat());
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  // Length and count fields set to extremes (0, 2^32−1, 2^63…, a sign bit).
  fc.record({
    kind: fc.constant('fill' as const),
    at: position,
    width: fc.constantFrom(1, 2, 4, 8, 64),
    value: fc.constantFrom(0x00, 0xff, 0x7f, 0x80),
  }),
);

function apply(valid: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = Uint8Array.from(valid);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'set') b[at] = m.value;
    else if (m.kind === 'truncate') b = b.slice(0, m.at % (b.length + 1));
    else if (m.kind === 'insert') {
      const out = new Uint8Array(b.length + m.bytes.length);
      out.set(b.subarray(0, at));
      out.set(m.bytes, at);
      out.set(b.subarray(at), at + m.bytes.length);
      b = out;
    } else b.fill(m.value, at, Math.min(b.length, at + m.width));
  }
  return b;
}

/** Valid bytes with 1–4 mutations. */
export function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => apply(valid, ms));
}

/** Random bytes, or a valid input mutated (one arbitrary for both kinds of case). */
export function hostileBytes(...valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }) },
    ...valid.map((v) => ({ weight: 3, arbitrary: mutated(v) })),
  );
}

function check(e: unknown, file: string): void {
  if (!(e instanceof FormatError)) {
    throw new Error(
      `expected a FormatError naming ${file}, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
      { cause: e },
    );
  }
  // (`file:entry` — a zip entry inside the file — names the file too)
  if (!e.message.includes(file) || !e.file.startsWith(file)) {
    throw new Error(`FormatError does not name ${file}: ${e.message}`);
  }
}

/** The reader property, synchronous: `read` returns or throws a FormatError naming `file`. */
export function returnsOrFormatError(read: () => unknown, file: string): void {
  try {
    read();
  } catch (e) {
    check(e, file);
  }
}

/** The same property for asynchronous readers. */
export async function returnsOrFormatErrorAsync(
  read: () => Promise<unknown>,
  file: string,
): Promise<void> {
  try {
    await read();
  } catch (e) {
    check(e, file);
  }
}

/** Runs a property over `arb` for RUNS cases with the fixed seed. */
export function fuzz<T>(arb: fc.Arbitrary<T>, body: (value: T) => void): void {
  fc.assert(fc.property(arb, body), { numRuns: RUNS, seed: SEED });
}

export async function fuzzAsync<T>(
  arb: fc.Arbitrary<T>,
  body: (value: T) => Promise<void>,
): Promise<void> {
  await fc.assert(fc.asyncProperty(arb, body), { numRuns: RUNS, seed: SEED });
}
