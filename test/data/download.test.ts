import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, verifyChecksum } from '../../data-scripts/lib/download';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-dl-'));
const BODY = crypto.createHash('sha256').update('seed').digest().toString('hex').repeat(3000); // 192 000 bytes
const SHA = crypto.createHash('sha256').update(BODY).digest('hex');
const MD5 = crypto.createHash('md5').update(BODY).digest('hex');

/** Requests seen by the server: path and Range header. */
const seen: { url: string; range?: string }[] = [];
let server: http.Server;
let base = '';
/** Per path: drop the connection after this many bytes on the first request. */
const dropAfter = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url!, range: req.headers.range });
    const url = req.url!;
    if (url === '/redirect') {
      res.writeHead(302, { location: '/file' });
      return res.end();
    }
    if (url === '/missing') {
      res.writeHead(404);
      return res.end();
    }
    const ranges = url !== '/norange';
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = ranges && m ? Number(m[1]) : 0;
    if (start >= BODY.length && m) {
      res.writeHead(416);
      return res.end();
    }
    const body = Buffer.from(BODY).subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': body.length,
      ...(start > 0 ? { 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` } : {}),
    });
    const drop = dropAfter.get(url);
    if (drop !== undefined) {
      dropAfter.delete(url);
      res.write(body.subarray(0, drop), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('download (local HTTP server)', () => {
  it('downloads, verifies and skips a present file', async () => {
    const dest = path.join(tmp, 'a.bin');
    expect(
      await download(`${base}/file`, dest, { checksum: { algorithm: 'sha256', hex: SHA } }),
    ).toBe('downloaded');
    expect(fs.readFileSync(dest, 'utf8')).toBe(BODY);
    const n = seen.length;
    expect(await download(`${base}/file`, dest, { checksum: { algorithm: 'md5', hex: MD5 } })).toBe(
      'present',
    );
    expect(seen.length).toBe(n);
  });

  it('resumes a partial download with an HTTP Range request', async () => {
    const dest = path.join(tmp, 'b.bin');
    fs.writeFileSync(`${dest}.part`, BODY.slice(0, 50_000));
    seen.length = 0;
    await download(`${base}/file`, dest, { checksum: { algorithm: 'sha256', hex: SHA } });
    expect(seen).toEqual([{ url: '/file', range: 'bytes=50000-' }]);
    expect(fs.readFileSync(dest, 'utf8')).toBe(BODY);
    expect(fs.existsSync(`${dest}.part`)).toBe(false);
  });

  it('resumes after the connection drops mid-transfer', async () => {
    const dest = path.join(tmp, 'c.bin');
    dropAfter.set('/file', 70_000);
    seen.length = 0;
    await download(`${base}/file`, dest, { checksum: { algorithm: 'md5', hex: MD5 } });
    expect(fs.readFileSync(dest, 'utf8')).toBe(BODY);
    expect(seen.length).toBe(2);
    expect(seen[1].range).toMatch(/^bytes=\d+-$/);
    expect(Number(seen[1].range!.slice(6, -1))).toBeGreaterThan(0);
  });

  it('starts over when the server ignores the range, follows redirects', async () => {
    const dest = path.join(tmp, 'd.bin');
    fs.writeFileSync(`${dest}.part`, 'garbage that must not stay');
    await download(`${base}/norange`, dest, { checksum: { algorithm: 'sha256', hex: SHA } });
    expect(fs.readFileSync(dest, 'utf8')).toBe(BODY);
    await download(`${base}/redirect`, path.join(tmp, 'e.bin'), {
      checksum: { algorithm: 'sha256', hex: SHA },
    });
  });

  it('rejects a checksum mismatch, removing the partial file', async () => {
    const dest = path.join(tmp, 'f.bin');
    await expect(
      download(`${base}/file`, dest, { checksum: { algorithm: 'md5', hex: '0'.repeat(32) } }),
    ).rejects.toThrow(/f\.bin\.part: md5 is [0-9a-f]{32}, expected 0{32}/);
    expect(fs.existsSync(dest) || fs.existsSync(`${dest}.part`)).toBe(false);
    fs.writeFileSync(path.join(tmp, 'g.bin'), 'x');
    await expect(
      verifyChecksum(path.join(tmp, 'g.bin'), { algorithm: 'sha256', hex: SHA }),
    ).rejects.toThrow(/g\.bin: sha256/);
  });

  it('reports HTTP errors and an unreachable host clearly', async () => {
    await expect(download(`${base}/missing`, path.join(tmp, 'h.bin'))).rejects.toThrow(/HTTP 404/);
    // a port nobody listens on: connection refused → offline message
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await expect(
      download(`http://127.0.0.1:${port}/x.tar`, path.join(tmp, 'x.tar')),
    ).rejects.toThrow(
      /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\): are you offline\? .*place it at .*x\.tar/,
    );
  });
});
