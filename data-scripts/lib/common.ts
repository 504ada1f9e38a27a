/**
 * Shared plumbing of the per-dataset scripts: options, folder layout, the
 * download → verify → extract → convert stages with skip-if-done, and a main wrapper.
 *
 * Layout under the data folder (`--data-dir`, else $CARP_DATA_DIR, else ./data), the one
 * `openDataset` (src/data/datasets.ts) reads:
 *   <dataset>[-<variant>]/<split>/      prepared folders (src/data/prepared.ts)
 *   downloads/<archive>                 verified archives (resumable `.part` while fetching)
 *   raw/<dataset>/…                     extracted originals
 * Variable-size images are stored "centre-256": shorter side resized to 256, centre crop
 * 256×256, with the protocol's filter. T-eval (§9.0) of such an image is exactly its
 * centre 224 crop (the resize to 256 is then the identity and round((L−224)/2) =
 * round((L−256)/2) + 16 under Python's rounding), so consumers apply `tevalBatch` to every
 * prepared split alike, and pre-training can crop from the same folders.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs as nodeParseArgs, type ParseArgsConfig as NodeParseArgsConfig } from 'node:util';
import type { FixedSizeTransform, ImageFileList } from '../../src/data/fileList';
import { writeFileListPrepared } from '../../src/data/fileList';
import type { ImageDataset } from '../../src/data/dataset';
import { tevalImage } from '../../src/data/evalTransforms';
import { partialDir, writePrepared } from '../../src/data/prepared';
import { readManifest } from '../../src/data/preparedRead';
import type { ResampleFilter } from '../../src/data/resample';
import { extract } from './archive';
import type { Checksum } from './download';
import { download } from './download';

export interface ScriptOptions {
  dataDir: string;
  /** Never download: use archives already in downloads/ (placed by hand). */
  skipDownload: boolean;
  /** Rebuild prepared folders even when present. */
  force: boolean;
  /** Fetch archives from `<mirror>/<file name>` instead of the original hosts. */
  mirror?: string;
  /** Resize filter override for T-eval conversions. */
  filter?: ResampleFilter;
  /** Seconds between progress records of a conversion (what a resumed run continues from). */
  checkpointSeconds: number;
  /** Other `--key value` options of a script. */
  extra: Record<string, string>;
  log: (msg: string) => void;
}

export interface RemoteFile {
  /** Original URL, or null when the file must be obtained by the user (licence/registration). */
  url: string | null;
  /** File name under downloads/. */
  file: string;
  checksum?: Checksum;
  /** How to get it when `url` is null or unreachable. */
  howToGet?: string;
}

/** A script's own option: a flag, or a value (from `values`, or an integer ≥ `min`, or free). */
export interface ScriptOption {
  help: string;
  /** Placeholder of the value in --help; absent for a flag. */
  value?: string;
  values?: readonly string[];
  /** The value must be an integer ≥ min. */
  min?: number;
}

/** What `--help` says about a script, and the options it takes besides the common ones. */
export interface ScriptSpec {
  /** First lines of --help: what the script prepares, from where. */
  description: string;
  options?: Record<string, ScriptOption>;
}

/** The options every script takes. */
const COMMON: Record<string, ScriptOption> = {
  'data-dir': { value: 'DIR', help: 'data folder (default $CARP_DATA_DIR, else ./data)' },
  'skip-download': {
    help: 'never touch the network: verify archives already in downloads/',
  },
  force: { help: 'rebuild prepared folders (and restart an interrupted conversion)' },
  'checkpoint-seconds': {
    value: 'S',
    min: 0,
    help: 'seconds between progress records of a conversion (default 10)',
  },
  mirror: { value: 'URL', help: 'fetch URL/<archive name> instead of the original host' },
  filter: {
    value: 'F',
    values: ['bilinear', 'bicubic', 'lanczos', 'box'],
    help: "resize filter of T-eval conversions (default: the protocol's)",
  },
  help: { help: 'show this help and exit (downloads nothing)' },
};

/** A bad command line: the script prints one line and exits 2. */
export class ScriptUsageError extends Error {}

/** The --help text of a script. */
export function scriptHelp(name: string, spec: ScriptSpec): string {
  const all = { ...spec.options, ...COMMON };
  const label = (k: string, s: ScriptOption) =>
    `--${k}${s.value ? ` ${s.values ? s.values.join('|') : s.value}` : ''}`;
  const width = Math.max(...Object.entries(all).map(([k, s]) => label(k, s).length));
  return (
    `usage: npx tsx data-scripts/${name}.ts [options]\n\n${spec.description}\n\noptions:\n` +
    Object.entries(all)
      .map(([k, s]) => `  ${label(k, s).padEnd(width)}  ${s.help}`)
      .join('\n') +
    '\n\nStages already done are skipped; an interrupted download or conversion continues\n' +
    '(from its last progress record, checked against the files).\n' +
    'exit status: 0 done, 1 failed (named file or URL), 2 usage\n'
  );
}

