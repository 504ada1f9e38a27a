/**
 * carp-kit's public API: the package's only entry point (`import { … } from 'carp-kit'`,
 * the `exports` map of package.json); notebooks and users import from here. The names
 * exported here are a contract: keep them stable.
 */

// --- TensorFlow.js and backends (docs/architecture.md §4) ---
export { tf } from './backend/tf';
export type {
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Tensor4D,
  Scalar,
  Variable,
} from './backend/tf';
export {
  selectBackend,
  currentBackend,
  parseBackendName,
  BACKEND_NAMES,
} from './backend/selectBackend';
export type { BackendChoice, BackendName } from './backend/selectBackend';
export { tryWebgpu, shutdownWebgpu, currentWebgpu } from './backend/webgpu';
export type { WebgpuChoice, WebgpuAdapterSummary } from './backend/webgpu';

// --- randomness ---
export { createRng } from './random';
export type { Rng, RngState } from './random';

// --- configuration (§5.5; docs/architecture.md §5) ---
export type {
  CarpConfig,
  ModelConfig,
  CropConfig,
  OptimConfig,
  TeacherConfig,
  LossConfig,
  TrainConfig,
  DataConfig,
} from './config/schema';
export { PAPER_DEFAULTS } from './config/schema';
export { PRESETS, presetNames } from './config/presets';
export {
  PAPER_IMAGENET_RESULTS,
  PAPER_IMAGENET_RESULTS_EARLIER,
  PAPER_LINEAR_LOG,
  OFFICIAL_CHECKPOINTS,
  OFFICIAL_CHECKPOINT_SOURCE,
} from './config/paperResults';
export type { PaperImageNetResult, OfficialCheckpoint } from './config/paperResults';
export { resolveConfig } from './config/resolve';
export { validateConfig, ConfigError } from './config/validate';
export {
  numCrops,
  numBlocks,
  effectiveBatch,
  scaledLr,
  itersPerEpoch,
  networkSpec,
  multiCropSettings,
} from './config/derived';

// --- the method (§2–§4) ---
export { samplePartition, partitionProbabilities } from './carp/randomPartition';
export {
  blockPseudoLabelAccuracy,
  carpLoss,
  pseudoLabelAccuracy,
  CARP_EPSILON,
} from './carp/carpLoss';
export type { CarpLossTerms } from './carp/carpLoss';
export { carpLossFromLogits, hasFusedCarpLoss } from './carp/fusedCarpLoss';
export type { StudentLoss } from './carp/fusedCarpLoss';
export { carpLossAnatomy, repeatLogits, lossState, sharpnessSweep } from './carp/lossAnatomy';
export type { CarpLossAnatomy, LossAnatomyInput, LossPair, SweepPoint } from './carp/lossAnatomy';
export { WORKED_EXAMPLE, checkWorkedExample, workedExampleInput } from './carp/workedExample';
export type { WorkedExampleCheck, WorkedExampleValues } from './carp/workedExample';
export { updateTeacher } from './carp/teacherEma';
export { trainStep, CarpTrainState, isOptimizerStep } from './carp/trainStep';
export type { StepHyperParameters, StepResult } from './carp/trainStep';

// --- models (§2) ---
export { resnetSpec, resnetFeatureDim, RESNET_ARCHS } from './models/resnet';
export type { ResNetSpec, ResNetArch } from './models/resnet';
export type { HeadSpec } from './models/carpHead';
export {
  carpNetworkSpec,
  createCarpParams,
  multiCropForward,
  backboneFeatures,
  splitViews,
  groupViewsByResolution,
} from './models/carpNetwork';
export type { CarpNetworkSpec } from './models/carpNetwork';
export { ParamStore } from './models/params';

// --- optimisation (§5) ---
export { LARS } from './optim/lars';
export { cosineSchedule } from './optim/schedules';
export { parameterGroups, isRegularised } from './optim/parameterGroups';

// --- data (§6, §9.9) ---
export type { ImageDataset } from './data/dataset';
export type { ImageSource } from './data/source';
export { memorySource } from './data/source';
export { loadFashionMnist, FASHION_MNIST_CLASSES } from './data/fashionMnist';
export { openDataset, materialize } from './data/datasets';
export { DataLoader } from './data/loader';
export { multiCropViews } from './data/multiCropViews';
export { normalizeImages, denormalizeImages, IMAGENET_MEAN, IMAGENET_STD } from './data/normalize';
export { writePrepared } from './data/prepared';
export { readPrepared, openPrepared, verifyPrepared } from './data/preparedRead';

// --- training (§7) ---
export { pretrain, LATEST_CHECKPOINT } from './train/trainer';
export type { PretrainOptions, PretrainResult } from './train/trainer';
export type { StepMetrics } from './train/metricsLog';
export { readMetrics } from './train/metricsLog';
export { loadTeacher } from './interop/loadTeacher';
export type { LoadedTeacher } from './interop/loadTeacher';
export { readCheckpoint } from './interop/carpCheckpoint';
export { ensureRun } from './train/ensureRun';
export type { EnsureRunOptions, EnsureRunResult } from './train/ensureRun';
export { randomInitTeacher, reestimateBatchNorm, BN_REESTIMATE_BATCH } from './train/randomTeacher';

