/**
 * The reference backend: plain TypeScript loops, the readable definition of every kernel in the contract.
 */
import type { Kernels } from '../../kernels/contract.js';
import { biasAdd, biasGrad } from './bias.js';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from './conv.js';
import { gemm } from './gemm.js';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from './pool.js';
import { spikeConv2dBackwardWeight, spikeConv2dForward, spikeLinear, spikeLinearBackwardWeight } from './spike.js';

/** The reference kernel table. */
export const refKernels: Kernels = {
  gemm,
  conv2dForward,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  spikeLinear,
  spikeLinearBackwardWeight,
  spikeConv2dForward,
  spikeConv2dBackwardWeight,
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,
  biasAdd,
  biasGrad,
};
