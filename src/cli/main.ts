#!/usr/bin/env node
/**
 * `carp` — the command-line entry for long runs (architecture §3.3):
 *   carp pretrain --preset NAME | --config FILE [--set key=value …] --out DIR [--resume]
 *   carp eval PROTOCOL --checkpoint DIR|FILE [--dataset NAME] [--json]
 *   carp bench
 *   carp report RUN_DIR
 *   carp quickstart
 * Bad input exits non-zero with one line naming the problem; `--help` everywhere.
 */
import { UsageError } from './args';

type Command = (argv: string[]) => Promise<number>;

// Commands load lazily so `carp --help` does not start TensorFlow.js. Dynamic `import()` of
// the compiled `.js` works under plain Node (CommonJS output) and under vitest (→ .ts).
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  pretrain: {
    load: async () => (await import('./pretrain.js')).pretrainCommand,
    summary: 'CARP pretraining (resumable)',
  },
  eval: {
    load: async () => (await import('./evaluate.js')).evalCommand,
    summary: 'run an evaluation protocol',
  },
  bench: {
    load: async () => (await import('./bench.js')).benchCommand,
    summary: 'benchmarks vs peers',
  },
  report: {
    load: async () => (await import('./report.js')).reportCommand,
    summary: 'write RUN_DIR/report.html',
  },
  quickstart: {
    load: async () => (await import('./quickstart.js')).quickstartCommand,
    summary: 'short pretraining + k-NN evaluation',
  },
  'export-config': {
    load: async () => (await import('./exportConfig.js')).exportConfigCommand,
    summary: "the official trainer's torchrun command for a config",
  },
};
function topHelp(): string {
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(11)} ${c.summary}`);
  return (
    `usage: carp <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    `Run 'carp <command> --help' for a command's options.\n\n` +
    'environment:\n' +
    '  CARP_BACKEND  force a backend: wasm, cpu, webgpu, tfjs-node, tfjs-node-gpu\n' +
    '  CARP_NATIVE   0 switches off the native OpenBLAS kernels on wasm\n' +
    '  CARP_THREADS  threads of the native kernels (default: every core)\n'
  );
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(
      `carp: unknown command '${name}' (valid: ${Object.keys(COMMANDS).join(', ')})\n`,
    );
    return 2;
  }
  try {
    return await (
      await cmd.load()
    )(rest);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    process.stderr.write(`carp ${name}: ${msg.split('\n')[0]}\n`);
    if (!(e instanceof UsageError) && process.env.CARP_DEBUG)
      process.stderr.write(`${(e as Error).stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`carp: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
