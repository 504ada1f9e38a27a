/**
 * From a PyTorch `.pth` to a ready carp-kit network (§8, §9.0): read the state
 * dictionary (teacher by default), infer the architecture from its keys and shapes,
 * build a parameter store of that shape and fill it through `mapToCarpKit`.
 *
 * Inference needs no `args`: the ResNet family and widths come from the keys (`conv3`
 * means bottleneck blocks; blocks per stage from `layer<s>.<j>`; base width and stem from
 * `conv1.weight`), the head from `head.mlp.*` and `head.last_layer.weight_v`. A file without
 * head keys (torchvision's) gives a backbone-only network (`spec.head === null`).
 */
import { tf } from '../backend/tf';
import { createRng } from '../random';
import { initCarpHead, type HeadSpec } from '../models/carpHead';
import { ParamStore } from '../models/params';
import { initResNet, type ResNetSpec } from '../models/resnet';
import { FormatError } from '../util/formatError';
import { warn } from '../util/warn';
import { loadTorchCheckpoint, type TorchCheckpointMeta } from './checkpoint';
import { canonicalKey, mapToCarpKit, type MappedCheckpoint } from './mapping';
import type { TorchTensor } from './torchTensor';

export interface InferredNetworkSpec {
  backbone: ResNetSpec;
  /** null when the state_dict has no `head.*` keys. */
  head: HeadSpec | null;
}

