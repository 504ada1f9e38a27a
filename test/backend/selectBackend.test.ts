import { describe, expect, it } from 'vitest';
import { parseBackendName } from '../../src/backend/selectBackend';

describe('parseBackendName', () => {
  it('accepts the documented names and aliases', () => {
    expect(parseBackendName('wasm')).toBe('wasm');
    expect(parseBackendName('CPU')).toBe('cpu');
    expect(parseBackendName('tfjs-node-gpu')).toBe('tensorflow-gpu');
    expect(parseBackendName('tfjs-node')).toBe('tensorflow');
  });
  it('rejects an unknown value and lists the valid ones', () => {
    expect(() => parseBackendName('cuda')).toThrow(
      /CARP_BACKEND="cuda" is not a backend; valid values: .*wasm.*cpu/,
    );
  });
});
