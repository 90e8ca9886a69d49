/**
 * The part of edgespike's public API that runs in a browser as well as in Node: tensors, ops, kernels,
 * neurons, notation, zoo, networks, optimizers, losses and accounting, with no node:* module and no npm
 * package in its import graph. In a browser: `await initWasm()` first (setThreads(n) before it for Web Workers).
 * Training loops with files and progress bars (train, evaluate), model files and data sets stay in index.ts.
 */
export { EdgespikeError } from './util/errors.js';
export { Tensor, tensor, zeros, ones, full, scalar, parameter, numel, type Shape } from './tensor/tensor.js';
export { backward, noGrad, isGradEnabled } from './tensor/tape.js';
export { workspace, floats, isLent } from './tensor/storage.js';
export * as ops from './ops/index.js';
export { kernels, setBackend, setThreads, backendInfo, initWasm, spikeDensity, preferSpike, type BackendInfo, type BackendName, type InitWasmOptions } from './backends/index.js';
export type { Kernels, ConvGeom, PoolGeom } from './kernels/contract.js';
export type { NeuronKernels, NeuronKernelParams } from './kernels/neuron.js';
export { SURROGATES, surrogate, customSurrogate, type Surrogate, type SurrogateName } from './neurons/surrogate.js';
export { NEURON_DEFAULTS, NEURON_PRESETS, neuronParams, type NeuronParams, type NeuronPreset } from './neurons/neuron.js';
export { neuronStep, spikeFn } from './neurons/step.js';
export { neuronRun } from './neurons/run.js';
export * from './notation/index.js';
export { zoo, zooNames, ZOO, type ZooModel, type ZooName } from './models/zoo.js';
export { SpikingNet, READOUTS, type NetConfig, type NetOutput, type ReadoutMode, type Activation, type ActForm, type PartialRun, type RunOptions } from './layers/net.js';
export { INPUT, NODE_OPS, checkGraph, nodeTensors, nodeOutputShape, ancestors, isRecurrent, sameGraph, type ModelGraph, type GraphNode, type GraphInfo, type NodeOp, type NodeTensor, type ConvAttrs } from './graph/graph.js';
export { graphFromSpec, type BuildOptions } from './graph/build.js';
export { describeGraph, formatGraph, nodeDetail, type NodeRow } from './graph/describe.js';
export { cut, keepChannels, replaceNode, replaceNeuron, replaceHead, insertNode, removeNode } from './layers/edit.js';
export { encode, ENCODERS, type EncoderSpec } from './layers/encode.js';
export { makeBatch } from './data/batch.js';
export { Optimizer, clipGradNorm, scheduledLr, type OptimConfig, type Schedule } from './train/optim.js';
export { lossOf, LOSSES, type LossSpec } from './train/loss.js';
export { archReport, graphArchReport, formatArchTable, megabytes, mbTrunc2, ARCH_CONVENTIONS } from './metrics/arch.js';
export { runReport, latencyReport, ENERGY_PRESETS, type RunReport, type EnergyModel } from './metrics/run.js';
export { Monitor } from './metrics/monitor.js';
export type { Dataset } from './data/dataset.js';
export { limit } from './data/dataset.js';
export { Rng } from './data/rng.js';
export { netFromBytes, netToBytes, type LoadedNet, type ModelMeta } from './train/net-codec.js';
export { parseModel, serializeTagged, quantizeTensor, STORE_DTYPES, type StoreDtype, type FloatTensor } from './io/model-codec.js';
export { parseSafetensors, serializeSafetensors } from './io/safetensors-codec.js';
export { quantizeNet, freezeQuant, type QuantizeOptions } from './layers/quantize.js';
export { fitGates, type GateFit, type GateFitOptions } from './layers/gate-fit.js';
export { convertScatterGather } from './layers/convert.js';
