/**
 * PyTorch interop (§8): read `.pth` checkpoints without Python (restricted unpickler,
 * allow-listed globals), map them onto carp-kit's networks, and export ours for PyTorch.
 * The public subset that src/index.ts re-exports.
 */
export {
  loadTorchCheckpoint,
  toPlain,
  type LoadTorchCheckpointOptions,
  type TorchCheckpoint,
  type TorchCheckpointMeta,
} from './checkpoint';
export { openTorchFile, type OpenTorchFileOptions, type TorchFile } from './torchFile';
export {
  canonicalKey,
  mapToCarpKit,
  type MapOptions,
  type MappedCheckpoint,
  type ParamTarget,
} from './mapping';
export {
  assignToParams,
  IncompleteCheckpointError,
  inferCarpNetworkSpec,
  loadCarpNetwork,
  type Completeness,
  type InferredNetworkSpec,
  type LoadedNetwork,
} from './loadNetwork';
export { saveTorchPth, saveTorchSafetensors, toTorchStateDict, type ExportOptions } from './export';
export { encodeTorchFile, type TorchWritable } from './torchWriter';
export { PickleError, UnsafePickleError } from '../util/pickle';
export { FormatError, IntegrityError } from '../util/formatError';
export { ALLOWED_GLOBALS } from './torchGlobals';
export type { TorchDtype, TorchTensor } from './torchTensor';
