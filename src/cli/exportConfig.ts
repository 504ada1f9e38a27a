/**
 * `carp export-config --format official (--preset NAME | --config FILE) [--set key=value …]
 *  --nproc-per-node N --data-path DIR`: prints the official trainer's torchrun command line
 * for a kit config (stdout: the line only, so it can be piped or pasted; notes on stderr),
 * or refuses naming every key the official trainer cannot reproduce (exit status 1).
 */
import { parseArgs } from 'node:util';
import { officialCommand } from '../interop/officialTrainer';
import { UsageError } from './args';
import { configFromArgs } from './pretrain';

const USAGE =
  'usage: carp export-config --format official (--preset NAME | --config FILE) [--set key=value …]\n' +
  '                          --nproc-per-node N --data-path DIR\n\n' +
  "Prints the official trainer's command line (torchrun + main_carp.py of sthalles/carp) for\n" +
  'ImageNet-scale pretraining under DDP; refuses a config it cannot reproduce, naming the keys.\n\n' +
  'options:\n' +
  '  --format F            output format; only "official"\n' +
  '  --preset NAME         start from a preset\n' +
  '  --config FILE         start from a JSON config file\n' +
  '  --set key=value       override one key (repeatable)\n' +
  '  --nproc-per-node N    GPUs of the node (torchrun --nproc_per_node); must divide train.batchSize\n' +
  '  --data-path DIR       the training images as an ImageFolder (one folder per class)\n' +
  '  --help                show this help\n';

export async function exportConfigCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        format: { type: 'string' },
        preset: { type: 'string' },
        config: { type: 'string' },
        set: { type: 'string', multiple: true },
        'nproc-per-node': { type: 'string' },
        'data-path': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (o.format !== 'official')
    throw new UsageError(`--format must be "official", got ${JSON.stringify(o.format ?? null)}`);
  const nprocText = o['nproc-per-node'];
  if (nprocText === undefined) throw new UsageError('--nproc-per-node N is required');
  const nproc = Number(nprocText);
  if (!/^\d+$/.test(nprocText) || nproc < 1)
    throw new UsageError(`--nproc-per-node must be a positive integer, got "${nprocText}"`);
  const dataPath = o['data-path'];
  if (dataPath === undefined || dataPath === '')
    throw new UsageError('--data-path DIR (an ImageFolder of the training images) is required');
  const config = configFromArgs({ preset: o.preset, config: o.config, set: o.set });
  const cmd = officialCommand(config, { nprocPerNode: nproc, dataPath });
  process.stdout.write(`${cmd.line}\n`);
  for (const note of cmd.notes) process.stderr.write(`note: ${note}\n`);
  return 0;
}
