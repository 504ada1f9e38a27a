/**
 * A kit config as the official trainer's command line: `torchrun --nproc_per_node=N
 * main_carp.py --arg value …` (sthalles/carp), for pretraining at ImageNet scale under
 * torchrun/DDP; its checkpoints load back into the kit (loadTeacher).
 *
 * Every key of the kit's config is either passed as an official argument, or fixed by the
 * official code (officialArgs.ts OFFICIAL_FIXED: the config must hold that value), or has
 * no effect there (a label, the dataset's name). A config the official trainer cannot
 * reproduce is refused with every offending key named (`OfficialExportError`).
 *
 * Batch: the kit's micro-batch B is what batch norm and the loss see at once; the official
 * trainer synchronises batch norm (SyncBatchNorm) and gathers the loss's batch over all
 * GPUs, so B images per micro-step = batch_size_per_gpu × nproc, and the accumulation A
 * is gradient_accumulation_steps; both scale the learning rate as lr·A·B/256.
 */
import type { CarpConfig } from '../config/schema';
import { OFFICIAL_ARCHS, OFFICIAL_ARGS, OFFICIAL_FIXED } from './officialArgs';

/** Where the official trainer runs: GPUs of the one node, and the ImageFolder to read. */
export interface OfficialCommandOptions {
  /** Processes (GPUs) per node: torchrun's --nproc_per_node. */
  nprocPerNode: number;
  /** The training images as an ImageFolder (one folder per class): --data_path. */
  dataPath: string;
}

export interface OfficialCommand {
  /** The argument vector, `torchrun` first. */
  argv: string[];
  /** The same as one shell line (arguments quoted where the shell needs it). */
  line: string;
  /** What the user should know about running it (one sentence each). */
  notes: string[];
}

/** A config the official trainer cannot express; `keys` are the offending dotted keys. */
export class OfficialExportError extends Error {
  constructor(
    readonly keys: string[],
    problems: string[],
  ) {
    super(`the official trainer cannot reproduce this config: ${problems.join('; ')}`);
    this.name = 'OfficialExportError';
  }
}

type Leaf = string | number | boolean | null | number[];

/** How each kit key reaches the official trainer. */
type Route =
  | { arg: string; values: (v: Leaf, c: CarpConfig, o: OfficialCommandOptions) => Leaf }
  | { fixed: true }
  | { noEffect: string };

const same = (v: Leaf) => v;
const fixed = { fixed: true } as const;

/** One entry per leaf of CarpConfig (a test pins the coverage). */
export const OFFICIAL_ROUTES: Readonly<Record<string, Route | readonly Route[]>> = {
  preset: { noEffect: 'a name only' },
  'model.arch': { arg: 'arch', values: same },
  'model.width': fixed,
  'model.cifarStem': fixed,
  'model.inChannels': fixed,
  'model.numPrototypes': { arg: 'out_dim', values: same },
  'model.partitionSize': { arg: 'partition_size', values: same },
  'model.hiddenDim': fixed,
  'model.bottleneckDim': { arg: 'bottleneck_dim', values: same },
  'model.headBatchNorm': { arg: 'use_bn_in_head', values: same },
  'model.headLayers': fixed,
  'crops.globalCount': fixed,
  'crops.globalSize': fixed,
  'crops.localSize': fixed,
  'crops.numLocal': { arg: 'local_crops_number', values: same },
  'crops.globalScale': { arg: 'global_crops_scale', values: same },
  'crops.localScale': { arg: 'local_crops_scale', values: same },
  'crops.ratio': fixed,
  'crops.flipProb': fixed,
  'crops.jitterProb': fixed,
  'crops.brightness': fixed,
  'crops.contrast': fixed,
  'crops.saturation': fixed,
  'crops.hue': fixed,
  'crops.grayscaleProb': fixed,
  'crops.blurSigma': fixed,
  'crops.blurProb': fixed,
  'crops.solarizeProb': fixed,
  'crops.mean': fixed,
  'crops.std': fixed,
  'crops.filter': fixed,
  'crops.channels': { noEffect: 'ImageFolder converts every image to RGB' },
  'optim.lrRef': { arg: 'lr', values: same },
  'optim.minLr': { arg: 'min_lr', values: same },
  // The kit's weight decay is constant: the official cosine from weight_decay to
  // weight_decay_end with both equal.
  'optim.weightDecay': [
    { arg: 'weight_decay', values: same },
    { arg: 'weight_decay_end', values: same },
  ],
  'optim.momentum': fixed,
  'optim.eta': fixed,
  'optim.warmupEpochs': { arg: 'warmup_epochs', values: same },
  'teacher.momentumStart': { arg: 'momentum_teacher', values: same },
  'teacher.momentumEnd': fixed,
  'loss.regWeight': fixed,
  'train.batchSize': {
    arg: 'batch_size_per_gpu',
    values: (v, _c, o) => (v as number) / o.nprocPerNode,
  },
  'train.accumulation': { arg: 'gradient_accumulation_steps', values: same },
  'train.epochs': { arg: 'epochs', values: same },
  'train.seed': { arg: 'seed', values: same },
  'train.checkpointEvery': { arg: 'saveckp_freq', values: same },
  // main_carp.py saves once an epoch (checkpoint.pth) and has no timed checkpoints.
  'train.checkpointMinutes': { noEffect: 'the official trainer saves at epoch ends only' },
  'train.logEvery': { arg: 'print_freq', values: same },
  'data.dataset': { noEffect: 'the images come from --data_path' },
  'data.limit': fixed,
};

