/**
 * Size checks of downloads that have no published checksum (revisited Oxford/Paris,
 * Copydays, FGVC-Aircraft, the iNat 2018 annotations): the number of images each file
 * holds is the release's, or the file is refused by name with both numbers — a truncated
 * download or another release then stops the script before anything is converted.
 */
import { FormatError } from '../../src/util/formatError';

/** A file holds another number of items than its release. */
export class SizeMismatchError extends FormatError {
  override name = 'SizeMismatchError';
  constructor(
    file: string,
    /** What was counted, e.g. `images`, `database images (imlist)`. */
    readonly what: string,
    readonly expected: number,
    readonly found: number,
  ) {
    super(
      file,
      `expected ${expected} ${what}, found ${found} (a truncated download or another release)`,
    );
  }
}

/** Throws a `SizeMismatchError` naming `file` unless `found === expected`. */
export function checkCount(file: string, what: string, expected: number, found: number): void {
  if (found !== expected) throw new SizeMismatchError(file, what, expected, found);
}