// --- evaluation (§9): pure maths, one runner per protocol, features, results ---
export { weightedKnn } from './eval/math/knn';
export type { WeightedKnnOptions, KnnResult } from './eval/math/knn';
export { clusteringMetrics } from './eval/math/clusteringMetrics';
export type { ClusteringMetrics } from './eval/math/clusteringMetrics';
export { vocAveragePrecision } from './eval/math/vocAp';
export { revisitedMeanAP, revisitedPrecisionAtK } from './eval/math/retrievalMap';
export { kmeansEvaluation, sphericalKmeans, standardize } from './eval/math/kmeans';
export { prototypeUsage } from './eval/math/prototypeUsage';
export type { PrototypeUsage } from './eval/math/prototypeUsage';
export { vocSvmEvaluation, lowShotVocSvm } from './eval/math/vocSvm';
export { retrievalEvaluation, rankByCosine } from './eval/math/ranking';
export { learnWhitening, applyWhitening } from './eval/math/whitening';
export { copyDetectionEvaluation } from './eval/math/copyDetection';
export { l2NormalizeRows, vocNormalizeRows } from './eval/math/rowNorm';
export {
  trainLinearClassifier,
  evaluateLinear,
  momentumSgdUpdate,
} from './eval/math/linearClassifier';
export type { LinearClassifierResult, LinearEpoch } from './eval/math/linearClassifier';
export {
  evalTransform,
  teacherInput,
  defaultEvalDataset,
  checkEvalInput,
  weightsDigest,
} from './eval/context';
export type { EvalContext, TeacherInput, NamedTransform } from './eval/context';
export { extractFeatures, sliceFeatures, defaultFeatureBatch } from './eval/features';
export type { FeatureSet } from './eval/features';
export { cachedFeatures, sourceIdentity } from './eval/featureCache';
export type { FeatureKey } from './eval/featureCache';
export { splitFeatures, sourceFeatures, bankAndQueries } from './eval/splitFeatures';
export {
  pixelFeatures,
  networkExtractor,
  cachedExtractor,
  contextExtractor,
  extractChecked,
} from './eval/extractors';
export type { FeatureExtractor } from './eval/extractors';
export {
  createEvalResult,
  writeEvalResult,
  readEvalResults,
  evalResultName,
  resultVariant,
} from './eval/results';
export type { EvalResult } from './eval/results';
export * from './eval/protocols';
export * from './eval/deprecated';
export { augmentedFeatureBatches, augmentSettings } from './eval/augmentedFeatures';
export type { AugmentedBatchesOptions } from './eval/augmentedFeatures';
// Offline Fashion-MNIST stand-ins of the paper's few-shot, retrieval and copy-detection sets.
export * from './data/proxies/fewShotProxy';
export * from './data/proxies/retrievalProxy';
export * from './data/proxies/copyDetectionProxy';
export * from './data/proxies/copyEdits';
export { listImageFiles, fileListSource } from './data/fileSource';
export { sampleKPerClass } from './data/classSampling';
export { subsetSource } from './data/source';

// --- search (faiss, or the exact fallback) ---
export {
  FlatIndex,
  kmeansFaiss,
  setFaissThreads,
  getFaissThreads,
  faissAvailable,
  searchEngine,
  KMEANS_DEFAULTS,
} from './search/faiss';
export type {
  FaissMetric,
  SearchResult,
  SearchEngineName,
  KmeansOptions,
  KmeansResult,
} from './search/faiss';

// --- the official PyTorch trainer (ImageNet-scale pretraining under torchrun/DDP) ---
export { officialCommand, OfficialExportError } from './interop/officialTrainer';
export type { OfficialCommand, OfficialCommandOptions } from './interop/officialTrainer';

// --- PyTorch interop (§8) ---
export * from './interop';
export { torchAvailable, torchParityCheck, DEFAULT_TORCH_PYTHON } from './interop/parityCheck';
export type {
  TorchAvailability,
  TorchParityOptions,
  TorchParityResult,
} from './interop/parityCheck';

// --- TensorBoard event files (the official trainer's curves; the kit's metrics for TensorBoard) ---
export {
  EventFileError,
  readEventFile,
  readTensorBoardRuns,
  findEventFiles,
  writeEventFile,
  writeRunEvents,
  kitScalarRows,
  KIT_TAGS,
} from './interop/tensorboard';
export type {
  EventFileProblem,
  EventFileScalars,
  ScalarPoint,
  ScalarRow,
  TensorBoardRun,
} from './interop/tensorboard';

// --- figures, notebook display, reports ---
export * from './viz';

// --- experiments: what the quickstart and the notebooks run end to end ---
export { knnBaselines, BN_REESTIMATE_IMAGES } from './experiments/knnBaselines';
export type { KnnBaselines, KnnBaselineRow } from './experiments/knnBaselines';
export {
  notebookContext,
  NOTEBOOK_PRESET,
  NOTEBOOK_CI_PRESET,
  NOTEBOOK_CI_EVAL_LIMIT,
} from './experiments/notebookContext';
export type { NotebookContext, SharedRun, DatasetSizes } from './experiments/notebookContext';
export {
  ABLATION_BASES,
  ablationsFor,
  ablationRunName,
  runAblation,
  ablationTable,
  ablationCurves,
} from './experiments/ablations';
export type { Ablation, AblationBase, AblationRow, AblationVariant } from './experiments/ablations';
