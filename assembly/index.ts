// The WebAssembly kernel bodies (AssemblyScript, SIMD): the same names as src/backends/ref, taking byte
// pointers into the shared memory and sizes. Nothing is allocated here; scratch comes from the caller.
export { panelRows, panelCols, packedBytes, packA, packB, gemmRowPanels, gemmColPanels } from './gemm';
export { planBytes } from './plan';
export {
  planConvForward, planConvBackwardInput, planConvBackwardWeight, convPackWeights, conv2dForward, conv2dBackwardInput, conv2dWeightGroups,
  convInputSparse,
} from './conv';
export { spikeLinear, spikeLinearRows, spikeLinearBackwardWeight, spikeLinearWeightBlocks, spikeLinearWeightScratchBytes } from './spike';
export {
  planSpikeConvForward, planSpikeConvBackwardWeight, spikeConvForwardPack, spikeConv2dForward, spikeConvWeightGroups, spikeConvUnpackWeights,
} from './spike-conv';
export { maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward } from './pool';
export { addInto, zero, fillBytes, transpose, countNonZero } from './geom';
export { biasAdd, biasGrad } from './bias';
export { neuronForward, neuronBackwardGroups } from './neuron';
export { spikeLinearQ, spikeLinearQPack, spikeLinearQPackedBytes, spikeLinearQScratchBytes } from './quant';
export { planSpikeConvQ, spikeConvQPack, spikeConv2dQ } from './quant-conv';
export { qlifForward } from './qlif';

/** First byte past the module's static data: the JS arena starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