/**
 * Parses the common options and the script's own (`spec.options`, into `extra`) with
 * Node's `util.parseArgs` (strict); an unknown option, a missing value or a bad value is a
 * `ScriptUsageError` naming it (and, for an unknown one, listing the valid ones). `--help`
 * / `-h` set `help`.
 */
export function parseArgs(
  argv: string[],
  spec: ScriptSpec = { description: '' },
  log: (m: string) => void = (m) => console.log(m),
): ScriptOptions & { help: boolean } {
  const all: Record<string, ScriptOption> = { ...spec.options, ...COMMON };
  const options: NodeParseArgsConfig['options'] = {};
  for (const [k, s] of Object.entries(all))
    options[k] = { type: s.value ? 'string' : 'boolean', ...(k === 'help' ? { short: 'h' } : {}) };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: false })
      .values as typeof values;
  } catch (e) {
    throw usageError(e as NodeJS.ErrnoException, argv, all);
  }
  const o: ScriptOptions & { help: boolean } = {
    dataDir: process.env.CARP_DATA_DIR ?? path.resolve('data'),
    skipDownload: false,
    force: false,
    checkpointSeconds: 10,
    extra: {},
    log,
    help: false,
  };
  for (const [name, raw] of Object.entries(values)) {
    const s = all[name];
    if (raw === undefined) continue;
    const v = raw === true ? 'true' : String(raw);
    if (s.value) {
      if (v === '') throw new ScriptUsageError(`--${name} needs a value (${s.value})`);
      if (s.values && !s.values.includes(v))
        throw new ScriptUsageError(`--${name} must be ${s.values.join(', ')}, got '${v}'`);
      if (s.min !== undefined && !(/^\d+$/.test(v) && Number(v) >= s.min))
        throw new ScriptUsageError(`--${name} must be an integer ≥ ${s.min}, got '${v}'`);
    }
    if (name === 'data-dir') o.dataDir = path.resolve(v);
    else if (name === 'skip-download') o.skipDownload = true;
    else if (name === 'force') o.force = true;
    else if (name === 'checkpoint-seconds') o.checkpointSeconds = Number(v);
    else if (name === 'mirror') o.mirror = v.replace(/\/+$/, '');
    else if (name === 'filter') o.filter = v as ResampleFilter;
    else if (name === 'help') o.help = true;
    else o.extra[name] = v;
  }
  return o;
}

/** `util.parseArgs`'s error as one line in the scripts' words. */
function usageError(
  e: NodeJS.ErrnoException,
  argv: string[],
  all: Record<string, ScriptOption>,
): ScriptUsageError {
  const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
  const name = quoted.replace(/^-+/, '').replace(/[ =].*$/, '');
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new ScriptUsageError(
        `unknown option ${quoted.startsWith('--') ? `--${name}` : quoted} (valid: ${Object.keys(all)
          .map((k) => '--' + k)
          .join(', ')})`,
      );
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new ScriptUsageError(`unexpected argument '${quoted}'`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new ScriptUsageError(
        all[name]?.value
          ? `--${name} needs a value (${all[name].value})`
          : `--${name} takes no value`,
      );
    default:
      return new ScriptUsageError(`${e.message} (arguments: ${argv.join(' ')})`);
  }
}

export const downloadsDir = (o: ScriptOptions) => path.join(o.dataDir, 'downloads');
export const rawDir = (o: ScriptOptions, dataset: string) => path.join(o.dataDir, 'raw', dataset);
export const preparedDir = (o: ScriptOptions, dataset: string, split: string, variant?: string) =>
  path.join(o.dataDir, variant ? `${dataset}-${variant}` : dataset, split);

/** The resize filter to use and the folder variant it implies (none for the protocol's default). */
export function filterChoice(
  o: ScriptOptions,
  protocolDefault: ResampleFilter,
): { filter: ResampleFilter; variant?: string } {
  const filter = o.filter ?? protocolDefault;
  return { filter, variant: filter === protocolDefault ? undefined : filter };
}

/** Downloads (or finds) and verifies each file; returns their local paths. */
export async function fetchFiles(o: ScriptOptions, files: RemoteFile[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const dest = path.join(downloadsDir(o), f.file);
    const url = o.mirror ? `${o.mirror}/${f.file}` : f.url;
    if (o.skipDownload || url === null) {
      if (!fs.existsSync(dest)) {
        throw new Error(
          `${dest} is missing. ${f.howToGet ?? (url ? `Download ${url} and place it there.` : '')}`.trim(),
        );
      }
      o.log(`verifying ${f.file}`);
      await download('http://unused.invalid/', dest, { checksum: f.checksum });
    } else {
      o.log(`fetching ${f.file} from ${url}`);
      let lastPct = -10;
      const r = await download(url, dest, {
        checksum: f.checksum,
        onProgress: (d, t) => {
          const pct = t ? Math.floor((100 * d) / t) : -1;
          if (pct >= lastPct + 10) {
            lastPct = pct;
            o.log(
              `  ${f.file}: ${(d / 2 ** 20).toFixed(0)} MiB${t ? ` of ${(t / 2 ** 20).toFixed(0)} MiB` : ''}`,
            );
          }
        },
      });
      o.log(
        `${f.file}: ${r === 'present' ? 'already present, verified' : 'downloaded and verified'}`,
      );
    }
    out.push(dest);
  }
  return out;
}

