/** Debian's headless chromium, for the tests that check pages in a real browser (architecture §7.6). */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CARP_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Loads `url` in headless chromium with no network use of its own and resolves with the
 * dumped DOM; `screenshot` also writes a PNG of the window.
 */
export function chromiumDom(
  url: string,
  o: { screenshot?: string; windowSize?: string } = {},
): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'carp-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--hide-scrollbars',
    `--window-size=${o.windowSize ?? '1200,3800'}`,
    // virtual time runs the page's timers to completion without waiting in real time
    '--virtual-time-budget=15000',
    ...(o.screenshot ? [`--screenshot=${o.screenshot}`] : []),
    '--dump-dom',
    url,
  ];
  return new Promise((res, rej) => {
    execFile(CHROMIUM, args, { timeout: 150_000, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      // dbus errors on stderr are harmless; a non-zero exit is not
      if (err) rej(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`));
      else res(stdout);
    });
  });
}
