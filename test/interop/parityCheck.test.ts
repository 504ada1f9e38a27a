/**
 * The on-demand PyTorch parity check (src/interop/parityCheck.ts): availability probing
 * always; the full check (≈190 MB file, a few seconds) only where python3-torch exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { torchAvailable, torchParityCheck } from '../../src/interop/parityCheck';
import { initTestBackend } from '../helpers/tensors';

describe('torchAvailable', () => {
  it('says why when the interpreter is missing', () => {
    const r = torchAvailable('/nonexistent/python3');
    expect(r.available).toBe(false);
    expect(r.reason).toMatch(/not found/);
  });
});

describe.skipIf(!torchAvailable().available)('torchParityCheck (python3-torch present)', () => {
  beforeAll(async () => {
    await initTestBackend();
  });

  it(
    'matches PyTorch on a full-width ResNet-50 written in the official layout',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'carp-paritycheck-'));
      try {
        const r = await torchParityCheck({ outDir: dir, size: 32 });
        expect(r.backbone).toBe('bottleneck [3,4,6,3] width 64');
        expect(r.passed).toBe(true);
        expect(r.features).toBeLessThanOrEqual(1e-4);
        expect(r.logits).toBeLessThanOrEqual(1e-4);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