/** Extracts an archive to raw/<dataset>[/<sub>] unless done before. */
export function extractTo(
  o: ScriptOptions,
  archive: string,
  dataset: string,
  sub?: string,
): string {
  const dest = sub ? path.join(rawDir(o, dataset), sub) : rawDir(o, dataset);
  const r = extract(archive, dest);
  o.log(
    `${path.basename(archive)}: ${r === 'present' ? 'already extracted' : 'extracted'} → ${dest}`,
  );
  return dest;
}

/** True when a prepared folder exists and should be kept (no --force). */
export function keepPrepared(o: ScriptOptions, dir: string): boolean {
  if (!fs.existsSync(dir) || o.force) return false;
  readManifest(dir); // a present folder must at least be consistent
  o.log(`${dir}: already prepared (use --force to rebuild)`);
  return true;
}

/** Shorter side to `size`, centre crop size×size (see the header: T-eval-compatible storage). */
export function centreTransform(filter: ResampleFilter, size = 256): FixedSizeTransform {
  return {
    height: size,
    width: size,
    describe: `shorter-${size}-centre-${size}-${filter}`,
    apply: (img) => tevalImage(img, { resize: size, crop: size, filter }),
  };
}

/**
 * Writes a file list as a prepared folder unless present; logs progress. The conversion
 * is resumable: it records its progress every `--checkpoint-seconds`, and a run after an
 * interruption checks that record against the files and continues from it (`--force`
 * starts over).
 */
export async function prepareList(
  o: ScriptOptions,
  dir: string,
  list: ImageFileList,
  t: FixedSizeTransform,
): Promise<void> {
  if (keepPrepared(o, dir)) return;
  if (o.force) fs.rmSync(partialDir(dir), { recursive: true, force: true });
  o.log(`${dir}: converting ${list.files.length} images (${t.describe})`);
  let last = 0;
  await writeFileListPrepared(dir, list, t, {
    overwrite: o.force,
    resume: { checkpointSeconds: o.checkpointSeconds, log: o.log },
    onProgress: (d, n) => {
      if (d - last >= 5000 || d === n) {
        last = d;
        o.log(`  ${d}/${n}`);
      }
    },
  });
}

/**
 * The evaluation images of one dataset (§9.2): `prepare(split, list)` writes `list`
 * resized to the centre-`size` crop (default 256) with the protocol's filter, into
 * `<dataset>/<split>`; with
 * `--filter`, into `<dataset>-<filter>/<split>`. `variant` adds a further folder suffix
 * (e.g. VOC's kept difficult boxes). One call per dataset script instead of the same
 * filter/folder/transform lines in each.
 */
export function centrePreparer(
  o: ScriptOptions,
  dataset: string,
  protocolFilter: ResampleFilter,
  size = 256,
): (split: string, list: ImageFileList, variant?: string) => Promise<void> {
  const { filter, variant: filterVariant } = filterChoice(o, protocolFilter);
  const t = centreTransform(filter, size);
  return (split, list, variant) => {
    const v = [filterVariant, variant].filter(Boolean).join('-') || undefined;
    return prepareList(o, preparedDir(o, dataset, split, v), list, t);
  };
}

/** Writes an in-memory dataset as a prepared folder unless present. */
export function prepareDataset(o: ScriptOptions, dir: string, d: ImageDataset): void {
  if (keepPrepared(o, dir)) return;
  writePrepared(dir, d, { overwrite: o.force });
  o.log(`${dir}: ${d.count} images ${d.height}×${d.width}×${d.channels}`);
}

/**
 * Runs a script's main: `--help` prints the help and exits 0 before anything else; a
 * usage error is one line and exit code 2; a failure one line and exit code 1.
 */
export function runMain(
  name: string,
  main: (o: ScriptOptions) => Promise<void>,
  spec: ScriptSpec = { description: '' },
): void {
  let o: ScriptOptions & { help: boolean };
  try {
    o = parseArgs(process.argv.slice(2), spec);
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}`);
    process.exit(2);
  }
  if (o.help) {
    process.stdout.write(scriptHelp(scriptFile(), spec));
    return;
  }
  main(o).then(
    () => o.log(`${name}: done`),
    (e) => {
      console.error(`${name}: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}

/** The running script's file name without extension (`fashionMnist`). */
function scriptFile(): string {
  return path.basename(process.argv[1] ?? 'script').replace(/\.[cm]?[jt]s$/, '');
}
