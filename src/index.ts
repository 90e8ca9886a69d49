/**
 * edgespike's public API. Everything here is re-exported from the folders below; files whose names
 * start with _ are internal.
 */
export { EdgespikeError } from './util/errors.js';
export { Tensor, tensor, zeros, ones, full, scalar, parameter, numel, type Shape } from './tensor/tensor.js';
export { backward, noGrad, isGradEnabled } from './tensor/tape.js';
export { workspace, floats, isLent } from './tensor/storage.js';
export * as ops from './ops/index.js';
export { kernels, setBackend, setThreads, backendInfo, initWasm, spikeDensity, preferSpike } from './backends/index.js';
export type { Kernels, ConvGeom, PoolGeom } from './kernels/contract.js';
export type { NeuronKernels, NeuronKernelParams } from './kernels/neuron.js';
export { SURROGATES, surrogate, customSurrogate, type Surrogate, type SurrogateName } from './neurons/surrogate.js';
export { NEURON_DEFAULTS, NEURON_PRESETS, neuronParams, type NeuronParams, type NeuronPreset } from './neurons/neuron.js';
export { neuronStep, spikeFn } from './neurons/step.js';
export { neuronRun } from './neurons/run.js';
export * from './notation/index.js';
export { zoo, zooNames, ZOO, type ZooModel, type ZooName } from './models/zoo.js';
export { SpikingNet, READOUTS, type NetConfig, type NetOutput, type ReadoutMode } from './layers/net.js';
export { encode, ENCODERS, type EncoderSpec } from './layers/encode.js';
export { train, evaluate, type TrainConfig, type EpochRecord } from './train/trainer.js';
export { makeBatch } from './data/batch.js';
export { Optimizer, clipGradNorm, scheduledLr, type OptimConfig, type Schedule } from './train/optim.js';
export { lossOf, LOSSES, type LossSpec } from './train/loss.js';
export { saveNet, loadNet } from './train/model-file.js';
export { archReport, formatArchTable, megabytes, mbTrunc2, ARCH_CONVENTIONS } from './metrics/arch.js';
export { runReport, latencyReport, ENERGY_PRESETS, type RunReport, type EnergyModel } from './metrics/run.js';
export { Monitor } from './metrics/monitor.js';
export type { Dataset } from './data/dataset.js';
export { limit } from './data/dataset.js';
export { Rng } from './data/rng.js';
export { mnist } from './data/mnist.js';
export { fashionMnist } from './data/fashion.js';
export { cifar10, cifar100 } from './data/cifar.js';
export { staticDataset } from './data/registry.js';
export * as events from './data/events/index.js';
export * as audio from './data/audio/index.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
