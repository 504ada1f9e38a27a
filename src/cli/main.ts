#!/usr/bin/env node
/**
 * `carp` — the command-line entry for long runs (architecture §3.3):
 *   carp pretrain --preset NAME | --config FILE [--set key=value …] --out DIR [--dry-run]
 *   carp pretrain --out DIR --resume
 *   carp eval PROTOCOL --checkpoint DIR|FILE [--dataset NAME] [--json]
 *   carp config [--preset NAME | --config FILE] [--set …] [--keys | --schema]
 *   carp bench | report RUN_DIR | quickstart | export-config
 * Bad input exits with one line naming the problem (2 usage, 1 refused or failed);
 * `-h/--help` everywhere, `--version`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envLogLevel, logs, setLogLevel } from '../util/log';
import { EXIT_CODES, UsageError } from './args';

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
  config: {
    load: async () => (await import('./config.js')).configCommand,
    summary: 'print the resolved config, every key (--keys) or the JSON Schema (--schema)',
  },
  'export-config': {
    load: async () => (await import('./exportConfig.js')).exportConfigCommand,
    summary: "the official trainer's torchrun command for a config",
  },
};
/** The package's version (package.json sits two levels above both src/cli and dist/cli). */
export function version(): string {
  return (
    JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

function topHelp(): string {
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(13)} ${c.summary}`);
  return (
    `usage: carp <command> [options]\n       carp --version\n\ncommands:\n${lines.join('\n')}\n\n` +
    `Run 'carp <command> --help' for a command's options.\n\n` +
    'environment:\n' +
    '  CARP_BACKEND    force a backend: wasm, cpu, webgpu, tfjs-node, tfjs-node-gpu\n' +
    '  CARP_NATIVE     0 switches off the native OpenBLAS kernels on wasm\n' +
    '  CARP_THREADS    threads of the native kernels (default: every core)\n' +
    '  CARP_DATA_DIR   root of the prepared datasets (default ./data)\n' +
    '  CARP_LOG_LEVEL  error, warn, info (default) or debug (adds stack traces); --quiet = warn\n\n' +
    EXIT_CODES
  );
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`carp-kit ${version()}\n`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(
      `carp: unknown command '${name}' (valid: ${Object.keys(COMMANDS).join(', ')})\n`,
    );
    return 2;
  }
  setLogLevel(undefined); // a previous in-process call's --quiet does not carry over
  try {
    envLogLevel();
  } catch (e) {
    process.stderr.write(`carp: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    return await (
      await cmd.load()
    )(rest);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    process.stderr.write(`carp ${name}: ${msg.split('\n')[0]}\n`);
    if (!(e instanceof UsageError) && (logs('debug') || process.env.CARP_DEBUG))
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
