/**
 * The official CARP trainer's command line and hard-coded settings, as read from the
 * public sthalles/carp repository: `get_args_parser()` of main_carp.py (every argument's
 * name, type and default, in the parser's order) and the values its code fixes without an
 * argument (modules/view_generator.py, modules/carp_head.py, utils.py's LARS and
 * cosine_scheduler, main_carp.py's teacher schedule). `carp export-config --format
 * official` (officialTrainer.ts) maps a kit config onto these.
 */

/** How argparse reads an argument: its `type=` (`bool` is utils.bool_flag). */
export type OfficialArgType = 'str' | 'int' | 'float' | 'bool' | 'float+';

export interface OfficialArg {
  name: string;
  type: OfficialArgType;
  /** The parser's default, as Python holds it. */
  default: string | number | boolean | readonly number[];
}

/** `get_args_parser()`, in order. */
export const OFFICIAL_ARGS: readonly OfficialArg[] = [
  { name: 'arch', type: 'str', default: 'resnet50' },
  { name: 'out_dim', type: 'int', default: 65536 },
  { name: 'norm_last_layer', type: 'bool', default: true },
  { name: 'momentum_teacher', type: 'float', default: 0.99 },
  { name: 'use_bn_in_head', type: 'bool', default: true },
  { name: 'use_fp16', type: 'bool', default: true },
  { name: 'weight_decay', type: 'float', default: 0.000001 },
  { name: 'weight_decay_end', type: 'float', default: 0.000001 },
  { name: 'gradient_accumulation_steps', type: 'int', default: 1 },
  { name: 'batch_size_per_gpu', type: 'int', default: 32 },
  { name: 'epochs', type: 'int', default: 100 },
  { name: 'lr', type: 'float', default: 0.45 },
  { name: 'warmup_epochs', type: 'int', default: 0 },
  { name: 'min_lr', type: 'float', default: 0.0048 },
  { name: 'optimizer', type: 'str', default: 'lars' },
  { name: 'partition_size', type: 'int', default: 512 },
  { name: 'bottleneck_dim', type: 'int', default: 256 },
  { name: 'global_crops_scale', type: 'float+', default: [0.2, 1] },
  { name: 'local_crops_number', type: 'int', default: 6 },
  { name: 'local_crops_scale', type: 'float+', default: [0.05, 0.2] },
  { name: 'data_path', type: 'str', default: '../../../../../../data/ImageNet2012/train' },
  { name: 'resume_from_dir', type: 'str', default: '.' },
  { name: 'saveckp_freq', type: 'int', default: 25 },
  { name: 'print_freq', type: 'int', default: 100 },
  { name: 'seed', type: 'int', default: 0 },
  { name: 'num_workers', type: 'int', default: 8 },
  { name: 'dist_url', type: 'str', default: 'env://' },
  { name: 'local_rank', type: 'int', default: 0 },
];

/** The torchvision ResNets `--arch` accepts that the kit also builds. */
export const OFFICIAL_ARCHS = ['resnet18', 'resnet34', 'resnet50'] as const;

/**
 * Settings the official code fixes (no argument): a kit config must hold exactly these
 * values to be reproducible there. Keyed by the kit's dotted key.
 */
export const OFFICIAL_FIXED: Readonly<Record<string, { value: unknown; where: string }>> = {
  'model.width': { value: 64, where: "torchvision's ResNet (base width 64)" },
  'model.cifarStem': { value: false, where: "torchvision's ResNet (7×7 stem and max-pool)" },
  'model.inChannels': { value: 3, where: 'ImageFolder loads RGB images' },
  'model.hiddenDim': { value: 2048, where: 'CARPHead(hidden_dim=2048)' },
  'model.headLayers': { value: 3, where: 'CARPHead(nlayers=3)' },
  'crops.globalCount': { value: 2, where: 'ViewGenerator (two global crops)' },
  'crops.globalSize': { value: 224, where: 'ViewGenerator (RandomResizedCrop(224))' },
  'crops.localSize': { value: 96, where: 'ViewGenerator (RandomResizedCrop(96))' },
  'crops.ratio': { value: [3 / 4, 4 / 3], where: "RandomResizedCrop's default ratio" },
  'crops.flipProb': { value: 0.5, where: 'RandomHorizontalFlip(p=0.5)' },
  'crops.jitterProb': { value: 0.8, where: 'RandomApply([ColorJitter], p=0.8)' },
  'crops.brightness': { value: 0.4, where: 'ColorJitter(brightness=0.4)' },
  'crops.contrast': { value: 0.4, where: 'ColorJitter(contrast=0.4)' },
  'crops.saturation': { value: 0.2, where: 'ColorJitter(saturation=0.2)' },
  'crops.hue': { value: 0.1, where: 'ColorJitter(hue=0.1)' },
  'crops.grayscaleProb': { value: 0.2, where: 'RandomGrayscale(p=0.2)' },
  'crops.blurSigma': { value: [0.1, 2], where: 'GaussianBlur([.1, 2.])' },
  'crops.blurProb': { value: [1, 0.1, 0.5], where: 'ViewGenerator blur p = 1.0, 0.1, 0.5' },
  'crops.solarizeProb': { value: [0, 0.2, 0], where: 'ViewGenerator solarisation p = 0, 0.2, 0' },
  'crops.mean': { value: [0.485, 0.456, 0.406], where: 'Normalize((0.485, 0.456, 0.406), …)' },
  'crops.std': { value: [0.229, 0.224, 0.225], where: 'Normalize(…, (0.229, 0.224, 0.225))' },
  'crops.filter': { value: 'bicubic', where: 'RandomResizedCrop(interpolation=BICUBIC)' },
  'optim.momentum': { value: 0.9, where: 'utils.LARS(momentum=0.9)' },
  'optim.eta': { value: 0.001, where: 'utils.LARS(eta=0.001)' },
  'teacher.momentumEnd': { value: 1, where: 'cosine_scheduler(momentum_teacher, 1, …)' },
  'loss.regWeight': {
    value: 1,
    where: 'modules/carp_loss.py (consistency + entropy, both weight 1)',
  },
  'data.limit': { value: null, where: 'ImageFolder reads the whole --data_path' },
};
