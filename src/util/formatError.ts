/**
 * One error family for every reader of untrusted bytes (IDX, CIFAR, pickle / `.pth`, zip,
 * safetensors, prepared manifests, image files, ground truth, MAT): a `FormatError` names
 * the file (`file`) and says what was expected there, optionally at which byte offset, so
 * a corrupt or hostile input ends in one typed error instead of a bare RangeError or
 * TypeError from deep inside a parser. `IntegrityError` is the subclass for data whose
 * checksum (sha256 digest, zip CRC-32) does not match.
 */
export class FormatError extends Error {
  override name = 'FormatError';
  /** The file (or buffer label) being read. */
  readonly file: string;
  /** Byte offset of the problem, when known. */
  readonly offset: number | undefined;
  /** The message without the file name. */
  readonly problem: string;

  /**
   * @param file the file; '' while it is not known yet (a callback deep in a parser), for
   *   the parser to fill in when it rethrows (see `withFile`).
   * @param problem what is wrong, phrased with what was expected (without the file name).
   */
  constructor(file: string, problem: string, opts: { offset?: number; cause?: unknown } = {}) {
    super(
      file === '' ? problem : `${file}: ${problem}`,
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.file = file;
    this.offset = opts.offset;
    this.problem = problem;
  }
}

/** Stored checksum and data disagree: the bytes were corrupted after they were written. */
export class IntegrityError extends FormatError {
  override name = 'IntegrityError';
}

/** Whether `e` is an error of the family (for callers that add context and rethrow). */
export function isFormatError(e: unknown): e is FormatError {
  return e instanceof FormatError;
}

/**
 * Refuses to allocate `bytes` for data read from `file` when the file is only
 * `fileBytes` long and each output byte needs at least `ratio` input bytes (1 for raw
 * data): a header that claims 2^60 elements must not reach `new Float32Array(...)`.
 */
export function checkClaimedSize(
  file: string,
  what: string,
  bytes: number,
  fileBytes: number,
  opts: { ratio?: number; offset?: number } = {},
): void {
  const ratio = opts.ratio ?? 1;
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes * ratio > fileBytes) {
    throw new FormatError(
      file,
      `${what} claims ${bytes} bytes, but the file has only ${fileBytes}: expected a size that fits the file`,
      { offset: opts.offset },
    );
  }
}
