/**
 * The long-lived PyTorch peer of the train-step and feature scenarios:
 * bench/peers/carp_step.py, written from §2–§5, §7, driven over stdin/stdout with one
 * JSON command per line and one JSON reply per line.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ourBackend } from './ourThreads';
import { type BenchRow, speedRatio, threadWord } from './types';

const PEER_SCRIPT = resolve(__dirname, '..', '..', 'bench', 'peers', 'carp_step.py');
export const DEFAULT_PYTHON = '/usr/bin/python3';
/** OpenMP pool of the peer; each command then sets `torch.set_num_threads(n ≤ this)`. */
const PEER_MAX_THREADS = 2;

type Reply = Record<string, unknown>;

/** The long-lived PyTorch peer process (one JSON command per line, one reply per line). */
export class TorchPeer {
  private readonly replies: string[] = [];
  private readonly waiting: ((line: string | null) => void)[] = [];
  private stderr = '';
  private closed = false;
  /** `PyTorch x / torchvision y`, set by `start`. */
  versions = '';
  /** Its thread, allocator and oneDNN settings (carp_step.py `settings()`), set by `start`. */
  settings: Record<string, unknown> = {};

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (l) => this.deliver(l));
    child.stderr.on(
      'data',
      (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)),
    );
    child.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(null);
    });
  }

  /** Why the peer cannot run here (missing Python packages), or null when it can. */
  static unavailable(python = DEFAULT_PYTHON): string | null {
    const r = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (r.error) return `peer skipped: ${python} not runnable (${r.error.message})`;
    if (r.status !== 0) {
      return `peer skipped: torch/torchvision not importable from ${python} (apt-get install python3-torch python3-torchvision)`;
    }
    return null;
  }

  /** Starts the peer and builds its network and views (`setup` fields: see carp_step.py). */
  static async start(setup: Record<string, number>, python = DEFAULT_PYTHON): Promise<TorchPeer> {
    const threads = String(PEER_MAX_THREADS);
    const child = spawn(python, [PEER_SCRIPT], {
      env: { ...process.env, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
    });
    const peer = new TorchPeer(child);
    const r = await peer.call({ cmd: 'setup', ...setup });
    peer.versions = `PyTorch ${String(r.torch)} / torchvision ${String(r.torchvision)}`;
    peer.settings = (r.settings as Record<string, unknown> | undefined) ?? {};
    return peer;
  }

  /** The peer's settings as one note: its OpenMP pool, per-row threads, allocator, oneDNN. */
  settingsNote(): string {
    const s = this.settings;
    return (
      `peer settings: OMP_NUM_THREADS=${String(s.ompNumThreads)} (its pool), torch.set_num_threads(n) per row, ` +
      `matrix products on ${String(s.blas ?? 'its BLAS')}, ` +
      `${String(s.interopThreads)} inter-op thread(s), allocator ${String(s.allocator)}, ` +
      `${String(s.oneDNN)} (mkldnn ${String(s.mkldnn)}), ${String(s.parallel)}, ${String(s.cpuCapability)}`
    );
  }

  private deliver(line: string): void {
    const w = this.waiting.shift();
    if (w) w(line);
    else this.replies.push(line);
  }

  /** Sends one command and waits for its reply; throws on a peer error or exit. */
  async call(cmd: Record<string, unknown>): Promise<Reply> {
    if (this.closed) throw new Error(`torch peer exited: ${this.stderr.trim().split('\n').pop()}`);
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    const line =
      this.replies.shift() ?? (await new Promise<string | null>((r) => this.waiting.push(r)));
    if (line === null)
      throw new Error(`torch peer exited: ${this.stderr.trim().split('\n').pop()}`);
    const reply = JSON.parse(line) as Reply;
    if (typeof reply.error === 'string') throw new Error(`torch peer: ${reply.error}`);
    return reply;
  }

  close(): void {
    if (!this.closed) this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
  }
}

/** The memory formats the peer can run in (carp_step.py `set_layout`). */
export const PEER_LAYOUTS = ['nchw', 'channels_last'] as const;
export type PeerLayout = (typeof PEER_LAYOUTS)[number];

/**
 * Picks the peer's faster layout at `threads` threads: one timed call of `probe` in each
 * layout (its seconds); returns the faster layout, every probe's seconds, and a note.
 */
export async function fasterLayout(
  probe: (layout: PeerLayout) => Promise<number>,
): Promise<{ layout: PeerLayout; seconds: Record<PeerLayout, number>; note: string }> {
  const seconds = {} as Record<PeerLayout, number>;
  for (const l of PEER_LAYOUTS) seconds[l] = await probe(l);
  const layout = PEER_LAYOUTS.reduce((a, b) => (seconds[b] < seconds[a] ? b : a));
  const note =
    `peer layout ${layout}, the faster of one timed probe each: ` +
    PEER_LAYOUTS.map((l) => `${l} ${seconds[l].toPrecision(3)} s`).join(', ');
  return { layout, seconds, note };
}

/** Peak resident memory of this process, MiB (`process.resourceUsage().maxRSS`). */
export const ourMaxRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

/** An images/s row of ours vs the PyTorch peer at `threads` threads (null peer: absent). */
export function torchRow(o: {
  scenario: string;
  ours: number;
  peer: number | null;
  torch: TorchPeer | null;
  threads: number;
  notes: string[];
}): BenchRow {
  return {
    scenario: o.scenario,
    unit: 'images/s',
    higherIsBetter: true,
    ours: o.ours,
    peer: o.peer,
    peerName: o.torch
      ? `${o.torch.versions} (Debian), ${threadWord(o.threads)}`
      : 'PyTorch (absent)',
    speedRatio: speedRatio(o.ours, o.peer, true),
    backend: ourBackend(),
    notes: o.notes,
  };
}
