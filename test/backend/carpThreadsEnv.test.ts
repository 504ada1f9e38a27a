/**
 * An invalid CARP_THREADS is a clear error naming the variable — not a silent switch to
 * the slow pure-wasm (or cpu) path reported as "failed to load". Each check runs in a
 * fresh module graph: the addon and the backend choice are cached per process.
 */
import { describe, expect, it, vi } from 'vitest';

describe('CARP_THREADS', () => {
  it('loadNative throws naming the variable (and does not cache the failure)', async () => {
    vi.resetModules();
    const { loadNative } = await import('../../src/backend/native/addon.js');
    expect(() => loadNative({ CARP_THREADS: 'four' })).toThrow(
      'CARP_THREADS="four" must be an integer from 1 to 1024',
    );
    expect(() => loadNative({ CARP_THREADS: '0' })).toThrow(/^CARP_THREADS="0" must be/);
    // CARP_NATIVE=0 switches the kernels off, so the thread count does not matter.
    expect(loadNative({ CARP_THREADS: 'four', CARP_NATIVE: '0' })).toEqual({
      reason: 'disabled by CARP_NATIVE=0',
    });
  });

  it('selectBackend refuses to start instead of falling back to another backend', async () => {
    vi.resetModules();
    const { selectBackend } = await import('../../src/backend/selectBackend.js');
    const log: string[] = [];
    await expect(
      selectBackend({ env: { CARP_THREADS: '-2' }, log: (l: string) => log.push(l) }),
    ).rejects.toThrow('CARP_THREADS="-2" must be an integer from 1 to 1024');
    expect(log).toEqual([]);
  });
});
