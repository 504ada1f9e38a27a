/**
 * The graceful-stop listener: exit codes follow 128 + signal number, an AbortSignal stops a
 * run whether or not the process signals are listened to, and a first SIGINT only raises
 * the flag (the run saves a checkpoint before it ends).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCodeOf, listenForStop } from '../../src/train/stopSignals';

afterEach(() => vi.restoreAllMocks());

describe('exitCodeOf', () => {
  it('is 130 for SIGINT and abort, 143 for SIGTERM', () => {
    expect(exitCodeOf('SIGINT')).toBe(130);
    expect(exitCodeOf('SIGTERM')).toBe(143);
    expect(exitCodeOf('abort')).toBe(130);
  });
});

describe('listenForStop', () => {
  it('follows an AbortSignal without touching process handlers when disabled', () => {
    const before = process.listenerCount('SIGINT');
    const ac = new AbortController();
    const l = listenForStop(false, () => 'step 1', ac.signal);
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(l.signal).toBeNull();
    ac.abort();
    expect(l.signal).toBe('abort');
    l.dispose();
  });

  it('starts stopped when the AbortSignal is already aborted', () => {
    const l = listenForStop(false, () => '', AbortSignal.abort());
    expect(l.signal).toBe('abort');
    l.dispose();
  });

  it('raises the flag on the first SIGTERM, naming the step, and removes its handlers', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const beforeInt = process.listenerCount('SIGINT');
    const beforeTerm = process.listenerCount('SIGTERM');
    const l = listenForStop(true, () => 'epoch 3, micro-step 5');
    expect(process.listenerCount('SIGINT')).toBe(beforeInt + 1);
    expect(process.listenerCount('SIGTERM')).toBe(beforeTerm + 1);
    process.emit('SIGTERM', 'SIGTERM');
    expect(l.signal).toBe('SIGTERM');
    expect(write).toHaveBeenCalledWith(
      '\n[carp-kit] SIGTERM: stopping once the current micro-step is done (epoch 3, ' +
        'micro-step 5), then saving a checkpoint (send it again to exit at once)\n',
    );
    l.dispose();
    expect(process.listenerCount('SIGINT')).toBe(beforeInt);
    expect(process.listenerCount('SIGTERM')).toBe(beforeTerm);
  });

  it('exits at once with 128 + signal on a second signal', () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const l = listenForStop(true, () => '');
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    expect(exit).toHaveBeenCalledWith(130);
    expect(l.signal).toBe('SIGINT');
    l.dispose();
  });
});
