/**
 * The log level: CARP_LOG_LEVEL (an unknown value names the valid ones), setLogLevel over
 * it, which levels each shows, and `info` writing to stderr only at info and debug.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { envLogLevel, info, logLevel, logs, setLogLevel } from '../../src/util/log';

const saved = process.env.CARP_LOG_LEVEL;
afterEach(() => {
  setLogLevel(undefined);
  if (saved === undefined) delete process.env.CARP_LOG_LEVEL;
  else process.env.CARP_LOG_LEVEL = saved;
  vi.restoreAllMocks();
});

describe('log level', () => {
  it('reads CARP_LOG_LEVEL, info when unset or empty', () => {
    delete process.env.CARP_LOG_LEVEL;
    expect(envLogLevel()).toBe('info');
    process.env.CARP_LOG_LEVEL = '';
    expect(envLogLevel()).toBe('info');
    process.env.CARP_LOG_LEVEL = 'debug';
    expect(envLogLevel()).toBe('debug');
    expect(logLevel()).toBe('debug');
  });

  it('refuses an unknown level by name, and falls back to info where it must not throw', () => {
    process.env.CARP_LOG_LEVEL = 'loud';
    expect(() => envLogLevel()).toThrow(
      "CARP_LOG_LEVEL must be one of error, warn, info, debug, got 'loud'",
    );
    expect(logLevel()).toBe('info');
  });

  it('setLogLevel overrides the environment until reset', () => {
    process.env.CARP_LOG_LEVEL = 'debug';
    setLogLevel('error');
    expect(logLevel()).toBe('error');
    setLogLevel(undefined);
    expect(logLevel()).toBe('debug');
  });

  it('shows a level and those above it', () => {
    setLogLevel('warn');
    expect([logs('error'), logs('warn'), logs('info'), logs('debug')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('info writes one line to stderr at info, nothing at warn', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    setLogLevel('info');
    info('step 3');
    setLogLevel('warn');
    info('hidden');
    expect(write.mock.calls).toEqual([['step 3\n']]);
  });
});
