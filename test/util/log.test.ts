import { afterEach, describe, expect, it, vi } from 'vitest';
import { info, logs, setInfoSink, setLogLevel } from '../../src/util/log';

describe('info lines', () => {
  afterEach(() => {
    setInfoSink(undefined);
    setLogLevel(undefined);
    vi.restoreAllMocks();
  });

  it('go to stderr, or to the installed sink instead; none below the info level', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    setLogLevel('info');
    info('to stderr');
    expect(stderr).toHaveBeenCalledWith('to stderr\n');
    const seen: string[] = [];
    setInfoSink((m) => seen.push(m));
    info('to the sink');
    expect(seen).toEqual(['to the sink']);
    expect(stderr).toHaveBeenCalledTimes(1);
    setLogLevel('warn');
    expect(logs('info')).toBe(false);
    info('hidden');
    expect(seen).toEqual(['to the sink']);
  });
});
