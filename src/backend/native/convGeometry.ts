/**
 * The convolution geometry the native addon takes (carp_native.cc `readConv`), from
 * tfjs's conv attributes: shared by the conv kernels (./kernels.ts) and the folded
 * evaluation kernel (./convBnKernel.ts).
 */
import { tf } from '../tf';

export type Shape4 = [number, number, number, number];

export interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

/** The 15 numbers of the addon's conv geometry (carp_native.cc `readConv`). */
export function geometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  ];
}

export function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs) {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1, // the gradients have none (tfjs: no dilated conv gradients)
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}
