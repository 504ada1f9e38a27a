/**
 * Resumable, verified downloads for the data scripts.
 *
 * A download goes to `<dest>.part`; when a `.part` exists it asks for the rest with an HTTP
 * `Range: bytes=N-` request and appends on `206 Partial Content` (a `200` means the server
 * ignored the range: start over). Redirects are followed. The finished file is checked
 * against the published checksum (md5 or sha256) before it is renamed into place, so a
 * file at `dest` is always complete and verified; a mismatch deletes the `.part` and fails.
 * A `dest` that already exists and verifies is not fetched again.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';

export interface Checksum {
  algorithm: 'md5' | 'sha256';
  hex: string;
}

export interface DownloadOptions {
  /** Published checksum; without one the file is only size-checked (when known). */
  checksum?: Checksum;
  /** Called with (bytes so far, total or null) at most every 200 ms. */
  onProgress?: (done: number, total: number | null) => void;
  /** Attempts after a dropped connection, each resuming (default 3). */
  retries?: number;
  /** Request timeout in ms without data (default 60 000). */
  timeoutMs?: number;
}

/** Hex digest of a file. */
export async function fileDigest(file: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  const h = crypto.createHash(algorithm);
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Throws naming the file when its digest differs from `c`. */
export async function verifyChecksum(file: string, c: Checksum): Promise<void> {
  const got = await fileDigest(file, c.algorithm);
  if (got !== c.hex.toLowerCase()) {
    throw new Error(
      `${file}: ${c.algorithm} is ${got}, expected ${c.hex.toLowerCase()} (corrupt or wrong file)`,
    );
  }
}

const OFFLINE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNRESET',
  'ETIMEDOUT',
]);

function offlineError(url: string, dest: string, e: NodeJS.ErrnoException): Error {
  return new Error(
    `cannot reach ${new URL(url).host} (${e.code ?? e.message}): are you offline? ` +
      `Download ${url} by other means and place it at ${dest}, then run the script again ` +
      '(it verifies the checksum and continues).',
  );
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  stream: http.IncomingMessage;
}

function request(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  redirects = 5,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(
      url,
      { headers: { 'user-agent': 'carp-kit-data-scripts', ...headers } },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (redirects === 0) return reject(new Error(`${url}: too many redirects`));
          const next = new URL(res.headers.location, url).toString();
          request(next, headers, timeoutMs, redirects - 1).then(resolve, reject);
          return;
        }
        resolve({ status, headers: res.headers, stream: res });
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
  });
}

/** One attempt: resumes from the current `.part` size; resolves when the body has ended. */
async function attempt(url: string, part: string, o: DownloadOptions): Promise<void> {
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const res = await request(
    url,
    have > 0 ? { range: `bytes=${have}-` } : {},
    o.timeoutMs ?? 60_000,
  );
  if (res.status === 416) {
    // Range past the end: the .part is already complete (or longer than the file).
    res.stream.resume();
    return;
  }
  if (res.status !== 200 && res.status !== 206) {
    res.stream.resume();
    throw new Error(`${url}: HTTP ${res.status}`);
  }
  const append = res.status === 206 && have > 0;
  const start = append ? have : 0;
  const len = Number(res.headers['content-length']);
  const total = Number.isFinite(len) ? start + len : null;
  const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
  let done = start;
  let last = 0;
  await new Promise<void>((resolve, reject) => {
    let failure: Error | null = null;
    // On a dropped connection keep (flush) what arrived: the next attempt resumes from it.
    const fail = (e: Error) => {
      if (failure) return;
      failure = Object.assign(e, { code: (e as NodeJS.ErrnoException).code ?? 'ECONNRESET' });
      res.stream.unpipe(out);
      out.end();
    };
    res.stream.on('data', (chunk: Buffer) => {
      done += chunk.length;
      const now = Date.now();
      if (o.onProgress && now - last > 200) {
        last = now;
        o.onProgress(done, total);
      }
    });
    res.stream.on('error', fail);
    res.stream.on('aborted', () => fail(new Error('connection dropped')));
    out.on('error', reject);
    out.on('finish', () => (failure ? reject(failure) : resolve()));
    res.stream.pipe(out);
  });
  if (total !== null && done < total) {
    throw Object.assign(new Error(`${url}: connection closed at byte ${done} of ${total}`), {
      code: 'ECONNRESET',
    });
  }
  o.onProgress?.(done, total);
}

/**
 * Downloads `url` to `dest` (resuming a previous `.part`), verifies it and renames it
 * into place. Returns 'present' when `dest` already verified, 'downloaded' otherwise.
 */
export async function download(
  url: string,
  dest: string,
  o: DownloadOptions = {},
): Promise<'present' | 'downloaded'> {
  if (fs.existsSync(dest)) {
    if (o.checksum) await verifyChecksum(dest, o.checksum);
    return 'present';
  }
  fs.mkdirSync(path.dirname(path.resolve(dest)), { recursive: true });
  const part = `${dest}.part`;
  const tries = 1 + (o.retries ?? 3);
  for (let i = 0; ; i++) {
    try {
      await attempt(url, part, o);
      break;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const transient = err.code !== undefined && OFFLINE_CODES.has(err.code);
      if (!transient) throw err;
      // Nothing received at all: most likely offline — say so instead of retrying.
      if (!fs.existsSync(part) && err.code !== 'ECONNRESET') throw offlineError(url, dest, err);
      if (i + 1 >= tries) throw offlineError(url, dest, err);
    }
  }
  if (o.checksum) {
    try {
      await verifyChecksum(part, o.checksum);
    } catch (e) {
      fs.rmSync(part, { force: true });
      throw e;
    }
  }
  fs.renameSync(part, dest);
  return 'downloaded';
}