/** Architecture of a (CARP or torchvision) ResNet state_dict, from its keys and shapes. */
export function inferCarpNetworkSpec(tensors: Map<string, TorchTensor>): InferredNetworkSpec {
  const byName = new Map<string, TorchTensor>();
  for (const [k, t] of tensors) byName.set(canonicalKey(k), t);
  const conv1 = byName.get('conv1.weight');
  if (!conv1 || conv1.shape.length !== 4) {
    throw new Error(
      `inferCarpNetworkSpec: no 4-D 'conv1.weight' (after removing 'module.'/'backbone.'); ` +
        `is this a ResNet state_dict? first keys: ${[...tensors.keys()].slice(0, 4).join(', ')}`,
    );
  }
  const [width, inChannels, k] = conv1.shape;
  if (k !== 7 && k !== 3)
    throw new Error(
      `inferCarpNetworkSpec: conv1 kernel ${k}×${k} is neither 7 (ImageNet) nor 3 (CIFAR) `,
    );
  // Blocks per stage from any key of the block (a missing weight must be reported as
  // missing, not shrink the inferred architecture).
  const layers = [1, 2, 3, 4].map((s) => {
    let n = 0;
    for (const k of byName.keys()) {
      const m = new RegExp(`^layer${s}\\.(\\d+)\\.`).exec(k);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    return n;
  });
  if (layers.some((n) => n === 0)) {
    throw new Error(
      `inferCarpNetworkSpec: blocks per stage [${layers}]: every stage needs a block`,
    );
  }
  const backbone: ResNetSpec = {
    block: [...byName.keys()].some((k) => /^layer\d\.\d+\.(conv3|bn3)\./.test(k))
      ? 'bottleneck'
      : 'basic',
    layers,
    width,
    cifarStem: k === 3,
    inChannels,
  };
  return { backbone, head: inferHead(byName) };
}

function inferHead(byName: Map<string, TorchTensor>): HeadSpec | null {
  const v = byName.get('head.last_layer.weight_v');
  if (!v) return null;
  const linears = [...byName.keys()]
    .map((n) => /^head\.mlp(?:\.(\d+))?\.weight$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && byName.get(m[0])!.shape.length === 2)
    .sort((a, b) => Number(a[1] ?? 0) - Number(b[1] ?? 0))
    .map((m) => byName.get(m[0])!.shape);
  if (linears.length === 0)
    throw new Error(`inferCarpNetworkSpec: 'head.last_layer' without 'head.mlp' linears`);
  return {
    inDim: linears[0][1],
    // A one-layer head has no hidden width; HeadSpec still wants a positive one.
    hiddenDim: linears[0][0],
    bottleneckDim: linears[linears.length - 1][0],
    numPrototypes: v.shape[0],
    batchNorm: byName.has('head.mlp.1.running_mean'),
    numLayers: linears.length,
  };
}

/** Writes mapped arrays into the store's variables (shapes were checked by the mapping). */
export function assignToParams(store: ParamStore, mapped: MappedCheckpoint): void {
  for (const [name, a] of mapped.arrays) {
    const v = store.get(name);
    tf.tidy(() => v.assign(tf.tensor(a.data as Float32Array | Int32Array, a.shape, v.dtype)));
  }
}

export interface LoadedNetwork {
  params: ParamStore;
  spec: InferredNetworkSpec;
  /** Our names the file lacked (left at their initial values): only non-essential ones. */
  missing: string[];
  /** File keys with no place in the network (e.g. torchvision's `fc.*`). */
  unexpected: string[];
  meta: TorchCheckpointMeta;
}

/**
 * What a load needs complete: `backbone` (every frozen-feature protocol: backbone weights
 * and BN statistics), `network` (also the head: prototype protocols), `none` (tests).
 */
export type Completeness = 'backbone' | 'network' | 'none';

/** A checkpoint that lacks weights the requested use cannot do without. */
export class IncompleteCheckpointError extends FormatError {
  override name = 'IncompleteCheckpointError';
  constructor(
    file: string,
    readonly missing: string[],
    need: Completeness,
  ) {
    super(
      file,
      `the ${need === 'network' ? 'network' : 'backbone'} is incomplete: ${missing.length} ` +
        `key(s) missing, which would stay at random values: ${missing.join(', ')}`,
    );
  }
}

/** `num_batches_tracked` only counts BN updates (unused with momentum 0.1): never essential. */
const isCounter = (name: string): boolean => name.endsWith('.num_batches_tracked');

/** Splits missing names into those `need` cannot do without and the rest. */
export function classifyMissing(
  missing: string[],
  need: Completeness,
): { essential: string[]; other: string[] } {
  const essential = (n: string): boolean =>
    need !== 'none' &&
    !isCounter(n) &&
    (n.startsWith('backbone.') || (need === 'network' && n.startsWith('head.')));
  return { essential: missing.filter(essential), other: missing.filter((n) => !essential(n)) };
}

/**
 * Applies a completeness policy to a load's key lists: essential missing keys are an
 * `IncompleteCheckpointError` listing them; other missing keys and unexpected keys are
 * one warning line each.
 */
export function checkCompleteness(
  file: string,
  missing: string[],
  unexpected: string[],
  need: Completeness,
): void {
  const { essential, other } = classifyMissing(missing, need);
  if (essential.length > 0) throw new IncompleteCheckpointError(file, essential, need);
  if (other.length > 0) {
    warn(
      `${file}: ${other.length} non-essential key(s) missing (left as initialised): ${other.join(', ')}`,
    );
  }
  if (unexpected.length > 0) {
    warn(`${file}: ${unexpected.length} key(s) not used by the network: ${unexpected.join(', ')}`);
  }
}

/**
 * Loads `teacher` (or `opts.entry`) of a `.pth` into a new store (`backbone.*`, `head.*`
 * when the file has a head). A file whose backbone (or, with `need: 'network'`, head) is
 * incomplete is refused with the list of missing keys (`need`, default `backbone`);
 * non-essential missing keys (`num_batches_tracked`, the head when only the backbone is
 * needed) and unexpected keys (torchvision's `fc.*`) are one warning line each and are
 * returned. `strict` refuses anything missing or unexpected. The caller owns `params`.
 */
export function loadCarpNetwork(
  path: string,
  opts: {
    entry?: string;
    label?: string;
    strict?: boolean;
    inertGlobals?: boolean;
    need?: Completeness;
  } = {},
): LoadedNetwork {
  const ckpt = loadTorchCheckpoint(path, { entry: opts.entry, inertGlobals: opts.inertGlobals });
  const spec = inferCarpNetworkSpec(ckpt.tensors);
  const params = new ParamStore(opts.label ?? 'checkpoint', false);
  try {
    // The draws only fill entries that the file lacks (reported as `missing`).
    const rng = createRng(0);
    initResNet(params.scope('backbone.'), spec.backbone, rng);
    if (spec.head) initCarpHead(params.scope('head.'), spec.head, rng);
    const mapped = mapToCarpKit(ckpt.tensors, params, { strict: opts.strict });
    checkCompleteness(path, mapped.missing, mapped.unexpected, opts.need ?? 'backbone');
    assignToParams(params, mapped);
    return {
      params,
      spec,
      missing: mapped.missing,
      unexpected: mapped.unexpected,
      meta: ckpt.meta,
    };
  } catch (e) {
    params.dispose();
    throw e;
  }
}
