/**
 * `carp export-config --format official (--preset NAME | --config FILE) [--set key=value …]
 *  --nproc-per-node N --data-path DIR`: prints the official trainer's torchrun command line
 * for a kit config (stdout: the line only, so it can be piped or pasted; notes on stderr),
 * or refuses naming every key the official trainer cannot reproduce (exit status 1).
 */
import { officialCommand } from '../interop/officialTrainer';
import { parseCommand, UsageError, type OptionSpec } from './args';
import { CONFIG_OPTIONS, configFromArgs } from './configArgs';

const SPEC: Record<string, OptionSpec> = {
  format: { type: 'string', help: 'output format; only "official"' },
  ...CONFIG_OPTIONS,
  'nproc-per-node': {
    type: 'string',
    help: 'GPUs of the node (torchrun --nproc_per_node); must divide train.batchSize',
  },
  'data-path': {
    type: 'string',
    help: 'the training images as an ImageFolder (one folder per class)',
  },
  json: { type: 'boolean', help: 'print {"line", "argv", "notes"} as JSON' },
};

export async function exportConfigCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    SPEC,
    {
      usage:
        'carp export-config --format official (--preset NAME | --config FILE) [--set key=value …]\n' +
        '                          --nproc-per-node N --data-path DIR',
      description:
        "Prints the official trainer's command line (torchrun + main_carp.py of sthalles/carp) for\n" +
        'ImageNet-scale pretraining under DDP; refuses a config it cannot reproduce, naming the keys.',
    },
    0,
  );
  if (!parsed) return 0;
  const o = parsed.options;
  if (o.format !== 'official')
    throw new UsageError(`--format must be "official", got ${JSON.stringify(o.format ?? null)}`);
  const nprocText = o['nproc-per-node'] as string | undefined;
  if (nprocText === undefined) throw new UsageError('--nproc-per-node N is required');
  const nproc = Number(nprocText);
  if (!/^\d+$/.test(nprocText) || nproc < 1)
    throw new UsageError(`--nproc-per-node must be a positive integer, got "${nprocText}"`);
  const dataPath = o['data-path'] as string | undefined;
  if (dataPath === undefined || dataPath === '')
    throw new UsageError('--data-path DIR (an ImageFolder of the training images) is required');
  const config = configFromArgs(o);
  const cmd = officialCommand(config, { nprocPerNode: nproc, dataPath });
  if (o.json) {
    process.stdout.write(JSON.stringify(cmd, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(`${cmd.line}\n`);
  for (const note of cmd.notes) process.stderr.write(`note: ${note}\n`);
  return 0;
}
