/**
 * A command's config from --preset / --config / --set: exactly one source, overrides
 * applied, and every problem a UsageError (exit 2) naming the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args';
import {
  CONFIG_OPTIONS,
  configFromArgs,
  configFromFile,
  readConfigFile,
} from '../../src/cli/configArgs';
import { presetNames } from '../../src/config/presets';
import { resolveConfig } from '../../src/config/resolve';

const dir = mkdtempSync(join(tmpdir(), 'carp-configargs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('configFromArgs', () => {
  it('resolves a preset with overrides', () => {
    const c = configFromArgs({ preset: 'fmnist-tiny', set: ['train.epochs=5'] });
    expect(c).toEqual(resolveConfig('fmnist-tiny', ['train.epochs=5']));
    expect(c.train.epochs).toBe(5);
  });

  it('reads a config file (a partial one merges over its preset), with overrides', () => {
    const file = join(dir, 'partial.json');
    writeFileSync(file, JSON.stringify({ preset: 'fmnist-tiny', train: { epochs: 7 } }));
    const c = configFromArgs({ config: file, set: ['train.batchSize=16'] });
    expect(c).toEqual(resolveConfig('fmnist-tiny', ['train.epochs=7', 'train.batchSize=16']));
    expect(configFromFile(file)).toEqual(resolveConfig('fmnist-tiny', ['train.epochs=7']));
  });

  it('wants exactly one of --preset and --config', () => {
    expect(() => configFromArgs({})).toThrow(new UsageError('give --preset NAME or --config FILE'));
    expect(() => configFromArgs({ preset: 'fmnist-tiny', config: 'x.json' })).toThrow(
      new UsageError('give either --preset or --config, not both'),
    );
  });

  it('turns config errors into one-line usage errors', () => {
    const e = (() => {
      try {
        configFromArgs({ preset: 'fmnist-tiny', set: ['train.epochs=-1'] });
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e).toBeInstanceOf(UsageError);
    expect(e!.message).toContain('train.epochs');
    expect(e!.message).not.toContain('\n');
  });
});

describe('readConfigFile', () => {
  it('names the file it cannot read or parse', () => {
    const missing = join(dir, 'none.json');
    expect(() => readConfigFile(missing)).toThrow(UsageError);
    expect(() => readConfigFile(missing)).toThrow(`cannot read config ${missing}: ENOENT`);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => readConfigFile(bad)).toThrow(`config ${bad} is not JSON: `);
    expect(readConfigFile(join(dir, 'partial.json'))).toEqual({
      preset: 'fmnist-tiny',
      train: { epochs: 7 },
    });
  });
});

describe('CONFIG_OPTIONS', () => {
  it('lists the presets in --preset’s help', () => {
    expect(CONFIG_OPTIONS.preset.help).toBe(`start from a preset (${presetNames().join(', ')})`);
    expect(Object.keys(CONFIG_OPTIONS)).toEqual(['preset', 'config', 'set']);
    expect(CONFIG_OPTIONS.set.type).toBe('list');
  });
});