/** Arguments the kit's method fixes without a config key (the kit's head and optimiser). */
const KIT_CONSTANTS: Readonly<Record<string, Leaf>> = {
  // The kit's prototype layer keeps weight_g = 1 frozen.
  norm_last_layer: true,
  optimizer: 'lars',
};

/** The config's leaves by dotted key (arrays are leaves). */
export function configLeaves(c: CarpConfig): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  const walk = (v: unknown, prefix: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}.${k}` : k);
    } else out.set(prefix, v as Leaf);
  };
  walk(c, '');
  return out;
}

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** One argument value as argparse reads it: Python parses JS's shortest float repr exactly. */
function formatValue(v: Leaf): string[] {
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (typeof v === 'boolean') return [v ? 'true' : 'false'];
  return [String(v)];
}

/** POSIX shell quoting, only where needed. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The official trainer's command line for `config`; throws OfficialExportError when it cannot. */
export function officialCommand(config: CarpConfig, opts: OfficialCommandOptions): OfficialCommand {
  if (!Number.isInteger(opts.nprocPerNode) || opts.nprocPerNode < 1)
    throw new Error(`nprocPerNode must be a positive integer, got ${opts.nprocPerNode}`);
  if (typeof opts.dataPath !== 'string' || opts.dataPath === '')
    throw new Error('dataPath must name the ImageFolder of training images');
  const leaves = configLeaves(config);
  const keys: string[] = [];
  const problems: string[] = [];
  const refuse = (key: string, why: string) => {
    keys.push(key);
    problems.push(`${key} = ${JSON.stringify(leaves.get(key))} (${why})`);
  };
  const values = new Map<string, Leaf>(Object.entries(KIT_CONSTANTS));
  for (const [key, v] of leaves) {
    const routes = OFFICIAL_ROUTES[key];
    if (!routes) throw new Error(`officialCommand: no route for config key '${key}'`);
    for (const r of Array.isArray(routes) ? routes : [routes]) {
      if ('fixed' in r) {
        const f = OFFICIAL_FIXED[key];
        if (!equal(v, f.value)) refuse(key, `fixed to ${JSON.stringify(f.value)} by ${f.where}`);
      } else if ('arg' in r) values.set(r.arg, r.values(v, config, opts));
    }
  }
  if (!(OFFICIAL_ARCHS as readonly string[]).includes(config.model.arch))
    refuse('model.arch', `--arch takes torchvision's ${OFFICIAL_ARCHS.join(', ')}`);
  if (config.train.batchSize % opts.nprocPerNode !== 0)
    refuse('train.batchSize', `not divisible by --nproc_per_node=${opts.nprocPerNode}`);
  if (keys.length > 0) throw new OfficialExportError(keys, problems);
  values.set('data_path', opts.dataPath);

  const args: string[] = [];
  for (const a of OFFICIAL_ARGS) {
    const v = values.get(a.name);
    if (v !== undefined) args.push(`--${a.name}`, ...formatValue(v));
  }
  const argv = ['torchrun', `--nproc_per_node=${opts.nprocPerNode}`, 'main_carp.py', ...args];
  return {
    argv,
    line: argv.map(shellQuote).join(' '),
    notes: [
      'Run it in a clone of https://github.com/sthalles/carp (main_carp.py copies ./main_carp.py and ./utils.py into its log directory).',
      'The official trainer always trains in mixed precision (autocast with a GradScaler; --use_fp16 is not read), the kit in float32.',
      "Its TensorBoard event files go to ./runs/<date>_<host>/; `carp report RUN_DIR --tensorboard <that folder>` draws them beside the kit's curves.",
    ],
  };
}
